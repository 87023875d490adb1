"""One-page briefs written byte by byte (no PDF library, no typesetter): a title set large,
the title-page lines given, two sections of prose, and an ``/Info`` dictionary with the
entries given. For the title-page tests that need a byline or an ``/Info /Author`` the
committed fixtures do not have (tests/test_pdf_title_page.py)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from tests.hostile_pdfs import write_pdf

PROSE = (
    "The Indus Waters Treaty divides six rivers between two states, three to each side, and "
    "it has outlasted three wars and many crises since it was signed with the help of the "
    "World Bank. Few agreements between rivals have lasted as long, and fewer still have "
    "kept working through open conflict between the parties that signed them."
)


def _text(value: str) -> bytes:
    escaped = value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return escaped.encode("latin-1")


def brief_pdf(title: str, lines: Sequence[str] = (), info: dict[str, str] | None = None) -> bytes:
    """A US Letter page: ``title`` in 22 pt bold, each of ``lines`` in 11 pt under it, then
    the headings "Introduction" and "The Way Forward" in 13 pt bold over prose in 11 pt."""
    ops, y = [], 720.0

    def show(font: bytes, size: float, text: str, gap: float) -> None:
        nonlocal y
        ops.append(b"BT %s %g Tf 72 %g Td (%s) Tj ET" % (font, size, y, _text(text)))
        y -= gap

    show(b"/F2", 22, title, 40)
    for line in lines:
        show(b"/F1", 11, line, 16)
    y -= 14
    for heading in ("Introduction", "The Way Forward"):
        show(b"/F2", 13, heading, 22)
        for row in textwrap.wrap(PROSE, 90):
            show(b"/F1", 11, row, 14)
        y -= 14
    content = b"\n".join(ops)
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>",
        font % b"Helvetica",
        font % b"Helvetica-Bold",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents 6 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    entries = b"".join(b"/%s (%s)" % (k.encode(), _text(v)) for k, v in (info or {}).items())
    objects.append(b"<< /Producer (tests) %s >>" % entries)
    return write_pdf(objects, info=len(objects))
