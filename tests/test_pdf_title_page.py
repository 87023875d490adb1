"""The first page's title block of a PDF typeset unlike the other fixtures (centred, an
italic subtitle and byline, a day-first date in small capitals, a standfirst above the
first heading, the abstract only in /Subject): fields from the title page, never from the
prose (fixture: scripts/typeset_notes_fixtures.py)."""

from pathlib import Path

import pytest

from rag.chunking.passages import chunk_document
from rag.chunking.represent import front_matter_sentences
from rag.parsing import parse_file
from rag.parsing.pdf.info import info_fields, person_name
from rag.parsing.plaintext import names_a_field, parse_front_matter
from tests.conftest import chunk_params
from tests.title_page_pdfs import brief_pdf

FIXTURES = Path(__file__).parent / "fixtures"
PDF = FIXTURES / "byline-centred.pdf"
ABSTRACT = (
    "The brief recommends a shared glacier monitoring network, funded jointly, as the first "
    "step toward adapting the treaty to climate change."
)


@pytest.fixture(scope="module")
def doc():
    return parse_file(PDF)


def test_byline_and_date_lines_are_front_matter_fields(doc):
    fm = doc.front_matter
    assert doc.title == fm.title == "The Indus Treaty at Sixty-Five"
    assert (fm.author, fm.editor) == ("Farah Siddiqui", "Dr Omar Farooq")
    assert (fm.date, fm.date_text) == ("2024-09-16", "16 September 2024")
    assert fm.lines == (
        "The Indus Treaty at Sixty-Five",
        "Glaciers, Dams and a Cold Peace",
        "By Farah Siddiqui",
        "Edited by Dr Omar Farooq",
        "16 September 2024",
    )
    said = " ".join(front_matter_sentences(fm))
    assert "written by the author (writer) Farah Siddiqui" in said
    assert "edited by the editor Dr Omar Farooq" in said
    assert "published (released, dated) on 16 September 2024" in said


def test_the_subtitle_is_a_field_not_a_centre(doc):
    fm = doc.front_matter
    assert fm.subtitle == "Glaciers, Dams and a Cold Peace"
    assert fm.centre is None and fm.institute is None
    assert "The subtitle of the brief" in " ".join(front_matter_sentences(fm))


def test_the_standfirst_above_the_first_heading_stays_body_text(doc):
    passages = chunk_document(doc, chunk_params())
    front = [p for p in passages if p.kind == "front_matter"]
    assert len(front) == 1 and "Sixty-five years on" not in front[0].text
    standfirst = next(p for p in passages if p.text.startswith("Sixty-five years on"))
    assert standfirst.kind == "body" and standfirst.pages == (1,)
    assert standfirst.section.title == "The Indus Treaty at Sixty-Five"
    assert [s.path for s in doc.sections] == [
        ("Front Matter",),
        ("Abstract",),
        ("INTRODUCTION",),
        ("DISPUTES UNDER THE TREATY",),
        ("WAY FORWARD",),
    ]
    assert not doc.warnings and len(doc.footnotes) == 4  # notes numbered "1)"


def test_the_subject_is_the_abstract_section(doc):
    assert info_fields(PDF.read_bytes()).subject == ABSTRACT
    assert doc.front_matter.abstract == ABSTRACT
    abstract = next(s for s in doc.sections if s.title == "Abstract")
    assert doc.body[abstract.span.start : abstract.span.end] == f"Abstract\n\n{ABSTRACT}"


def test_the_other_layouts_keep_their_title_pages():
    raised = parse_file(FIXTURES / "notes-raised-dot.pdf").front_matter
    assert raised.author_role == "Research Fellow"  # under "By Amina Rahman"
    assert raised.subtitle is None and raised.centre == "Centre for River Policy"
    bracketed = parse_file(FIXTURES / "notes-bracketed.pdf").front_matter
    assert bracketed.subtitle == "The Indus Treaty at Sixty-Five"
    assert (bracketed.date, bracketed.date_text) == (None, "May 2024")  # no day: not dated


@pytest.mark.parametrize(
    ("line", "field", "value"),
    [
        ("Author: Jane Doe", "author", "Jane Doe"),
        ("Authors: Jane Doe and John Roe", "author", "Jane Doe and John Roe"),
        ("Editor: Dr X Khan", "editor", "Dr X Khan"),
        ("Edited by: Dr X Khan", "editor", "Dr X Khan"),
        ("Date: 16 September 2024", "date", "2024-09-16"),
        ("Published: September 16, 2024", "date", "2024-09-16"),
        ("September 2024", "date_text", "September 2024"),
        ("16 September 2024", "date", "2024-09-16"),
    ],
)
def test_title_page_lines(line, field, value):
    assert names_a_field(line)
    assert getattr(parse_front_matter(["A Title", line]), field) == value


@pytest.mark.parametrize(
    "line",
    [
        "By the way, the treaty has held for decades",
        "Published: ISSI",  # names no date: not a date field
        "The treaty, signed in 1960, divides the rivers",
    ],
)
def test_prose_is_not_a_field(line):
    fm = parse_front_matter(["A Title", line])
    assert fm.date is None and fm.date_text is None and fm.editor is None
    if not line.startswith("Published"):
        assert not names_a_field(line)


# --- with the real model: the byline answers who and when --------------------------------


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    from rag.config import Settings
    from rag.engine import build

    folder = tmp_path_factory.mktemp("byline-index") / "index"
    build(Settings(index_dir=folder, corpus=[PDF]), [PDF])
    return folder


@pytest.mark.model
@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who wrote the brief?", "Farah Siddiqui"),
        ("Who edited the brief?", "Dr Omar Farooq"),
        ("When was the brief published?", "16 September 2024"),
        ("What is the subtitle of the brief?", "Glaciers, Dams and a Cold Peace"),
    ],
)
def test_byline_questions_rank_the_front_matter_first(index_dir, question, expected):
    from rag.config import Settings
    from rag.engine import open_engine

    engine = open_engine(Settings(index_dir=index_dir), auto_build=False)
    top = engine.search(question, k=3).hits[0]
    assert top.passage.kind == "front_matter"
    assert expected in top.passage.text


@pytest.mark.model
def test_a_question_on_the_abstract_finds_it(index_dir):
    from rag.config import Settings
    from rag.engine import open_engine

    engine = open_engine(Settings(index_dir=index_dir), auto_build=False)
    top = engine.search("What monitoring network should be funded jointly?", k=3).hits[0]
    assert top.passage.section.title == "Abstract"


# --- "By Jane Doe, Senior Fellow": the role after the comma ------------------------------


@pytest.mark.parametrize(
    ("lines", "author", "role"),
    [
        (["By Jane Doe, Senior Fellow"], "Jane Doe", "Senior Fellow"),
        (["By Dr Jane Doe, Director, ISSI"], "Dr Jane Doe", "Director, ISSI"),
        (["By Jane Doe, Research Associate", "Centre for Water"], "Jane Doe", "Research Associate"),
        (["By", "Jane Doe, Professor of Hydrology"], "Jane Doe", "Professor of Hydrology"),
        (["Author: Jane Doe, Senior Analyst"], "Jane Doe", "Senior Analyst"),
        (["By Jane Doe and John Roe"], "Jane Doe and John Roe", None),
        (["By Jane Doe, John Roe and Ann Poe"], "Jane Doe, John Roe and Ann Poe", None),
        (["By Jane Doe, PhD"], "Jane Doe, PhD", None),
        (["By Jane Doe", "Research Fellow"], "Jane Doe", "Research Fellow"),  # as before
    ],
)  # fmt: skip
def test_a_role_after_a_comma_on_the_byline(lines, author, role):
    fm = parse_front_matter(["A Title", *lines])
    assert (fm.author, fm.author_role) == (author, role)
    if lines[-1] == "Centre for Water":
        assert fm.centre == "Centre for Water"  # the next line is not taken as a role


def test_a_role_on_the_byline_in_text_and_markdown(tmp_path):
    page = "Rivers Under Strain\n\nBy Jane Doe, Senior Fellow\n\nMarch 1, 2024\n\n"
    prose = "The Indus Waters Treaty divides six rivers between two states. " * 3
    (tmp_path / "brief.txt").write_text(f"{page}Introduction\n\n{prose}\n")
    (tmp_path / "brief.md").write_text(f"# {page}# Introduction\n\n{prose}\n")
    for name in ("brief.txt", "brief.md"):
        fm = parse_file(tmp_path / name).front_matter
        assert (fm.author, fm.author_role, fm.date) == ("Jane Doe", "Senior Fellow", "2024-03-01")
        assert "By Jane Doe, Senior Fellow" in fm.lines


def test_a_role_on_the_byline_in_a_pdf(tmp_path):
    pdf = tmp_path / "brief.pdf"
    pdf.write_bytes(
        brief_pdf("Rivers Under Strain", ["By Jane Doe, Senior Fellow", "March 1, 2024"])
    )
    doc = parse_file(pdf)
    assert doc.title == "Rivers Under Strain"
    assert (doc.front_matter.author, doc.front_matter.author_role) == ("Jane Doe", "Senior Fellow")
    said = " ".join(front_matter_sentences(doc.front_matter))
    assert "Jane Doe" in said and "Senior Fellow" in said


# --- /Info /Author: a person's name, when the page prints no byline ----------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Jane Doe", "Jane Doe"),
        ("Dr. Amina Rahman", "Dr. Amina Rahman"),
        ("Jan van Dijk", "Jan van Dijk"),
        ("Jane Doe; John Roe", "Jane Doe and John Roe"),
        ("Jane Doe, John Roe & Ann Poe", "Jane Doe, John Roe and Ann Poe"),
        ("jdoe", None),
        ("Jane", None),
        ("jane doe", None),
        ("Windows User", None),
        ("Microsoft Office User", None),
        ("Administrator", None),
        ("Owner", None),
        ("Jane Doe 2", None),
        ("jane.doe@example.org", None),
        ("DESKTOP-4F2K9Q", None),
        ("ISSI Staff", None),
        ("", None),
    ],
)
def test_info_author_must_read_as_a_person(value, expected):
    assert person_name(value) == expected


def test_info_author_is_the_author_when_the_page_prints_no_byline(tmp_path):
    pdf = tmp_path / "brief.pdf"
    pdf.write_bytes(brief_pdf("Rivers Under Strain", ["March 1, 2024"], {"Author": "Jane Doe"}))
    assert info_fields(pdf.read_bytes()).author == "Jane Doe"
    fm = parse_file(pdf).front_matter
    assert fm.author == "Jane Doe" and fm.date == "2024-03-01"
    assert fm.lines == ("Rivers Under Strain", "By Jane Doe", "March 1, 2024")
    assert "written by the author (writer) Jane Doe" in " ".join(front_matter_sentences(fm))
    # No title page at all (the title a heading over the text): the byline is the front matter.
    pdf.write_bytes(brief_pdf("Rivers Under Strain", [], {"Author": "Jane Doe"}))
    doc = parse_file(pdf)
    assert doc.front_matter.author == "Jane Doe" and doc.front_matter.lines == ("By Jane Doe",)
    front = next(p for p in doc.paragraphs if p.kind == "front_matter")
    assert doc.body[front.span.start : front.span.end] == "By Jane Doe"


def test_info_author_gives_way_to_the_byline_and_to_account_names(tmp_path):
    pdf = tmp_path / "brief.pdf"
    pdf.write_bytes(
        brief_pdf("Rivers", ["By Amina Rahman", "March 1, 2024"], {"Author": "Jane Doe"})
    )
    assert parse_file(pdf).front_matter.author == "Amina Rahman"
    for account in ("jdoe", "Microsoft Office User", "Owner"):
        pdf.write_bytes(brief_pdf("Rivers", ["March 1, 2024"], {"Author": account}))
        fm = parse_file(pdf).front_matter
        assert fm.author is None and not any(line.startswith("By") for line in fm.lines)
    pdf.write_bytes(brief_pdf("Rivers", [], {"Author": "jdoe"}))
    assert parse_file(pdf).front_matter is None
