"""What reading one PDF may cost, and the one-line error when a file goes over.

Each budget is a setting (``RAG_PDF_MAX_*``, carried here by
:class:`~rag.parsing.readers.ReadOptions`), checked where the table says (scan.py and
worker.py say why that bounds the cost):

==================  =====================  ===============================================
budget              checked by             before
==================  =====================  ===============================================
decoded_mb          scan.py, raw bytes     PDFium is given the file
form_depth          scan.py; worker.py     PDFium loads the page; PDFium builds its text
page_objects        scan.py; worker.py     PDFium loads the page; PDFium builds its text
text_objects        scan.py; worker.py     PDFium loads the page; PDFium builds its text
page_chars, chars   worker.py              a glyph of the page is read
memory_mb, seconds  the worker's limits    (always: the kernel and a timeout enforce them)
==================  =====================  ===============================================
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from rag.errors import CorpusFormatError

Budget = Literal[
    "decoded_mb",
    "form_depth",
    "page_objects",
    "text_objects",
    "page_chars",
    "chars",
    "memory_mb",
    "seconds",
]

_SETTINGS: dict[Budget, str] = {
    "decoded_mb": "RAG_PDF_MAX_DECODED_MB",
    "form_depth": "RAG_PDF_MAX_FORM_DEPTH",
    "page_objects": "RAG_PDF_MAX_PAGE_OBJECTS",
    "text_objects": "RAG_PDF_MAX_TEXT_OBJECTS",
    "page_chars": "RAG_PDF_MAX_PAGE_CHARS",
    "chars": "RAG_PDF_MAX_CHARS",
    "memory_mb": "RAG_PDF_MAX_MEMORY_MB",
    "seconds": "RAG_PDF_MAX_SECONDS",
}


def _what(budget: Budget, limit: float, page: int | None) -> str:
    n = f"{limit:,}" if isinstance(limit, int) else f"{limit:g}"
    return {
        "decoded_mb": f"its streams inflate to more than the limit of {n} MiB",
        "form_depth": f"page {page} nests form XObjects deeper than the limit of {n}",
        "page_objects": f"page {page} draws more than the limit of {n} objects "
        "(a form drawn ten times counts ten times)",
        "text_objects": f"more than the limit of {n} text objects by page {page}",
        "page_chars": f"page {page} holds more than the limit of {n} characters",
        "chars": f"more than the limit of {n} characters by page {page}",
        "memory_mb": f"reading it needs more than the limit of {n} MiB of memory",
        "seconds": f"reading it takes longer than the limit of {n} s",
    }[budget]


def over(path: Path, budget: Budget, limit: float, page: int | None = None) -> CorpusFormatError:
    """The error for ``path`` going over ``budget``: the file, the limit, the setting."""
    whole = budget in ("text_objects", "chars")  # a long file may be genuine: split it
    todo = "split the file or raise" if whole else "if the file is genuine, raise"
    return CorpusFormatError(f"{path}: {_what(budget, limit, page)}; {todo} {_SETTINGS[budget]}")
