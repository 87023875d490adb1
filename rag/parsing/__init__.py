"""Turn brief files into :class:`~rag.records.Document` records."""

from rag.parsing.loader import discover, load_documents, load_sources, parse_file

__all__ = ["discover", "load_documents", "load_sources", "parse_file"]
