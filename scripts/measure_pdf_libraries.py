"""Measure the PDF libraries the reader could stand on: parse time and correctness.

    pip install -e '.[pdf-tools]'     # pdfplumber, only for this measurement
    python scripts/measure_pdf_libraries.py

Both feed the same glyph records (text, box, baseline, size, bold, italic) to the same
layout code, so the comparison is of what each library gives and how fast. Correctness is
judged against the text version of the brief: sections, front matter, footnotes (with
URLs) and the body's words.
"""

from __future__ import annotations

import difflib
import re
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.config import bundled_brief  # noqa: E402
from rag.parsing import parse_file  # noqa: E402
from rag.parsing.pdf import glyphs as pdfium_glyphs  # noqa: E402
from rag.parsing.pdf.glyphs import LIGATURES, Glyph, Page  # noqa: E402
from rag.parsing.readers import ReadOptions  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
RUNS = 5


def pdfplumber_pages(path: Path, options: ReadOptions) -> list[Page]:
    """The same records from pdfplumber (pdfminer.six); every page (a measuring script)."""
    import pdfplumber

    pages = []
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            out, space = [], False
            for c in page.chars:
                if c["text"].isspace():
                    space = True
                    continue
                name = c["fontname"]
                out.append(
                    Glyph(
                        text=c["text"].translate(LIGATURES),
                        x0=c["x0"],
                        x1=c["x1"],
                        top=c["top"],
                        bottom=c["bottom"],
                        baseline=float(page.height) - c["matrix"][5],
                        size=round(c["size"], 2),
                        bold=bool(re.search("bold|black|heavy", name, re.I)),
                        italic=bool(re.search("italic|oblique", name, re.I)),
                        space_before=space,
                    )
                )
                space = False
            pages.append(Page(page.page_number, float(page.width), float(page.height), tuple(out)))
    return pages


def check(doc, text) -> str:
    words = " ".join(doc.body.split()).split()
    expected = " ".join(text.body.split()).split()
    ops = difflib.SequenceMatcher(None, words, expected, autojunk=False).get_opcodes()
    notes = [f.model_copy(update={"page": None}) for f in doc.footnotes]
    return (
        f"sections {'ok' if [s.path for s in doc.sections] == [s.path for s in text.sections] else 'WRONG'}, "  # noqa: E501
        f"front matter {'ok' if doc.front_matter == text.front_matter else 'WRONG'}, "
        f"footnotes {sum(a == b for a, b in zip(notes, text.footnotes, strict=False))}/18, "
        f"words differing {sum(op[0] != 'equal' for op in ops)}"
    )


def main() -> None:
    text = parse_file(bundled_brief())
    backends = {"pypdfium2": pdfium_glyphs.read_pages, "pdfplumber": pdfplumber_pages}
    print("| library | fixture | pages | glyphs only (median of 5) | whole parse | result |")
    print("|---|---|---:|---:|---:|---|")
    for name in ("brief-a4-serif.pdf", "brief-a5-sans.pdf"):
        path = FIXTURES / name
        for backend, read in backends.items():
            glyph_times, parse_times = [], []
            for _ in range(RUNS):
                started = time.perf_counter()
                pages = read(path, ReadOptions(max_pdf_pages=1000))
                glyph_times.append(time.perf_counter() - started)
                with mock.patch("rag.parsing.pdf.reader.read_pages", read):
                    started = time.perf_counter()
                    doc = parse_file(path)
                    parse_times.append(time.perf_counter() - started)
            print(
                f"| {backend} | {name} | {len(pages)} | "
                f"{statistics.median(glyph_times) * 1000:.0f} ms | "
                f"{statistics.median(parse_times) * 1000:.0f} ms | {check(doc, text)} |"
            )


if __name__ == "__main__":
    main()
