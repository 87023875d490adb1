"""PDF titles from /Info or the first page's largest line, and footnote numbers printed
``¹.`` or ``[1]`` in the notes (fixtures: scripts/typeset_notes_fixtures.py)."""

from pathlib import Path

import pytest

from rag.parsing import parse_file
from rag.parsing.pdf.info import info_title

FIXTURES = Path(__file__).parent / "fixtures"
CITATIONS = [
    '"Indus Waters Treaty," World Bank, September 19, 1960',
    'Amina Rahman, "Glaciers and Rivers," Journal of Water Policy, May 3, 2021',
    '"Kishanganga Award," Permanent Court of Arbitration, December 20, 2013',
    'Sara Khan, "Dams on the Chenab," River Review, January 8, 2023',
]


@pytest.fixture(scope="module")
def raised():
    return parse_file(FIXTURES / "notes-raised-dot.pdf")


@pytest.fixture(scope="module")
def bracketed():
    return parse_file(FIXTURES / "notes-bracketed.pdf")


def test_title_is_the_largest_line_without_info_title(raised):
    assert info_title((FIXTURES / "notes-raised-dot.pdf").read_bytes()) is None
    # Not the "POLICY BRIEF No. 7" kicker above it, nor the file name.
    assert raised.title == raised.front_matter.title == "Sharing the Indus in a Warming Climate"
    assert raised.front_matter.lines[0] == "POLICY BRIEF No. 7"


def test_title_is_the_info_title_when_there_is_one(bracketed):
    title = "Water, Power and Peace: The Indus Treaty at Sixty-Five"
    assert info_title((FIXTURES / "notes-bracketed.pdf").read_bytes()) == title
    assert bracketed.title == bracketed.front_matter.title == title


@pytest.mark.parametrize("name", ["raised", "bracketed"])
def test_numbered_notes_give_clean_citations(name, request):
    doc = request.getfixturevalue(name)
    assert [f.number for f in doc.footnotes] == [1, 2, 3, 4]
    assert [f.citation for f in doc.footnotes] == CITATIONS
    assert doc.footnote(1).url == "https://example.org/iwt"
    assert doc.footnote(2).publisher == "Journal of Water Policy"
    assert not doc.warnings
    assert [s.path for s in doc.sections] == [
        ("Front Matter",),
        ("Introduction",),
        ("Disputes Under the Treaty",),
        ("Way Forward",),
    ]
    assert "September 19, 1960" not in doc.body  # the notes are lifted out of the text
    # Calls print as ¹ or [¹]; the text keeps the marker alone, after the word it marks.
    assert "with the help of the World Bank.¹ Few agreements" in doc.body


def test_title_page_fields(raised, bracketed):
    fm = raised.front_matter
    assert (fm.author, fm.editor, fm.centre) == (
        "Amina Rahman",
        "Sara Khan",
        "Centre for River Policy",
    )
    assert (fm.date, fm.date_text) == ("2024-03-01", "March 1, 2024")
    fm = bracketed.front_matter
    assert (fm.author, fm.editor) == ("John Smith", "Sara Khan")
    assert "The Indus Treaty at Sixty-Five" in fm.lines


def _pdf_with_info(info: bytes, packed: bool = False) -> bytes:
    """Just enough of a PDF for the /Info reader: the object, plain or in an object stream."""
    if not packed:
        return b"%PDF-1.4\n7 0 obj\n" + info + b"\nendobj\ntrailer\n<< /Info 7 0 R >>\n%%EOF"
    import zlib

    head = b"7 0 "
    data = zlib.compress(head + info)
    return (
        b"%%PDF-1.5\n9 0 obj\n<</Type /ObjStm/N 1/First %d/Filter /FlateDecode/Length %d>>\n"
        b"stream\n%s\nendstream\nendobj\n"
        b"10 0 obj\n<</Type /XRef/Info 7 0 R/Length 0>>\nstream\n\nendstream\nendobj\n%%%%EOF"
        % (len(head), len(data), data)
    )


@pytest.mark.parametrize(
    ("info", "title"),
    [
        (b"<< /Title (Rivers \\(and\\) Dams\\222s) >>", "Rivers (and) Dams\x92s"),
        (b"<< /Title <FEFF0052006900760065007200730020201300200044> >>", "Rivers – D"),
        (b"<< /Author (A) /Title (  Two\\nlines ) >>", "Two lines"),
        (b"<< /Title (Microsoft Word - brief-v3.docx) >>", None),
        (b"<< /Title (brief.pdf) >>", None),
        (b"<< /Title (Untitled) >>", None),
        (b"<< /Title () >>", None),
        (b"<< /Producer (x) >>", None),
    ],
)
@pytest.mark.parametrize("packed", [False, True])
def test_info_title_reader(info, title, packed):
    assert info_title(_pdf_with_info(info, packed)) == title
    assert info_title(b"%PDF-1.4 no trailer") is None
