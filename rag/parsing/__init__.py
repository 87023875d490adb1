"""Turn brief files into :class:`~rag.records.Document` records."""

from rag.parsing.loader import discover, load_documents, parse_file

__all__ = ["discover", "load_documents", "parse_file"]
