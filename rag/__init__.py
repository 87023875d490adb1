"""brief-rag: retrieval over policy briefs with footnotes as first-class data.

The public API, importable from here::

    from rag import Settings, open_engine, Answerer

    engine = open_engine(Settings())                  # builds the index on first use
    hits = engine.search("How did Pakistan help end the Cold War?").hits
    answer = Answerer(engine).answer("Who edited the brief?")

Importing this package is cheap: each name is imported on first use, and models and indexes
load only when asked for.
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# No network at run time: ONNX Runtime 1.29+ starts a telemetry uploader and writes a device
# id under $HOME when it is imported (with a read-only home, a warning on every start) unless
# told not to before that import. Both spellings: 1.32 reads the first, later ones the second.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("ORT_TELEMETRY_DISABLED", "1")

# Public name → the module that defines it.
_EXPORTS = {
    "Settings": "rag.config",
    "Engine": "rag.engine",
    "SearchResult": "rag.engine",
    "open_engine": "rag.engine",
    "build": "rag.engine",
    "Answerer": "rag.answering",
    "Answer": "rag.answering",
    "Citation": "rag.answering",
    "Findings": "rag.answering",
    "Document": "rag.records",
    "Passage": "rag.records",
    "Footnote": "rag.records",
    "Hit": "rag.records",
    "RagError": "rag.errors",
}

__all__ = [
    "Answer",
    "Answerer",
    "Citation",
    "Document",
    "Engine",
    "Findings",
    "Footnote",
    "Hit",
    "Passage",
    "RagError",
    "SearchResult",
    "Settings",
    "__version__",
    "build",
    "open_engine",
]

if TYPE_CHECKING:
    from rag.answering import Answer, Answerer, Citation, Findings
    from rag.config import Settings
    from rag.engine import Engine, SearchResult, build, open_engine
    from rag.errors import RagError
    from rag.records import Document, Footnote, Hit, Passage


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'rag' has no attribute {name!r}")
