"""Turn brief files into :class:`~rag.records.Document` records."""

from rag.parsing.loader import discover, load_documents, load_sources, parse_file
from rag.parsing.readers import Reader, ReadOptions, register

__all__ = [
    "ReadOptions",
    "Reader",
    "discover",
    "load_documents",
    "load_sources",
    "parse_file",
    "register",
]
