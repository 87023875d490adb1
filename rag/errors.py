"""The exception tree. Every error the library raises is one of these, and every message
says what is wrong and what to do about it, in the library's own words (no HTTP routes,
no CLI flags): the shells add their own hints.

    RagError
    ├── ConfigError               a setting (RAG_* variable) has an unusable value
    ├── CorpusError
    │   ├── CorpusNotFound        a path given to index does not exist
    │   └── CorpusFormatError     empty, binary, undecodable or structureless input
    ├── IndexError_
    │   ├── IndexMissing          no index where one was expected
    │   ├── IndexCorrupt          a checksum or a file does not match the manifest
    │   ├── IndexStale            built from other sources, model or parameters
    │   ├── IndexUnwritable       the index cannot be written there (read-only, full, a file)
    │   └── IndexPathTaken        the index path holds something that is not an index
    ├── ModelError                the embedding model or tokenizer cannot be loaded
    ├── QueryError                an empty, overlong or unusable question or parameter
    │   ├── SectionNotFound       a section filter that names no section
    │   └── DocumentNotFound      a document scope that names no indexed brief
    ├── GeneratorError            the answer server (RAG_LLM_BASE_URL) failed
    ├── DeadlineExceeded          a request did not finish within RAG_DEADLINE_S
    ├── Overloaded                too many questions waiting for the encoder: retry soon
    ├── UploadError               an uploaded brief that is not taken (nothing was written)
    │   ├── UploadTooLarge        …over the upload budget
    │   └── UploadUnreadable      …in no format a reader reads
    ├── BuildsBusy                too many library changes waiting to be built: retry later
    ├── AddressUnavailable        the server cannot listen on that host and port
    ├── DatasetError              an evaluation file that cannot be used
    └── BenchmarkError            `rag bench` could not run (its server did not start)
        └── PeerUnavailable       …or the peer it was asked to measure is not installed

Exit codes live in the CLI (``rag.cli.EXIT_CODES``), HTTP status codes in ``api/errors.py``:
one table each, so the library never decides how a shell reports it.
"""

from __future__ import annotations

from collections.abc import Iterable


class RagError(Exception):
    """Base class: anything the user can fix by doing what the message says."""


class ConfigError(RagError):
    pass


class CorpusError(RagError):
    pass


class CorpusNotFound(CorpusError):
    pass


class CorpusFormatError(CorpusError):
    pass


class IndexError_(RagError):
    pass


class IndexMissing(IndexError_):
    pass


class IndexCorrupt(IndexError_):
    pass


class IndexStale(IndexError_):
    pass


class IndexUnwritable(IndexError_):
    pass


class IndexPathTaken(IndexError_):
    """The path an index would be published at holds a file or folder of the user's: it is
    never replaced (an index only ever replaces an index)."""


class ModelError(RagError):
    pass


class QueryError(RagError):
    pass


class SectionNotFound(QueryError):
    pass


class DocumentNotFound(QueryError):
    """A ``documents`` scope naming an id no indexed brief has; the message lists them."""

    @classmethod
    def naming(cls, unknown: Iterable[str], known: Iterable[str]) -> DocumentNotFound:
        """The error for ``unknown`` ids, listing the ``known`` ones (at most 30)."""
        ids = sorted(known)
        shown = ", ".join(ids[:30]) + (", …" if len(ids) > 30 else "")
        return cls(
            f"no indexed brief has the id {', '.join(map(repr, unknown))}; "
            f"the ids are: {shown or 'none'}"
        )


class GeneratorError(RagError):
    """The answer server could not be reached, timed out or returned an error."""


class DeadlineExceeded(RagError):
    """A request (waiting for the encoder, or for the answer server) did not finish in the
    time one request may take."""


class Overloaded(RagError):
    """The encoder's queue is full: the caller should retry in a moment."""


class UploadError(RagError):
    """An uploaded brief that is refused before anything is written or built."""


class UploadTooLarge(UploadError):
    pass


class UploadUnreadable(UploadError):
    pass


class BuildsBusy(RagError):
    """The queue of library builds is full: the caller should retry once one finished."""


class AddressUnavailable(RagError):
    """`rag serve`: the port is in use, privileged, or the host is not this machine's."""


class DatasetError(RagError):
    pass


class BenchmarkError(RagError):
    pass


class PeerUnavailable(BenchmarkError):
    """``rag bench --peer``: the optional packages of that peer are not installed."""


__all__ = [
    "AddressUnavailable",
    "BenchmarkError",
    "BuildsBusy",
    "ConfigError",
    "CorpusError",
    "CorpusFormatError",
    "CorpusNotFound",
    "DatasetError",
    "DeadlineExceeded",
    "DocumentNotFound",
    "GeneratorError",
    "IndexCorrupt",
    "IndexError_",
    "IndexMissing",
    "IndexPathTaken",
    "IndexStale",
    "IndexUnwritable",
    "ModelError",
    "Overloaded",
    "PeerUnavailable",
    "QueryError",
    "RagError",
    "SectionNotFound",
    "UploadError",
    "UploadTooLarge",
    "UploadUnreadable",
]
