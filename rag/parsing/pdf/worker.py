"""PDFium in a process of its own: every glyph of a PDF, under a memory and a time limit.

Run by glyphs.py as ``python -P worker.py '<json>'``; it imports only the standard library
and pypdfium2 (not the ``rag`` package: it starts in about 50 ms). First it limits itself:
RLIMIT_AS to ``memory_mb`` and RLIMIT_CPU to ``seconds``; glyphs.py also kills it after
``seconds`` of wall time. PDFium aborts (SIGABRT) when an allocation fails, so whatever a
file makes PDFium do (inflate a stream, expand drawings inside drawings, lay out millions
of characters) it stops there, and only this process dies.

Within those limits it counts before each costly step, so a file over a budget stops early
with a precise error: a page's objects, recursively through its form XObjects and with a
depth limit, straight after PDFium loads it (FPDFPage_CountObjects, FPDFFormObj_CountObjects,
FPDFFormObj_GetObject); the document's text objects at the same time; the page's characters
(FPDFText_CountChars) before a glyph is read. (PDFium parses all of a page's drawings, forms
included, inside FPDF_LoadPage: the page-object API can only count after that cost is paid,
which is why scan.py looks at the raw file first and this process has its limits.)

Output, on stdout: per page ``PAGE_HEAD`` then ``count`` × ``GLYPH`` (struct formats below),
then ``b"DONE"``. A refusal is one JSON line on stderr and exit status ``REFUSED``.
"""

from __future__ import annotations

import ctypes
import json
import re
import resource
import struct
import sys
from typing import Any, BinaryIO

PAGE_HEAD = struct.Struct("<4sIddI")  # b"PAGE", number, width, height, glyph count
# code point, x0, x1, top, bottom, baseline, size, flags (BOLD | ITALIC | SPACE_BEFORE)
GLYPH = struct.Struct("<I6dB")
BOLD, ITALIC, SPACE_BEFORE = 1, 2, 4
DONE = b"DONE"
REFUSED = 3  # exit status: stderr holds {"error": kind, ...}
OUT_OF_MEMORY = 4  # exit status: a MemoryError in Python (PDFium itself aborts instead)

_BOLD_RE = re.compile(r"bold|black|heavy|semibold|demi", re.I)
_ITALIC_RE = re.compile(r"italic|oblique|slanted", re.I)


class Refused(Exception):
    def __init__(self, error: str, **details: object) -> None:
        super().__init__(error)
        self.details = {"error": error, **details}


def _limit_self(memory_mb: int, seconds: float) -> None:
    memory = memory_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = max(1, int(seconds + 0.999))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def _font(pdfium_c: Any, raw_page: Any, i: int, buffer: Any) -> tuple[str, bool]:
    flags = ctypes.c_int()
    pdfium_c.FPDFText_GetFontInfo(raw_page, i, buffer, len(buffer), ctypes.byref(flags))
    name = buffer.value.decode("utf-8", "replace")
    # Font descriptor flag 7 (value 64) is Italic; the name catches fonts that omit it.
    return name, bool(flags.value & 64)


def _count_objects(pdfium_c: Any, page: Any, number: int, limits: dict[str, Any]) -> int:
    """Objects on the page, through its forms; raises past either limit; returns the number
    of text objects. Stops at the first object over a limit: never walks more than that."""
    max_objects, max_depth = limits["max_page_objects"], limits["max_form_depth"]
    form = pdfium_c.FPDF_PAGEOBJ_FORM
    text = pdfium_c.FPDF_PAGEOBJ_TEXT
    objects = texts = 0
    # (holder, index of the next child, depth); the page itself is depth 0.
    stack: list[tuple[Any, int, int]] = [(None, 0, 0)]
    while stack:
        holder, index, depth = stack.pop()
        count = (
            pdfium_c.FPDFPage_CountObjects(page)
            if holder is None
            else pdfium_c.FPDFFormObj_CountObjects(holder)
        )
        if index >= count:
            continue
        stack.append((holder, index + 1, depth))
        obj = (
            pdfium_c.FPDFPage_GetObject(page, index)
            if holder is None
            else pdfium_c.FPDFFormObj_GetObject(holder, index)
        )
        objects += 1
        if objects > max_objects:
            raise Refused("page_objects", page=number)
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind == text:
            texts += 1
        elif kind == form:
            if depth + 1 > max_depth:
                raise Refused("form_depth", page=number)
            stack.append((obj, 0, depth + 1))
    return texts


def _page_glyphs(pdfium_c: Any, textpage: Any, height: float, out: bytearray) -> int:
    raw = textpage.raw
    buffer = ctypes.create_string_buffer(256)
    matrix = pdfium_c.FS_MATRIX()
    x, y = ctypes.c_double(), ctypes.c_double()
    box = pdfium_c.FS_RECTF()
    count = 0
    space = False
    for i in range(textpage.count_chars()):
        code = pdfium_c.FPDFText_GetUnicode(raw, i)
        if code == 2 and pdfium_c.FPDFText_IsHyphen(raw, i):
            code = ord("-")  # PDFium reports a hyphen ending a line as U+0002
        if pdfium_c.FPDFText_IsGenerated(raw, i) or code < 32:
            continue  # PDFium's own guessed spaces and line ends: we measure gaps instead
        if code > 0x10FFFF:
            continue  # not a character (a broken font's map)
        if chr(code).isspace():  # also no-break and thin spaces: all are word gaps
            space = True
            continue
        pdfium_c.FPDFText_GetCharOrigin(raw, i, ctypes.byref(x), ctypes.byref(y))
        # The loose box spans the advance width: ink boxes leave gaps inside words.
        pdfium_c.FPDFText_GetLooseCharBox(raw, i, ctypes.byref(box))
        # The font size is in text space; the text matrix scales it to page points.
        pdfium_c.FPDFText_GetMatrix(raw, i, ctypes.byref(matrix))
        scale = abs(matrix.a * matrix.d - matrix.b * matrix.c) ** 0.5 or 1.0
        size = pdfium_c.FPDFText_GetFontSize(raw, i) * scale
        name, italic_flag = _font(pdfium_c, raw, i, buffer)
        weight = pdfium_c.FPDFText_GetFontWeight(raw, i)
        bold = bool(_BOLD_RE.search(name)) or weight >= 600
        italic = italic_flag or bool(_ITALIC_RE.search(name))
        out += GLYPH.pack(
            code,
            box.left,
            max(box.right, box.left),
            height - box.top,
            height - box.bottom,
            height - y.value,
            round(size, 2),
            (BOLD if bold else 0) | (ITALIC if italic else 0) | (SPACE_BEFORE if space else 0),
        )
        count += 1
        space = False
    return count


def read(path: str, limits: dict[str, Any], stdout: BinaryIO) -> None:
    import pypdfium2
    import pypdfium2.raw as pdfium_c

    try:
        pdf = pypdfium2.PdfDocument(path)
    except pypdfium2.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise Refused("encrypted") from None
        raise Refused("damaged", reason=str(exc)) from None
    if len(pdf) > limits["max_pages"]:
        raise Refused("pages", count=len(pdf))
    texts = chars = 0
    for index in range(len(pdf)):
        number = index + 1
        try:
            page = pdf[index]  # FPDF_LoadPage: parses the page's drawings, forms included
        except pypdfium2.PdfiumError as exc:
            raise Refused("page_damaged", page=number, reason=str(exc)) from None
        texts += _count_objects(pdfium_c, page.raw, number, limits)
        if texts > limits["max_text_objects"]:
            raise Refused("text_objects", page=number)
        width, height = page.get_size()
        textpage = page.get_textpage()
        page_chars = textpage.count_chars()  # PDFium's count, its guessed spaces included
        chars += page_chars
        if page_chars > limits["max_page_chars"]:
            raise Refused("page_chars", page=number)
        if chars > limits["max_chars"]:
            raise Refused("chars", page=number)
        glyphs = bytearray()
        count = _page_glyphs(pdfium_c, textpage, height, glyphs)
        textpage.close()
        page.close()
        stdout.write(PAGE_HEAD.pack(b"PAGE", number, width, height, count))
        stdout.write(glyphs)
    pdf.close()
    stdout.write(DONE)
    stdout.flush()


def main() -> int:
    args = json.loads(sys.argv[1])
    limits = args["limits"]
    _limit_self(limits["memory_mb"], limits["seconds"])
    try:
        read(args["path"], limits, sys.stdout.buffer)
    except Refused as refused:
        sys.stderr.write(json.dumps(refused.details) + "\n")
        return REFUSED
    except MemoryError:
        return OUT_OF_MEMORY
    return 0


if __name__ == "__main__":
    sys.exit(main())
