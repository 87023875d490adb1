"""Subtitle and abstract as front-matter fields in every format that has them: the subtitle
a searchable fact of the title page, the abstract a section of its own (unless the text
prints it already), and neither read as title-page lines (a subtitle's commas are no
centre's). PDF: tests/test_pdf_title_page.py."""

import io
import zipfile
from pathlib import Path

import pytest

from rag.chunking.passages import chunk_document
from rag.chunking.represent import front_matter_sentences, passage_text
from rag.parsing import parse_file
from tests.conftest import chunk_params

FIXTURES = Path(__file__).parent / "fixtures"
SUBTITLE = "Glaciers, Dams and a Cold Peace"
ABSTRACT = "A shared glacier monitoring network, funded jointly, is the first step."


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def check(doc) -> None:
    fm = doc.front_matter
    assert fm.subtitle == SUBTITLE
    assert fm.centre is None and fm.institute is None
    assert fm.abstract == ABSTRACT
    assert SUBTITLE in fm.lines and ABSTRACT not in fm.lines
    assert f"The subtitle of the brief (what it is about) is: {SUBTITLE}." in (
        front_matter_sentences(fm)
    )
    passages = chunk_document(doc, chunk_params())
    (abstract,) = [p for p in passages if p.section.title == "Abstract"]
    assert abstract.text == ABSTRACT and abstract.kind == "body"
    assert "glacier monitoring network" in passage_text(abstract)
    assert [s.title for s in doc.sections][:3] == ["Front Matter", "Abstract", "Introduction"]


def test_markdown_yaml(tmp_path):
    text = (
        f"---\ntitle: The Treaty\nsubtitle: {SUBTITLE}\nauthor: Jane Doe\n"
        f"abstract: {ABSTRACT}\n---\n\n# Introduction\n\nThe treaty holds.\n"
    )
    check(parse_file(write(tmp_path, "b.md", text)))


PANDOC_HTML = f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<meta name="author" content="Jane Doe"><title>The Treaty</title></head><body>
<header id="title-block-header"><h1 class="title">The Treaty</h1>
<p class="subtitle">{SUBTITLE}</p><p class="author">Jane Doe</p>
<div class="abstract"><div class="abstract-title">Abstract</div><p>{ABSTRACT}</p></div>
</header><h1 id="introduction">Introduction</h1><p>The treaty holds.</p></body></html>"""


@pytest.mark.parametrize("key", ["description", "citation_abstract", "dc.description"])
def test_html_meta_description(tmp_path, key):
    html = (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>The Treaty</title>'
        f'<meta name="{key}" content="{ABSTRACT}"></head><body><h1>The Treaty</h1>'
        f'<p class="subtitle">{SUBTITLE}</p><p>By Jane Doe</p>'
        "<h2>Introduction</h2><p>The treaty holds.</p></body></html>"
    )
    check(parse_file(write(tmp_path, "b.html", html)))


def test_html_pandoc_title_block(tmp_path):
    doc = parse_file(write(tmp_path, "b.html", PANDOC_HTML))
    check(doc)
    assert "Abstract\n\nAbstract" not in doc.body  # pandoc's label is not the text


def test_an_abstract_the_text_prints_is_not_repeated(tmp_path):
    html = (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>T</title>'
        f'<meta name="description" content="{ABSTRACT}"></head><body><h1>T</h1>'
        f"<h2>Introduction</h2><p>{ABSTRACT} The treaty holds.</p></body></html>"
    )
    doc = parse_file(write(tmp_path, "b.html", html))
    assert doc.front_matter.abstract == ABSTRACT
    assert "Abstract" not in [s.title for s in doc.sections]
    assert doc.body.count("glacier monitoring") == 1


def _docx_with(subtitle: str, abstract: str | None, description: str | None) -> bytes:
    """brief.docx (pandoc's) with a Subtitle and an Abstract paragraph under its Title, and
    a description in its core properties."""
    source = zipfile.ZipFile(FIXTURES / "brief.docx")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for info in source.infolist():
            data = source.read(info.filename).decode("utf-8")
            if info.filename == "word/document.xml":
                head, sep, rest = data.partition('<w:pStyle w:val="Author" />')
                cut = head.rindex("<w:p>")
                added = "".join(
                    f'<w:p><w:pPr><w:pStyle w:val="{style}" /></w:pPr><w:r><w:t>{text}</w:t>'
                    "</w:r></w:p>"
                    for style, text in (("Subtitle", subtitle), ("Abstract", abstract))
                    if text
                )
                data = head[:cut] + added + head[cut:] + sep + rest
            if info.filename == "docProps/core.xml" and description:
                data = data.replace("</dc:title>", f"</dc:title><dc:description>{description}"
                                    "</dc:description>")  # fmt: skip
            zf.writestr(info, data.encode("utf-8"))
    return out.getvalue()


@pytest.mark.parametrize(
    ("abstract", "description"),
    [(ABSTRACT, "A short description."), (None, ABSTRACT)],
    ids=["abstract-style", "core-description"],
)
def test_word_subtitle_and_abstract(tmp_path, abstract, description):
    doc = parse_file(write(tmp_path, "b.docx", _docx_with(SUBTITLE, abstract, description)))
    fm = doc.front_matter
    assert fm.subtitle == SUBTITLE and fm.abstract == ABSTRACT
    assert fm.centre == "Centre for Strategic Perspectives (CSP)"  # the title page's, still
    assert fm.author == "Mahrukh Khan" and fm.editor == "Dr Neelum Nigar"
    assert [s.title for s in doc.sections][:3] == ["Front Matter", "Abstract", "Introduction"]
