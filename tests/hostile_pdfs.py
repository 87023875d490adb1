"""Hostile PDFs, written byte by byte (no PDF library): small files that cost a reader far
more than their size. Used by tests/test_pdf_budgets.py; ``scripts/measure_hostile_pdfs.py`` writes
them to a folder to measure by hand.

- :func:`nested_forms`: form XObjects that each draw the next one ``fanout`` times, ``depth``
  levels deep (fanout ** depth drawings from a 2 KB file).
- :func:`flate_bomb`: a content stream of ``mib`` MiB of zeros, FlateDecode (~1000:1).
- :func:`many_glyphs`: ``pages`` pages of ``per_page`` text objects of one character each.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def write_pdf(objects: list[bytes], info: int | None = None) -> bytes:
    """A PDF of ``objects`` (object 1 is the catalog), numbered from 1, with its xref;
    ``info``: the number of the object that is the document information dictionary."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    info_ref = b" /Info %d 0 R" % info if info else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        info_ref,
        xref,
    )
    return bytes(out)


def _pages(contents: list[int], resources: bytes) -> list[bytes]:
    """Catalog (1), page tree (2), font (3); page k is object 4 + k; content objects given."""
    kids = b" ".join(b"%d 0 R" % (4 + k) for k in range(len(contents)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(contents)),
        _FONT,
    ]
    for content in contents:
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources %s "
            b"/Contents %d 0 R >>" % (resources, content)
        )
    return objects


def nested_forms(depth: int, fanout: int = 10) -> bytes:
    """The page draws form 1 ``fanout`` times, form k draws form k + 1 as often; the last
    form writes one word. ``fanout ** depth`` drawings of that word in all."""
    first_form = 5
    page_content = 4 + 1
    objects = _pages([page_content], b"<< /Font << /F1 3 0 R >> /XObject << /X 6 0 R >> >>")
    calls = b"q /X Do Q\n" * fanout
    objects.append(_stream(calls))  # object 5: the page's content
    for level in range(1, depth + 1):
        number = first_form + level
        if level < depth:
            body, xobjects = calls, b"/XObject << /X %d 0 R >>" % (number + 1)
        else:
            body, xobjects = b"BT /F1 12 Tf 72 700 Td (deep) Tj ET", b""
        objects.append(
            _stream(
                body,
                b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] "
                b"/Resources << /Font << /F1 3 0 R >> %s >> " % xobjects,
            )
        )
    return write_pdf(objects)


def _zeros_deflated(mib: int) -> Iterator[bytes]:
    # Each MiB after a full flush compresses to the same bytes: compress one, repeat it.
    # The Adler-32 of the whole is kept up to date, so the stream is valid zlib.
    chunk = bytes(1 << 20)
    head = zlib.compressobj(9)
    first = head.compress(chunk) + head.flush(zlib.Z_FULL_FLUSH)
    again = zlib.compressobj(9)
    again.compress(chunk)
    again.flush(zlib.Z_FULL_FLUSH)
    repeated = again.compress(chunk) + again.flush(zlib.Z_FULL_FLUSH)
    adler = 1
    for i in range(mib):
        yield first if i == 0 else repeated
        adler = zlib.adler32(chunk, adler)
    yield b"\x03\x00" + adler.to_bytes(4, "big")  # an empty final block, then the checksum


def flate_bomb(mib: int) -> bytes:
    """One page of one line of text, then a content stream that inflates to ``mib`` MiB
    of zeros (blank space to a PDF reader)."""
    objects = _pages([5], b"<< /Font << /F1 3 0 R >> >>")
    objects[3] = objects[3].replace(b"/Contents 5 0 R", b"/Contents [5 0 R 6 0 R]")
    objects.append(_stream(b"BT /F1 12 Tf 72 720 Td (Inflated zeros follow.) Tj ET"))
    objects.append(_stream(b"".join(_zeros_deflated(mib)), b"/Filter /FlateDecode "))
    return write_pdf(objects)


def many_glyphs(pages: int, per_page: int) -> bytes:
    """``pages`` pages, each of ``per_page`` text objects drawing one letter."""
    lines = []
    for i in range(per_page):
        x, y = 36 + (i % 90) * 6, 756 - (i // 90) * 10 % 720
        lines.append(b"BT /F1 8 Tf %d %d Td (%c) Tj ET" % (x, y, 97 + i % 26))
    # One content stream, deflated, that every page draws: a small file.
    content = _stream(zlib.compress(b"\n".join(lines)), b"/Filter /FlateDecode ")
    objects = _pages([4 + pages] * pages, b"<< /Font << /F1 3 0 R >> >>")
    objects.append(content)
    return write_pdf(objects)
