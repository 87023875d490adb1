"""The exception tree. Every message says what is wrong and what to do about it.

    RagError
    ├── CorpusError
    │   ├── CorpusNotFound        a path given to index does not exist
    │   └── CorpusFormatError     empty, binary, undecodable or structureless input
    ├── IndexError_
    │   ├── IndexMissing          no index where one was expected
    │   ├── IndexCorrupt          a checksum or a file does not match the manifest
    │   └── IndexStale            built from other sources, model or parameters
    ├── ModelError                the embedding model cannot be loaded
    ├── QueryError                an empty or unusable question
    │   └── SectionNotFound       a section filter that names no section
    └── DatasetError              an evaluation file that cannot be used

The CLI prints ``str(error)`` on one line with a non-zero exit; the API maps them to 4xx/503.
"""

from __future__ import annotations


class RagError(Exception):
    """Base class: anything the user can fix by doing what the message says."""

    exit_code = 1


class CorpusError(RagError):
    exit_code = 2


class CorpusNotFound(CorpusError):
    pass


class CorpusFormatError(CorpusError):
    pass


class IndexError_(RagError):
    exit_code = 3


class IndexMissing(IndexError_):
    pass


class IndexCorrupt(IndexError_):
    pass


class IndexStale(IndexError_):
    pass


class ModelError(RagError):
    exit_code = 4


class QueryError(RagError):
    exit_code = 2


class SectionNotFound(QueryError):
    pass


class DatasetError(RagError):
    exit_code = 2


__all__ = [
    "CorpusError",
    "CorpusFormatError",
    "CorpusNotFound",
    "DatasetError",
    "IndexCorrupt",
    "IndexError_",
    "IndexMissing",
    "IndexStale",
    "ModelError",
    "QueryError",
    "RagError",
    "SectionNotFound",
]
