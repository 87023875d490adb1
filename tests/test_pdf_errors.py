"""Bad PDFs: one line naming the file and what to do, a non-zero exit, nothing published."""

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.errors import CorpusFormatError
from rag.parsing import ReadOptions, parse_file

FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner()


def damaged(tmp_path: Path) -> Path:
    path = tmp_path / "cut.pdf"
    path.write_bytes((FIXTURES / "plain-memo.pdf").read_bytes()[:1500])  # truncated download
    return path


def not_a_pdf(tmp_path: Path) -> Path:
    path = tmp_path / "notes.pdf"
    path.write_text("Just some text saved with the wrong suffix.\n")
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: FIXTURES / "scanned.pdf", "no text layer: run OCR first"),
        (lambda tmp: FIXTURES / "encrypted.pdf", "encrypted with a password"),
        (damaged, "damaged or not a PDF"),
        (not_a_pdf, "damaged or not a PDF"),
    ],
    ids=["scanned", "encrypted", "damaged", "not-a-pdf"],
)
def test_unreadable_pdfs_name_the_file(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(CorpusFormatError) as caught:
        parse_file(path)
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(path))
    assert "\n" not in str(caught.value)


def test_page_limit():
    path = FIXTURES / "brief-a5-sans.pdf"
    with pytest.raises(
        CorpusFormatError, match=r"7 pages is over the limit of 5.*RAG_PDF_MAX_PAGES"
    ):
        parse_file(path, options=ReadOptions(max_pdf_pages=5))
    assert parse_file(path, options=ReadOptions(max_pdf_pages=7)).page_count == 7


def test_no_headings_no_footnotes_is_plain_paragraphs_with_warnings():
    doc = parse_file(FIXTURES / "plain-memo.pdf")
    assert [p.section.path for p in doc.paragraphs] == [("Body",), ("Body",)]
    assert doc.body.startswith("This note has no headings and no footnotes.")
    assert "irrigation canals" in doc.body
    assert doc.warnings == (
        "no headings found: the text is indexed as plain paragraphs",
        "no footnotes found at the foot of any page",
    )


@pytest.mark.parametrize("bad", ["scanned.pdf", "encrypted.pdf"])
def test_index_of_a_folder_names_the_bad_pdf_and_publishes_nothing(tmp_path, bad):
    folder = tmp_path / "briefs"
    folder.mkdir()
    shutil.copy(FIXTURES / "plain-memo.pdf", folder / "memo.pdf")
    shutil.copy(FIXTURES / bad, folder / bad)
    out = tmp_path / "out"
    result = runner.invoke(app, ["index", str(folder), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert f"{bad}:" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_page_limit_setting_reaches_the_cli(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_PDF_MAX_PAGES", "3")
    out = tmp_path / "out"
    result = runner.invoke(app, ["index", str(FIXTURES / "brief-a4-serif.pdf"), "--out", str(out)])
    assert result.exit_code == 2
    assert "6 pages is over the limit of 3" in result.output
    assert not out.exists()
