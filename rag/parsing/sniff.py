"""Tell a file's format by its first bytes, whatever its suffix says.

A ``.txt`` that is really HTML would otherwise be indexed as tags, and a ``.pdf`` that is
really a Word file would fail in PDFium with a puzzling message; the loader asks
:func:`reader_for_bytes` which reader the bytes need, and refuses in one line what no
reader reads (an encrypted Word file, a ``.docx`` that is not a ZIP archive).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from rag.errors import CorpusFormatError
from rag.parsing.readers import DOCX, HTML, PDF, Reader

Kind = Literal["pdf", "zip", "ole", "html"]

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HTML_RE = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*"
    rb"<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>])",
    re.I | re.S,
)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def sniff(data: bytes) -> Kind | None:
    """The format the bytes are in, when they say so: PDF (``%PDF-`` first), a ZIP
    archive (.docx), an OLE compound file (an encrypted Office file or
    an old .doc), or HTML (a doctype or an ``<html>``, ``<head>`` or ``<body>`` tag first)."""
    head = data[:2048]
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(_OLE_MAGIC):
        return "ole"
    if head.lstrip().startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(_UTF16_BOMS):
        try:
            head = data[:4096].decode("utf-16", errors="ignore").encode()
        except UnicodeError:  # pragma: no cover - errors="ignore"
            return None
    if _HTML_RE.match(head):
        return "html"
    return None


def reader_for_bytes(path: Path, reader: Reader, data: bytes) -> Reader:
    """The reader for ``data`` (chosen by ``path``'s suffix as ``reader``); raises
    :class:`CorpusFormatError` in one line when the bytes are in no readable format."""
    kind = sniff(data)
    if kind == "ole":
        raise CorpusFormatError(
            f"{path}: is an encrypted (password-protected) Office file or an old binary "
            ".doc; remove the password or save it as .docx, then retry"
        )
    if kind == "zip":
        return DOCX
    if kind == "pdf":
        return PDF
    if kind == "html":
        return HTML
    if reader is DOCX:
        raise CorpusFormatError(
            f"{path}: not a Word .docx (not a ZIP archive); save it again as .docx, or "
            "convert it to .txt or .md"
        )
    return reader
