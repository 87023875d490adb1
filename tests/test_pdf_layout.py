"""The pieces of the PDF reader on small inline data: markers, hyphens, furniture, registry."""

from pathlib import Path

import pytest

from rag.parsing import discover, parse_file
from rag.parsing.pdf.glyphs import Glyph
from rag.parsing.pdf.layout import strip_furniture
from rag.parsing.pdf.lines import Line, page_lines
from rag.parsing.pdf.reader import Lexicon
from rag.parsing.readers import Read, Reader, reader_for, register
from rag.parsing.structure import Draft, Para
from rag.records import SectionRef


def glyphs(text: str, *, x: float = 10, baseline: float = 100, size: float = 10, **kw):
    """One glyph per character, 0.5 em wide, with real spaces flagged as in a PDF."""
    out, space = [], False
    for ch in text:
        if ch == " ":
            space, x = True, x + 0.25 * size
            continue
        out.append(
            Glyph(ch, x, x + 0.5 * size, baseline - 0.8 * size, baseline + 0.2 * size,
                  baseline, size, kw.get("bold", False), kw.get("italic", False), space)
        )  # fmt: skip
        x, space = x + 0.5 * size, False
    return out


def test_raised_small_digits_become_markers_also_multi_digit_after_quotes():
    body = glyphs("the 'free world.'")
    call = glyphs("18", x=body[-1].x1, baseline=96.5, size=6.5)
    rest = glyphs(" Second, 2024 was", x=call[-1].x1)
    (line,) = page_lines(1, tuple(body + call + rest))
    assert line.text == "the 'free world.'¹⁸ Second, 2024 was"


def test_footnote_call_pushed_onto_the_next_line_goes_back():
    first = glyphs("ends the line.")
    call = glyphs("17", x=10, baseline=113, size=7)
    lines = page_lines(1, tuple(first + call))
    assert [line.text for line in lines] == ["ends the line.¹⁷"]


def test_word_gaps_without_space_characters_and_italic_runs():
    words = glyphs("Voice", italic=True) + glyphs("of", x=45, italic=True)
    words += glyphs("America", x=60, italic=True) + glyphs(",", x=96)
    (line,) = page_lines(1, tuple(words))
    assert line.text == "Voice of America,"
    assert line.marked == "*Voice of America*,"


def line(text: str, page: int, baseline: float) -> Line:
    return Line(page, text, text, 10, 200, baseline - 8, baseline + 2, baseline, 10, False, False)


def test_running_heads_and_page_numbers_are_removed():
    texts = ["Rivers.", "Canals.", "Dams."]
    pages = [
        [line("ISSI Brief", n, 20), line(texts[n - 1], n, 60), line(f"Page {n} of 3", n, 800)]
        for n in (1, 2, 3)
    ]
    pages[2].insert(2, line("Rivers.", 3, 90))  # body text repeated elsewhere on a page stays
    kept = strip_furniture(pages)
    assert [[ln.text for ln in page] for page in kept] == [
        ["Rivers."], ["Canals."], ["Dams.", "Rivers."]
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("head", "tail", "joined"),
    [
        ("while the rela\u2010", "tionship has", "while the relationship has"),  # U+2010
        ("has re-", "mained", "has remained"),  # ASCII, no evidence either way
        ("the counter-", "terrorism front", "the counter-terrorism front"),  # seen whole
        ("the Lahore-", "based forum", "the Lahore-based forum"),  # "-based" seen elsewhere
        ("of Indo-", "U.S. ties", "of Indo-U.S. ties"),  # a capital after the hyphen
        ("the U.S.-", "Pakistan talks", "the U.S.-Pakistan talks"),
        ("the end of", "the war", "the end of the war"),
    ],
)
def test_line_end_hyphens(head, tail, joined):
    seen = [
        line("a counter-terrorism dialogue on counter-terrorism", 1, 10),
        line("the Karachi-based council", 1, 20),
    ]
    assert Lexicon(seen).join(head, tail) == joined


def test_folders_pick_up_pdfs_beside_text(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "b.PDF").write_bytes(b"%PDF-1.7")
    (tmp_path / "c.csv").write_text("x")
    assert [p.name for p in discover([tmp_path])] == ["a.txt", "b.PDF"]
    assert reader_for(Path("b.PDF")).format == "pdf"
    assert reader_for(Path("notes")).format == "text"  # named explicitly: read as text


def test_a_registered_reader_is_used_for_its_suffix(tmp_path):
    def read_rst(path, data, options):
        section = SectionRef(title="Body", path=("Body",))
        return Read(Draft(items=[Para(text=data.decode().strip(), section=section)]))

    register(Reader("text", (".rst",), read_rst))
    brief = tmp_path / "note.rst"
    brief.write_text("Rivers and canals.\n")
    assert [p.name for p in discover([tmp_path])] == ["note.rst"]
    assert parse_file(brief).body == "Rivers and canals."
