"""Input budgets, and files that are not files (parts 5 and 8 of the safety issue).

Every hostile input is made here, in tmp_path. None is timed by an assertion: each test has
a timeout, so a regression (a quadratic step, a read that blocks) fails by timing out
instead of hanging the suite. Each budget is shown both refusing and, raised, letting the
same file through, so the tests can fail.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.chunking.passages import chunk_document
from rag.chunking.sentences import WINDOW_CHARS, _segment, sentence_spans
from rag.chunking.tokens import count_tokens
from rag.cli import app
from rag.config import Settings
from rag.errors import CorpusFormatError
from rag.parsing import ReadOptions, discover, parse_file
from rag.parsing.loader import read_regular
from rag.store.index import build_index
from tests.conftest import FakeEncoder, chunk_params, dense_params

SUPER = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
BRIEF = "# A Brief\n\n## Background\n\nRelations between the two states are old. Café ’quotes’.\n"


def write(path: Path, data: str | bytes) -> Path:
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def table_row(n: int) -> str:
    """Text extracted from a table: words and figures, no sentence end, no line break."""
    words = ["Revenue", "2023", "12,4", "Total", "share", "of", "exports", "3,1", "USD"]
    out, size, i = [], 0, 0
    while size <= n:
        out.append(words[i % len(words)])
        size += len(out[-1]) + 1
        i += 1
    return " ".join(out)[: n - 1] + "x"


# --------------------------------------------------------------- files that are not files


@pytest.mark.timeout(30)
def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "brief.txt"
    os.mkfifo(fifo)  # no writer: a plain open() would wait for one for ever
    with pytest.raises(CorpusFormatError, match=r"brief\.txt: is a FIFO \(named pipe\)"):
        parse_file(fifo)
    with pytest.raises(CorpusFormatError, match="not a regular file"):
        discover([fifo])
    with pytest.raises(CorpusFormatError, match="is a FIFO"):
        read_regular(fifo, None)


@pytest.mark.timeout(30)
def test_devices_and_links_to_them_are_refused(tmp_path):
    zero = Path("/dev/zero")
    if not zero.exists():
        pytest.skip("no /dev/zero here")
    with pytest.raises(CorpusFormatError, match="/dev/zero: is a character device"):
        parse_file(zero)
    link = tmp_path / "brief.md"
    link.symlink_to(zero)
    with pytest.raises(CorpusFormatError, match=r"brief\.md: is a character device"):
        parse_file(link)
    with pytest.raises(CorpusFormatError, match="is a character device"):
        discover([link])


@pytest.mark.timeout(30)
def test_socket_is_refused(tmp_path):
    path = tmp_path / "s.txt"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(path))
        with pytest.raises(CorpusFormatError, match="is a socket"):
            parse_file(path)


@pytest.mark.timeout(30)
def test_folder_walk_skips_what_is_not_a_regular_file(tmp_path):
    real = write(tmp_path / "real.md", BRIEF)
    os.mkfifo(tmp_path / "pipe.md")
    if Path("/dev/zero").exists():
        (tmp_path / "zero.txt").symlink_to("/dev/zero")
    assert discover([tmp_path]) == [real.resolve()]


@pytest.mark.timeout(30)
def test_a_regular_file_is_read_only_up_to_its_budget(tmp_path):
    # /proc files say they hold 0 bytes and then give more: the read itself is bounded.
    proc = Path("/proc/self/status")
    if not proc.is_file() or proc.stat().st_size:
        pytest.skip("no /proc file that understates its size here")
    with pytest.raises(CorpusFormatError, match=r"grew while being read.*RAG_MAX_FILE_BYTES"):
        read_regular(proc, 10)
    assert len(read_regular(proc, 1_000_000)) > 10


# ----------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("codec", "bom"),
    [
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
        ("utf-16-le", b""),
        ("utf-16-be", b""),
        ("utf-32-le", b"\xff\xfe\x00\x00"),
    ],
)
@pytest.mark.parametrize("suffix", [".md", ".txt"])
@pytest.mark.timeout(30)
def test_text_encodings_are_read(tmp_path, codec, bom, suffix):
    text = BRIEF if suffix == ".md" else BRIEF.replace("# ", "").replace("#", "")
    text = text.replace("old.", "old. " + "The ties go back to the Cold War and before it. " * 3)
    doc = parse_file(write(tmp_path / f"brief{suffix}", bom + text.encode(codec)))
    assert "Café ’quotes’." in doc.body
    assert "Relations between the two states are old." in doc.body
    assert "\ufeff" not in doc.body and "\x00" not in doc.body


@pytest.mark.timeout(30)
def test_nul_past_the_first_8kb_is_refused(tmp_path):
    data = (BRIEF + "Filler sentence number one. " * 400).encode()
    assert len(data) > 9 * 1024
    path = write(tmp_path / "brief.md", data[: 9 * 1024] + b"\x00" + data[9 * 1024 :])
    with pytest.raises(CorpusFormatError, match=r"brief\.md: holds a NUL character"):
        parse_file(path)
    # The same text without it is a brief.
    assert parse_file(write(tmp_path / "clean.md", data)).paragraphs


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR" + bytes(range(256)) * 8,
        # NULs every other byte like UTF-16, but what it decodes to is control characters.
        bytes(b for i in range(4000) for b in (i % 32, 0)),
    ],
)
@pytest.mark.timeout(30)
def test_binary_files_keep_their_message(tmp_path, data):
    with pytest.raises(CorpusFormatError, match="looks binary, not a text brief"):
        parse_file(write(tmp_path / "blob.txt", data))


# --------------------------------------------------------------- what a brief may cost


@pytest.mark.timeout(30)
def test_byte_budget_refuses_before_reading(tmp_path):
    big = tmp_path / "big.md"
    with open(big, "wb") as fh:
        fh.truncate(50_000_000)  # 50 MB, sparse: refused on its size, never read
    with pytest.raises(CorpusFormatError, match=r"big\.md: 50,000,000 bytes over the budget"):
        parse_file(big, options=ReadOptions.from_settings(Settings(model="/nonexistent")))
    brief = write(tmp_path / "brief.md", BRIEF)
    size = brief.stat().st_size
    with pytest.raises(
        CorpusFormatError, match=rf"budget of {size - 1:,} bytes.*RAG_MAX_FILE_BYTES"
    ):
        parse_file(brief, options=ReadOptions(max_file_bytes=size - 1))
    assert parse_file(brief, options=ReadOptions(max_file_bytes=size)).paragraphs


FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("name", "variable", "limit"),
    [
        ("big.pdf", "RAG_PDF_MAX_BYTES", 200_000_000),
        ("big.docx", "RAG_MAX_DOCX_BYTES", 100_000_000),
    ],
)
def test_pdf_and_docx_byte_budgets_refuse_before_reading(tmp_path, name, variable, limit):
    """A .docx or a PDF over its own budget is refused on its size, never read: sparse
    files of 300 MB cost nothing here, and would cost their size in memory if read."""
    big = tmp_path / name
    with open(big, "wb") as fh:
        fh.truncate(300_000_000)
    options = ReadOptions.from_settings(Settings(model="/nonexistent"))
    pattern = rf"{name}: 300,000,000 bytes over the budget of {limit:,} bytes.*raise {variable}$"
    with pytest.raises(CorpusFormatError, match=pattern):
        parse_file(big, options=options)


@pytest.mark.parametrize(
    ("fixture", "option", "variable"),
    [
        ("brief-a5-sans.pdf", "max_pdf_bytes", "RAG_PDF_MAX_BYTES"),
        ("brief.docx", "max_docx_bytes", "RAG_MAX_DOCX_BYTES"),
        ("brief.html", "max_file_bytes", "RAG_MAX_FILE_BYTES"),
    ],
)
def test_every_format_has_a_byte_budget_and_raising_it_lets_the_file_through(
    fixture, option, variable
):
    path = FIXTURES / fixture
    size = path.stat().st_size
    with pytest.raises(CorpusFormatError, match=rf"budget of {size - 1:,} bytes.*{variable}"):
        parse_file(path, options=ReadOptions(**{option: size - 1}))
    assert parse_file(path, options=ReadOptions(**{option: size})).footnotes


def test_bytes_are_held_to_the_budget_of_the_format_they_are_in(tmp_path):
    """A PDF named .md is read as a PDF, so the PDF budget applies, not the Markdown one;
    HTML named .pdf is held to the (smaller) HTML budget."""
    pdf = write(tmp_path / "brief.md", (FIXTURES / "brief-a5-sans.pdf").read_bytes())
    size = pdf.stat().st_size
    with pytest.raises(CorpusFormatError, match=r"budget.*RAG_PDF_MAX_BYTES"):
        parse_file(pdf, options=ReadOptions(max_pdf_bytes=size - 1))
    assert parse_file(pdf, options=ReadOptions(max_file_bytes=size)).format == "pdf"
    html = write(tmp_path / "brief.pdf", (FIXTURES / "brief.html").read_bytes())
    with pytest.raises(CorpusFormatError, match=r"budget.*RAG_MAX_FILE_BYTES"):
        parse_file(html, options=ReadOptions(max_file_bytes=html.stat().st_size - 1))


@pytest.mark.timeout(30)
def test_line_budget(tmp_path):
    path = write(tmp_path / "table.txt", "Title\n\n" + table_row(5000) + "\n")
    with pytest.raises(
        CorpusFormatError, match=r"table\.txt: line 3 has 5,000 characters.*RAG_MAX_LINE_CHARS"
    ):
        parse_file(path, options=ReadOptions(max_line_chars=4999))
    assert parse_file(path, options=ReadOptions(max_line_chars=5000)).paragraphs


def footnoted(n: int) -> str:
    body = " ".join(f"Claim {i} is made.[^{i}]" for i in range(1, n + 1))
    notes = "".join(
        f'[^{i}]: Author {i}, "Title {i}," *Pub*, March 6, 2022.\n' for i in range(1, n + 1)
    )
    return f"# Notes\n\n## Body\n\n{body}\n\n{notes}"


@pytest.mark.timeout(30)
def test_footnote_budget(tmp_path):
    path = write(tmp_path / "notes.md", footnoted(50))
    with pytest.raises(
        CorpusFormatError, match=r"notes\.md: 50 footnote definitions.*RAG_MAX_FOOTNOTES_PER_BRIEF"
    ):
        parse_file(path, options=ReadOptions(max_footnotes_per_brief=49))
    assert len(parse_file(path, options=ReadOptions(max_footnotes_per_brief=50)).footnotes) == 50


@pytest.mark.timeout(60)
def test_100k_footnote_definitions_are_refused_and_parse_fast_when_allowed(tmp_path):
    defs = "".join(f'[^{i}]: Author {i}, "Title {i}," *Pub*, 2022.\n' for i in range(1, 100_001))
    md = write(tmp_path / "many.md", "# Notes\n\n## Body\n\nA paragraph citing one.[^1]\n\n" + defs)
    # Plain text: prose cut by a footnote at every "page break", rejoined each time.
    parts = ["Notes\n\nIntroduction\n\n" + "An opening paragraph long enough to be prose. " * 3]
    for i in range(1, 100_001):
        marker = str(i).translate(SUPER)
        parts.append(f"\n\nand the text goes on{marker}\n\n{marker} Author {i}, Pub, 2022.")
    txt = write(tmp_path / "many.txt", "".join(parts) + "\n")
    for path in (md, txt):
        with pytest.raises(CorpusFormatError, match="100,000 footnote definitions"):
            parse_file(path)
        allowed = parse_file(path, options=ReadOptions(max_footnotes_per_brief=100_000))
        assert len(allowed.footnotes) == 100_000


@pytest.mark.timeout(60)
def test_passage_budget(tmp_path):
    points = "".join(f"Point {i}.\n\n" for i in range(10))
    path = write(tmp_path / "paras.md", "# T\n\n## S\n\n" + points)
    doc = parse_file(path)
    n = len(chunk_document(doc, chunk_params()))
    assert n >= 10
    with pytest.raises(
        CorpusFormatError,
        match=rf"paras\.md: cut into more than {n - 1} passages.*RAG_MAX_PASSAGES_PER_BRIEF",
    ):
        chunk_document(doc, chunk_params(), max_passages=n - 1)
    assert len(chunk_document(doc, chunk_params(), max_passages=n)) == n
    # And through an index build: refused, nothing written.
    out = tmp_path / "index"
    args = (FakeEncoder(), chunk_params())
    with pytest.raises(CorpusFormatError, match=f"more than {n - 1} passages"):
        build_index([path], out, *args, model_path="/nonexistent", dense=dense_params(),
                    read_options=ReadOptions(max_passages_per_brief=n - 1))  # fmt: skip
    assert not out.exists()
    build_index([path], out, *args, model_path="/nonexistent", dense=dense_params(),
                read_options=ReadOptions(max_passages_per_brief=n))  # fmt: skip
    assert (out / "manifest.json").is_file()


def test_settings_carry_every_budget(monkeypatch):
    monkeypatch.setenv("RAG_MAX_FILE_BYTES", "1234")
    monkeypatch.setenv("RAG_MAX_LINE_CHARS", "567")
    monkeypatch.setenv("RAG_MAX_FOOTNOTES_PER_BRIEF", "8")
    monkeypatch.setenv("RAG_MAX_PASSAGES_PER_BRIEF", "9")
    monkeypatch.setenv("RAG_PDF_MAX_PAGES", "10")
    monkeypatch.setenv("RAG_PDF_MAX_BYTES", "11")
    monkeypatch.setenv("RAG_MAX_DOCX_BYTES", "12")
    options = ReadOptions.from_settings(Settings(model="/nonexistent"))
    assert options == ReadOptions(
        max_pdf_pages=10,
        max_pdf_bytes=11,
        max_docx_bytes=12,
        max_file_bytes=1234,
        max_line_chars=567,
        max_footnotes_per_brief=8,
        max_passages_per_brief=9,
    )
    # The defaults here are the settings' defaults.
    monkeypatch.delenv("RAG_MAX_FILE_BYTES")
    for name in ("MAX_LINE_CHARS", "MAX_FOOTNOTES_PER_BRIEF", "MAX_PASSAGES_PER_BRIEF"):
        monkeypatch.delenv(f"RAG_{name}")
    for name in ("PDF_MAX_PAGES", "PDF_MAX_BYTES", "MAX_DOCX_BYTES"):
        monkeypatch.delenv(f"RAG_{name}")
    assert ReadOptions.from_settings(Settings(model="/nonexistent")) == ReadOptions()


# ----------------------------------------------------------- long runs, bounded passages


@pytest.mark.parametrize("unit", ["a.", "x", "漢字"])
@pytest.mark.timeout(60)
def test_a_run_without_spaces_is_cut_at_the_token_limit(tmp_path, unit):
    run = unit * (1_000_000 // len(unit.encode()))  # 1 MB on disk, one line
    doc = parse_file(write(tmp_path / "run.txt", run + "\n"))
    params = chunk_params()
    passages = chunk_document(doc, params)
    assert len(passages) > 1
    for p in passages:
        assert p.tokens == count_tokens(p.text, params.tokenizer) <= params.max_tokens
    assert "".join(p.text for p in passages) == run  # nothing lost, nothing repeated


@pytest.mark.timeout(60)
def test_a_long_line_without_a_sentence_end_is_parsed_in_seconds(tmp_path):
    row = table_row(1_000_000)  # pysbd alone: 200 KB took 43 s, 1 MB more than 120
    doc = parse_file(write(tmp_path / "table.txt", "Title\n\n" + row + "\n"))
    params = chunk_params()
    passages = chunk_document(doc, params)
    assert all(p.tokens <= params.max_tokens for p in passages)
    covered = " ".join(p.text for p in passages if p.kind == "body")
    assert covered.split()[:5] == row.split()[:5] and covered.endswith(row.split()[-1])


@pytest.mark.timeout(60)
def test_windows_keep_pysbds_sentences():
    brief = parse_file(Path(Settings(model="/nonexistent").corpus[0]))
    text = " ".join(
        brief.body[p.span.start : p.span.end] for p in brief.paragraphs if p.kind == "body"
    )
    assert len(text) > 5 * WINDOW_CHARS
    spans = sentence_spans(text)
    assert spans == _segment(text)  # the same sentences as pysbd given the text whole
    assert max(e - s for s, e in sentence_spans(table_row(50_000))) <= WINDOW_CHARS


@pytest.mark.timeout(60)
def test_many_headings_or_paragraphs_parse_in_linear_time(tmp_path):
    # Heading-like lines with no prose after them (each once scanned all the rest) ...
    headings = "".join(f"Heading Number {i}\n\n" for i in range(20_000))
    doc = parse_file(write(tmp_path / "heads.txt", headings + "Closing line of the file.\n"))
    assert len(doc.sections) >= 20_000
    # ... a Markdown brief with no sections (its blocks were taken off the front one by one),
    paras = "".join(f"Paragraph {i} says a thing.\n\n" for i in range(100_000))
    flat = parse_file(write(tmp_path / "flat.md", "# T\n\n" + paras))
    assert sum(p.kind == "body" for p in flat.paragraphs) == 100_000
    # ... and one footnote of many continuation lines (its text was copied at each).
    note = "# T\n\n## S\n\nText.[^1]\n\n[^1]: start\n" + "    more words here\n" * 200_000
    assert parse_file(write(tmp_path / "note.md", note)).footnotes[0].citation.endswith("here")


# ------------------------------------------------------------------------------------ CLI


@pytest.mark.timeout(60)
def test_cli_index_of_a_fifo_is_one_line(tmp_path):
    fifo = tmp_path / "brief.txt"
    os.mkfifo(fifo)
    out = tmp_path / "idx"
    result = CliRunner().invoke(app, ["index", str(fifo), "--out", str(out)])
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "brief.txt: is a FIFO (named pipe), not a regular file" in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists()
