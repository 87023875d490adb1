"""Every glyph of a PDF with its size, style and position, through pypdfium2 (PDFium).

PDFium was chosen by measurement over pdfplumber (pdfminer.six): the same result on the
fixtures, 3.5 times faster, and fewer dependencies (docs/formats.md, "PDF input"). It runs in
a process of its own, worker.py, the only module that imports it (swapping libraries
touches that one file), under the memory and time budgets: a file that makes PDFium spend
gigabytes or minutes costs this process nothing but the wait, and is refused with one line
(budgets.py). Coordinates are turned top-down (``top`` grows down the page), like reading
order.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import CorpusFormatError
from rag.parsing.pdf import worker
from rag.parsing.pdf.budgets import over

if TYPE_CHECKING:
    from rag.parsing.readers import ReadOptions

# Ligatures some fonts map to one code point; spelled out so words match and search.
_LIGATURE_PARTS = ("ff", "fi", "fl", "ffi", "ffl", "st", "st")  # U+FB00 … U+FB06
LIGATURES = str.maketrans({chr(0xFB00 + i): parts for i, parts in enumerate(_LIGATURE_PARTS)})


@dataclass(frozen=True, slots=True)
class Glyph:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    baseline: float
    size: float
    bold: bool
    italic: bool
    space_before: bool  # the PDF has a real space character just before this glyph


@dataclass(frozen=True)
class Page:
    number: int  # 1-based, as printed in a citation
    width: float
    height: float
    glyphs: tuple[Glyph, ...]


def _limits(options: ReadOptions) -> dict[str, Any]:
    return {
        "max_pages": options.max_pdf_pages,
        "max_form_depth": options.max_pdf_form_depth,
        "max_page_objects": options.max_pdf_page_objects,
        "max_text_objects": options.max_pdf_text_objects,
        "max_page_chars": options.max_pdf_page_chars,
        "max_chars": options.max_pdf_chars,
        "memory_mb": options.max_pdf_memory_mb,
        "seconds": options.max_pdf_seconds,
    }


def _refusal(path: Path, details: dict[str, Any], options: ReadOptions) -> CorpusFormatError:
    error, page = details.get("error"), details.get("page")
    if error == "encrypted":
        return CorpusFormatError(
            f"{path}: PDF is encrypted with a password; save an unprotected copy and retry"
        )
    if error == "damaged":
        return CorpusFormatError(
            f"{path}: damaged or not a PDF ({details.get('reason')}); re-export it from its source"
        )
    if error == "pages":
        return CorpusFormatError(
            f"{path}: {details.get('count')} pages is over the limit of {options.max_pdf_pages}; "
            "split the file or raise RAG_PDF_MAX_PAGES"
        )
    if error == "page_damaged":
        return CorpusFormatError(
            f"{path}: damaged PDF, page {page} cannot be read ({details.get('reason')}); "
            "re-export it from its source"
        )
    budgets = {
        "form_depth": options.max_pdf_form_depth,
        "page_objects": options.max_pdf_page_objects,
        "text_objects": options.max_pdf_text_objects,
        "page_chars": options.max_pdf_page_chars,
        "chars": options.max_pdf_chars,
    }
    if error in budgets:
        return over(path, error, budgets[error], page)
    return CorpusFormatError(f"{path}: cannot be read ({details}); re-export it from its source")


def _run_worker(path: Path, options: ReadOptions) -> bytes:
    """The worker's stdout; raises the one-line error for a refusal, a limit or a crash."""
    # -P: not the worker's folder on sys.path (it holds modules named like others).
    args = json.dumps({"path": str(path), "limits": _limits(options)})
    try:
        done = subprocess.run(
            [sys.executable, "-P", worker.__file__, args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=options.max_pdf_seconds,
            check=False,
        )
    except subprocess.TimeoutExpired:  # run() has killed it
        raise over(path, "seconds", options.max_pdf_seconds) from None
    status = done.returncode
    if status == 0 and done.stdout.endswith(worker.DONE):
        return done.stdout[: -len(worker.DONE)]
    last = (done.stderr.decode("utf-8", "replace").strip().splitlines() or [""])[-1]
    if status == worker.REFUSED:
        raise _refusal(path, json.loads(last), options)
    if status == worker.OUT_OF_MEMORY or status == -signal.SIGABRT:
        # PDFium aborts when an allocation fails (RLIMIT_AS); Python raises MemoryError.
        raise over(path, "memory_mb", options.max_pdf_memory_mb)
    if status == -signal.SIGXCPU:
        raise over(path, "seconds", options.max_pdf_seconds)
    if find_spec("pypdfium2") is None:
        raise CorpusFormatError(f"{path}: PDF support is missing: install pypdfium2")
    reason = f"signal {-status}" if status < 0 else f"status {status}: {last[:200]}"
    raise CorpusFormatError(f"{path}: PDFium failed on it ({reason}); re-export it from its source")


def _decode(data: bytes) -> list[Page]:
    pages = []
    offset = 0
    view = memoryview(data)
    while offset < len(data):
        _, number, width, height, count = worker.PAGE_HEAD.unpack_from(data, offset)
        offset += worker.PAGE_HEAD.size
        end = offset + count * worker.GLYPH.size
        glyphs = tuple(
            Glyph(
                text=chr(code).translate(LIGATURES),
                x0=x0,
                x1=x1,
                top=top,
                bottom=bottom,
                baseline=baseline,
                size=size,
                bold=bool(flags & worker.BOLD),
                italic=bool(flags & worker.ITALIC),
                space_before=bool(flags & worker.SPACE_BEFORE),
            )
            for code, x0, x1, top, bottom, baseline, size, flags in worker.GLYPH.iter_unpack(
                view[offset:end]
            )
        )
        pages.append(Page(number, width, height, glyphs))
        offset = end
    return pages


def read_pages(path: Path, options: ReadOptions) -> list[Page]:
    """All pages of the PDF at ``path`` with their glyphs, in page order, read within the
    budgets of ``options`` (raises :class:`CorpusFormatError` past one)."""
    return _decode(_run_worker(path, options))
