"""Word, HTML and pandoc-written Markdown briefs: the same Document as the text brief,
footnotes as data, bad input refused in one line. The fixtures were made by pandoc from the
bundled brief (scripts/make_docx_html_fixtures.py)."""

import io
import zipfile
from pathlib import Path

import pytest

from rag.chunking.passages import chunk_document
from rag.errors import CorpusFormatError
from rag.parsing import ReadOptions, discover, parse_file
from rag.text import collapse_space, markers_in, to_superscript
from tests.conftest import chunk_params

FIXTURES = Path(__file__).parent / "fixtures"
FORMATS = {
    "brief.docx": "docx",
    "brief-endnotes.docx": "docx",  # custom heading styles, endnotes
    "brief.html": "html",
    "brief-sections.html": "html",
    "brief-pandoc.md": "markdown",  # as `pandoc -t markdown` writes it: wrapped, --, \'
}


@pytest.fixture(scope="module", params=list(FORMATS))
def converted(request):
    return request.param, parse_file(FIXTURES / request.param)


def test_sections_match_the_text_brief(converted, brief):
    name, doc = converted
    assert doc.format == FORMATS[name]
    assert [s.path for s in doc.sections] == [s.path for s in brief.sections]
    assert ("Current Pace of Relationship", "Regional and Global Front") in [
        s.path for s in doc.sections
    ]
    assert doc.warnings == ()


def test_eighteen_footnotes_parsed_like_the_text_brief(converted, brief):
    _, doc = converted
    assert len(doc.footnotes) == 18
    assert doc.footnotes == brief.footnotes
    two = doc.footnote(2)
    assert two.url == "https://www.jstor.org/stable/4328240"
    assert two.title == "War and Peace in Afghanistan: The Pakistani Role"
    assert doc.footnote(1).publisher == "National Security Archive"
    assert "<" not in doc.body and "href" not in doc.body and "[^" not in doc.body


def test_each_footnote_is_attached_to_the_passage_citing_it(converted):
    _, doc = converted
    passages = chunk_document(doc, chunk_params())
    attached: dict[int, list[str]] = {}
    for p in passages:
        assert [f.number for f in p.footnotes] == markers_in(p.text)
        for ref in p.footnotes:
            attached.setdefault(ref.number, []).append(p.text)
            assert ref.citation == doc.footnote(ref.number).citation
    assert sorted(attached) == list(range(1, 19))
    cold_war = next(p for p in passages if "end of the Cold War." + to_superscript(2) in p.text)
    assert [f.url for f in cold_war.footnotes if f.number == 2] == [
        "https://www.jstor.org/stable/4328240"
    ]


def test_title_and_author_are_in_the_front_matter(converted):
    _, doc = converted
    fm = doc.front_matter
    assert doc.title == "Pakistan-U.S. Relations – Building a Futuristic Partnership"
    assert fm.author == "Mahrukh Khan" and fm.date == "2024-09-16"
    assert fm.editor == "Dr Neelum Nigar"
    front = [p for p in chunk_document(doc, chunk_params()) if p.kind == "front_matter"]
    assert front and "Mahrukh Khan" in front[0].text


def test_passages_read_like_the_text_brief(converted, brief):
    _, doc = converted
    params = chunk_params()
    got = [collapse_space(p.text) for p in chunk_document(doc, params)]
    want = [collapse_space(p.text) for p in chunk_document(brief, params)]
    assert got == want


# --- other HTML writers -------------------------------------------------------------------

WORD_HTML = b"""<html><head>
<meta http-equiv=Content-Type content="text/html; charset=windows-1252">
<title>Water Brief</title><meta name="citation_author" content="A. Writer">
<style>p.MsoNormal {margin:0}</style><script>track()</script></head>
<body lang=EN-US><nav>Home | About</nav><div class=WordSection1>
<h1>Context</h1>
<p class=MsoNormal>Rivers feed the plains.<a href="#_ftn1" name="_ftnref1"><span
class=MsoFootnoteReference>[1]</span></a> Dams hold water.<a href="#_ftn2"
name="_ftnref2">[2]</a> Caf\xe9 owners agree.</p></div>
<div style='mso-element:footnote-list'><br clear=all><hr align=left size=1 width="33%">
<div style='mso-element:footnote' id=ftn1><p class=MsoFootnoteText><a href="#_ftnref1"
name="_ftn1">[1]</a> "Indus Waters Treaty," <i>World Bank</i>, September 19, 1960,
<a href="https://example.org/iwt">https://example.org/iwt</a></p></div>
<div style='mso-element:footnote' id=ftn2><p class=MsoFootnoteText><a href="#_ftnref2"
name="_ftn2">[2]</a> Dam statistics, <i>Water Agency</i>, 2023.</p></div></div>
</body></html>"""

NOTES_LIST_HTML = b"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>Trade Brief</title>
<meta name="author" content="B. Author"><meta name="dc.date" content="2023-05-01"></head><body>
<h2>Trade</h2><p>Exports grew.<sup>1</sup> Imports fell.<sup><a href="#n2">2</a></sup></p>
<h2>Notes</h2><ol><li>Ministry data, <em>Trade Ministry</em>, May 1, 2023.</li>
<li id="n2">"Imports," <em>Customs</em>, 2023, <a href="https://example.org/c">link</a></li></ol>
</body></html>"""


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_word_save_as_html_footnotes(tmp_path):
    doc = parse_file(write(tmp_path, "water.htm", WORD_HTML))
    assert doc.format == "html" and doc.title == "Water Brief"
    assert doc.front_matter.author == "A. Writer"
    assert [s.path for s in doc.sections] == [("Front Matter",), ("Context",)]
    assert "Rivers feed the plains.¹ Dams hold water.² Café owners agree." in doc.body
    for gone in ("Home | About", "track()", "margin", "[1]"):
        assert gone not in doc.body
    assert doc.footnote(1).url == "https://example.org/iwt"
    assert doc.footnote(1).publisher == "World Bank"
    assert doc.footnote(2).citation == "Dam statistics, Water Agency, 2023"
    assert doc.warnings == ()


def test_trailing_notes_list(tmp_path):
    doc = parse_file(write(tmp_path, "trade.html", NOTES_LIST_HTML))
    assert "Exports grew.¹ Imports fell.²" in doc.body
    assert "Notes" not in [s.title for s in doc.sections]
    assert doc.footnote(1).publisher == "Trade Ministry"
    assert doc.footnote(2).url == "https://example.org/c"
    assert doc.front_matter.author == "B. Author" and doc.front_matter.date == "2023-05-01"
    assert doc.warnings == ()


def test_aside_footnotes_and_a_text_box_read_once(tmp_path):
    aside = (
        b"<html><head><title>T</title></head><body><h2>A</h2><p>Claim.<a href='#fn1' "
        b"id='fnref1'>1</a></p><aside id='footnotes'><ol><li id='fn1'><p>Source, <em>Pub</em>"
        b"<a href='#fnref1'>\xe2\x86\xa9</a></p></li></ol></aside></body></html>"
    )
    doc = parse_file(write(tmp_path, "a.html", aside))
    assert "Claim.\u00b9" in doc.body and doc.footnote(1).citation == "Source, Pub"
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    mc = 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
    box = "<w:p><w:r><w:t>Boxed words.</w:t></w:r></w:p>"
    document = (
        f"<w:document {w} {mc}><w:body><w:p><w:r><w:t>Plain words.</w:t></w:r>"
        f"<mc:AlternateContent><mc:Choice><w:txbxContent>{box}</w:txbxContent></mc:Choice>"
        f"<mc:Fallback><w:txbxContent>{box}</w:txbxContent></mc:Fallback>"
        "</mc:AlternateContent></w:p></w:body></w:document>"
    )
    doc = parse_file(write(tmp_path, "b.docx", _zip({"word/document.xml": document.encode()})))
    assert doc.body.count("Boxed words.") == 1 and "Plain words." in doc.body


def test_xhtml_with_an_xml_declaration_and_no_charset(tmp_path):
    xhtml = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>'
        b'<html xmlns="http://www.w3.org/1999/xhtml"><head><title>X</title></head>'
        b"<body><h2>S</h2><p>Caf\xc3\xa9 society.</p></body></html>"
    )
    doc = parse_file(write(tmp_path, "x.xhtml", xhtml))
    assert doc.format == "html" and "Café society." in doc.body


# --- sniffing and bad input ---------------------------------------------------------------


def test_html_is_read_as_html_whatever_its_suffix(tmp_path):
    for name in ("trade.txt", "trade.md", "trade"):
        doc = parse_file(write(tmp_path, name, NOTES_LIST_HTML))
        assert doc.format == "html" and "<" not in doc.body, name
        assert "Exports grew.¹" in doc.body


def test_docx_and_pdf_bytes_are_read_whatever_the_suffix(tmp_path):
    docx = write(tmp_path, "brief.txt", (FIXTURES / "brief.docx").read_bytes())
    assert parse_file(docx).format == "docx"
    pdf = write(tmp_path, "brief.md", (FIXTURES / "brief-a4-serif.pdf").read_bytes())
    assert parse_file(pdf).format == "pdf"
    html = write(tmp_path, "brief.docx", (FIXTURES / "brief.html").read_bytes())
    assert parse_file(html).format == "html"


def test_folders_pick_up_word_and_html(tmp_path):
    write(tmp_path, "a.docx", (FIXTURES / "brief.docx").read_bytes())
    write(tmp_path, "b.HTML", NOTES_LIST_HTML)
    write(tmp_path, "c.htm", WORD_HTML)
    assert [p.name for p in discover([tmp_path])] == ["a.docx", "b.HTML", "c.htm"]


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def _corrupt_member(data: bytes) -> bytes:
    """brief.docx with the compressed bytes of word/document.xml scrambled."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("word/document.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw = bytearray(data)
    for i in range(start + 100, start + 400):
        raw[i] ^= 0x5A
    return bytes(raw)


DOCX = (FIXTURES / "brief.docx").read_bytes()
PPTX_RELS = (
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/officeDocument" Target="ppt/presentation.xml"/></Relationships>'
)
BAD = [
    ("text.docx", b"Just text saved with the wrong suffix.\n", "not a Word .docx (not a ZIP"),
    ("encrypted.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "encrypted"),
    ("truncated.docx", DOCX[: len(DOCX) // 2], "not a readable ZIP archive"),
    ("corrupt.docx", _corrupt_member(DOCX), "is corrupt (word/document.xml"),
    ("other.docx", _zip({"hello.txt": b"hi"}), "a ZIP archive but not a Word document"),
    (
        "slides.txt",
        _zip(
            {"_rels/.rels": PPTX_RELS, "ppt/presentation.xml": b'<p:presentation xmlns:p="urn:p"/>'}
        ),
        "a ZIP archive but not a Word document",
    ),
    (
        "bomb.docx",
        _zip({"word/document.xml": b"<" + bytes(30_000_000)}),
        "over 10,000,000 bytes, the budget",
    ),
    ("binary.html", b"\x00\x01\x02garbage" * 50, "looks binary"),
]


@pytest.mark.parametrize(("name", "data", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_refused_in_one_line(tmp_path, name, data, message):
    path = write(tmp_path, name, data)
    with pytest.raises(CorpusFormatError) as caught:
        parse_file(path)
    text = str(caught.value)
    assert message in text and text.startswith(str(path)) and "\n" not in text


def test_a_zip_member_larger_than_it_declares_is_not_inflated_past_its_size(tmp_path):
    """zipfile stops at the declared size, then the CRC check fails: refused as corrupt."""
    data = bytearray(_zip({"word/document.xml": b"<" + bytes(5_000_000)}))
    central = data.index(b"PK\x01\x02")
    data[central + 24 : central + 28] = (100).to_bytes(4, "little")
    data[22:26] = (100).to_bytes(4, "little")
    path = write(tmp_path, "liar.docx", bytes(data))
    with pytest.raises(CorpusFormatError, match="is corrupt"):
        parse_file(path)


def test_budgets(tmp_path):
    with pytest.raises(CorpusFormatError, match="RAG_MAX_FILE_BYTES"):
        parse_file(FIXTURES / "brief.docx", options=ReadOptions(max_file_bytes=20_000))
    with pytest.raises(CorpusFormatError, match=r"over the budget.*RAG_MAX_FILE_BYTES"):
        parse_file(FIXTURES / "brief.html", options=ReadOptions(max_file_bytes=20_000))
    # HTML misnamed .pdf (no byte budget by suffix) is held to the HTML budget all the same.
    misnamed = write(tmp_path, "brief.pdf", (FIXTURES / "brief.html").read_bytes())
    with pytest.raises(CorpusFormatError, match=r"over the budget.*RAG_MAX_FILE_BYTES"):
        parse_file(misnamed, options=ReadOptions(max_file_bytes=20_000))


# --- the eval set on Word- and HTML-built indexes (real model) ----------------------------


@pytest.fixture(scope="module")
def text_scores(real_index_dir):
    from tests.test_pdf_eval import scores

    return scores(real_index_dir)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The index of each converted brief, built once with the real model."""
    from typer.testing import CliRunner

    from rag.cli import app

    done: dict[str, Path] = {}

    def build(name: str) -> Path:
        if name not in done:
            out = tmp_path_factory.mktemp("converted-index") / "index"
            result = CliRunner().invoke(app, ["index", str(FIXTURES / name), "--out", str(out)])
            assert result.exit_code == 0, result.output
            done[name] = out
        return done[name]

    return build


def test_pandoc_markdown_has_the_text_briefs_front_matter(brief):
    """YAML title/author/editor/date over the printed title page ("By", "Edited by"...): the
    same fields and lines as the text brief, the title's ``--`` read as pandoc means it."""
    written = (FIXTURES / "brief-pandoc.md").read_text(encoding="utf-8")
    assert "title: Pakistan-U.S. Relations -- Building" in written
    doc = parse_file(FIXTURES / "brief-pandoc.md")
    assert doc.front_matter == brief.front_matter
    assert doc.title == brief.title
    assert doc.footnote(6).citation.startswith('"Pakistan — Market Overview,"')


CONVERTED = ["brief.docx", "brief.html", "brief-pandoc.md"]


@pytest.mark.model
@pytest.mark.parametrize("name", CONVERTED)
def test_eval_on_word_and_html_is_within_002_of_the_text(name, built, text_scores):
    from tests.test_pdf_eval import scores

    got_scores = scores(built(name))
    for retriever, metrics in text_scores.items():
        for metric, expected in metrics.items():
            got = got_scores[retriever][metric]
            print(f"{name} {retriever} {metric}: {got} (text {expected})")
            if metric == "mean_passage_tokens":  # a size, not a score: within 2%
                assert abs(got - expected) <= 0.02 * expected, (retriever, metric, got, expected)
            else:
                assert abs(got - expected) <= 0.02, (retriever, metric, got, expected)


@pytest.mark.model
@pytest.mark.parametrize("name", CONVERTED)
def test_the_index_counts_what_the_text_index_counts(name, built, real_index_dir, monkeypatch):
    """Same sections, footnotes and passages, and the same brief in `rag documents`."""
    import json

    from typer.testing import CliRunner

    from rag.cli import app

    def described(index: Path) -> tuple[dict[str, object], dict[str, object]]:
        counts = json.loads((index / "manifest.json").read_text())["counts"]
        monkeypatch.setenv("RAG_INDEX_DIR", str(index))
        result = CliRunner().invoke(app, ["documents", "--json"])
        assert result.exit_code == 0, result.output
        (info,) = json.loads(result.stdout)["documents"]
        keep = ("title", "author", "editor", "date", "sections", "passages", "footnotes")
        return {k: counts[k] for k in ("sections", "footnotes", "passages")}, {
            k: info[k] for k in keep
        }

    assert described(built(name)) == described(real_index_dir)


@pytest.mark.model
@pytest.mark.parametrize("name", CONVERTED)
def test_who_wrote_the_brief(name, built, monkeypatch):
    import json

    from typer.testing import CliRunner

    from rag.cli import app

    monkeypatch.setenv("RAG_INDEX_DIR", str(built(name)))
    result = CliRunner().invoke(app, ["ask", "Who wrote the brief?", "--json"])
    assert result.exit_code == 0, result.output
    passages = json.loads(result.stdout)["passages"]
    assert any(
        p["section"]["title"] == "Front Matter" and "Mahrukh Khan" in p["text"]
        for p in passages[:3]
    )
    manifest = json.loads((built(name) / "manifest.json").read_text())
    assert manifest["documents"][0]["format"] == FORMATS[name]
