"""Budgets on hostile PDFs (tests/hostile_pdfs.py): each is refused in seconds with one line
naming the file, the limit and the setting, while reading it stays within bounded memory;
raising the setting lets a moderate version through.

The figures are measured in a fresh process (``read_isolated``): its wall time and peak RSS,
and the peak RSS of the PDFium worker it starts. Before the budgets, the same files took
17 s and 1.7 GB (forms, depth 6), 4 s and 2.1 GB (1 GiB stream), 4.6 s to parse and over
120 s to index (50 × 3,000 glyphs); depth 7 was still growing past 4 GiB at 20 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rag.config import Settings
from rag.errors import CorpusFormatError
from rag.parsing import ReadOptions, parse_file
from rag.parsing.pdf import reader, scan
from tests import hostile_pdfs

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
pytestmark = pytest.mark.timeout(120)

# The bounds every hostile file is read within, budgets at their defaults.
SECONDS = 5.0
EXTRA_MB = 500

# Runs in a fresh process: read one PDF with the settings of its environment, report the
# outcome, the time and the peaks (its own, and its worker's: RUSAGE_CHILDREN) as JSON.
ISOLATED = """
import json, resource, sys, time
from pathlib import Path
from rag.config import Settings
from rag.parsing import ReadOptions, parse_file
import rag.parsing.pdf.reader as reader
if sys.argv[2] == "no-scan":  # what the raw scan cannot see is the worker's to bound
    reader.scan = lambda path, data, options: None
options = ReadOptions.from_settings(Settings())
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
try:
    doc = parse_file(Path(sys.argv[1]), options=options)
    outcome = "parsed: " + doc.body[:60]
except Exception as exc:
    outcome = f"{type(exc).__name__}: {exc}"
print(json.dumps({
    "outcome": outcome,
    "seconds": time.perf_counter() - started,
    "baseline_mb": baseline / 1024,
    "self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
}))
"""


def read_isolated(path: Path, *, scan: bool = True, **settings: object) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.update({f"RAG_{name.upper()}": str(value) for name, value in settings.items()})
    done = subprocess.run(
        [sys.executable, "-P", "-c", ISOLATED, str(path), "scan" if scan else "no-scan"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def assert_refused(report: dict[str, Any], path: Path, *phrases: str) -> None:
    """One line naming the file, the limit and the setting; read in seconds and bounded
    memory (the worker's peak is 0 when the raw scan refused it first)."""
    outcome = report["outcome"]
    assert outcome.startswith(f"CorpusFormatError: {path}: "), outcome
    assert "\n" not in outcome
    for phrase in phrases:
        assert phrase in outcome
    assert report["seconds"] < SECONDS, report
    assert report["self_mb"] - report["baseline_mb"] < EXTRA_MB, report
    assert report["worker_mb"] < EXTRA_MB, report


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def read(path: Path, **options: Any) -> str:
    """The body of the PDF at ``path`` read with these ReadOptions."""
    return parse_file(path, options=ReadOptions(**options)).body


# -- (a) form XObjects drawing each other ten times per level ----------------------------


@pytest.mark.parametrize("depth", [6, 7, 9])
def test_nested_forms_are_refused_before_pdfium_expands_them(tmp_path, depth):
    path = write(tmp_path, "forms.pdf", hostile_pdfs.nested_forms(depth))
    assert path.stat().st_size < 4000
    report = read_isolated(path)
    assert_refused(
        report,
        path,
        "page 1 draws more than the limit of 100,000 objects",
        "RAG_PDF_MAX_PAGE_OBJECTS",
    )
    assert report["worker_mb"] == 0  # PDFium never saw it


def test_moderate_nested_forms_pass_when_the_limit_is_raised(tmp_path):
    path = write(tmp_path, "forms.pdf", hostile_pdfs.nested_forms(5))  # 111,111 objects
    with pytest.raises(CorpusFormatError, match="RAG_PDF_MAX_PAGE_OBJECTS"):
        read(path)
    assert read(path, max_pdf_page_objects=300_000) == "deep"


def test_forms_nested_too_deep_are_refused_by_depth(tmp_path):
    path = write(tmp_path, "chain.pdf", hostile_pdfs.nested_forms(20, fanout=1))
    with pytest.raises(CorpusFormatError) as caught:
        read(path)
    assert str(caught.value) == (
        f"{path}: page 1 nests form XObjects deeper than the limit of 12; "
        "if the file is genuine, raise RAG_PDF_MAX_FORM_DEPTH"
    )
    assert read(path, max_pdf_form_depth=20) == "deep"


# -- (b) a small file holding a 1 GiB FlateDecode stream ---------------------------------


def test_flate_bomb_is_refused_while_inflating_a_chunk_at_a_time(tmp_path):
    path = write(tmp_path, "bomb.pdf", hostile_pdfs.flate_bomb(1024))
    assert path.stat().st_size < 2_000_000
    report = read_isolated(path)
    assert_refused(
        report,
        path,
        "its streams inflate to more than the limit of 256 MiB",
        "RAG_PDF_MAX_DECODED_MB",
    )
    assert report["worker_mb"] == 0


def test_moderate_flate_stream_passes_when_the_limit_is_raised(tmp_path):
    path = write(tmp_path, "bomb.pdf", hostile_pdfs.flate_bomb(48))
    with pytest.raises(CorpusFormatError, match=r"limit of 32 MiB.*RAG_PDF_MAX_DECODED_MB"):
        read(path, max_pdf_decoded_mb=32)
    assert read(path, max_pdf_decoded_mb=64) == "Inflated zeros follow."


# -- (c) 50 pages of 3,000 one-character text objects -------------------------------------


def test_many_one_glyph_text_objects_are_refused(tmp_path):
    path = write(tmp_path, "glyphs.pdf", hostile_pdfs.many_glyphs(50, 3000))
    report = read_isolated(path)
    assert_refused(
        report,
        path,
        "more than the limit of 100,000 text objects by page 34",
        "split the file or raise RAG_PDF_MAX_TEXT_OBJECTS",
    )


def test_fewer_glyph_objects_pass_when_the_limit_is_raised(tmp_path):
    path = write(tmp_path, "glyphs.pdf", hostile_pdfs.many_glyphs(10, 3000))
    with pytest.raises(CorpusFormatError, match="20,000 text objects by page 7"):
        read(path, max_pdf_text_objects=20_000)
    assert "a b c d e f g" in read(path, max_pdf_text_objects=40_000)


# -- the worker: its exact counts, and its memory and time limits, for what the raw scan
# -- cannot see (here: the scan switched off) ----------------------------------------------


def test_without_the_scan_the_worker_counts_the_same_text_objects(tmp_path):
    path = write(tmp_path, "glyphs.pdf", hostile_pdfs.many_glyphs(50, 3000))
    report = read_isolated(path, scan=False)
    assert_refused(report, path, "100,000 text objects by page 34", "RAG_PDF_MAX_TEXT_OBJECTS")
    assert report["worker_mb"] > 0


@pytest.mark.parametrize(
    ("make", "settings", "phrases"),
    [
        (
            lambda: hostile_pdfs.nested_forms(5),
            {},
            ("page 1 draws more than the limit of 100,000 objects", "RAG_PDF_MAX_PAGE_OBJECTS"),
        ),
        (
            lambda: hostile_pdfs.nested_forms(15, fanout=1),
            {},
            ("page 1 nests form XObjects deeper than the limit of 12", "RAG_PDF_MAX_FORM_DEPTH"),
        ),
        (
            lambda: hostile_pdfs.many_glyphs(2, 3000),
            {"pdf_max_page_chars": 4000},
            ("page 1 holds more than the limit of 4,000 characters", "RAG_PDF_MAX_PAGE_CHARS"),
        ),
        (
            lambda: hostile_pdfs.many_glyphs(3, 3000),
            {"pdf_max_chars": 10_000},
            ("more than the limit of 10,000 characters by page 2", "RAG_PDF_MAX_CHARS"),
        ),
    ],
    ids=["objects", "depth", "page-chars", "chars"],
)
def test_worker_counts_before_reading_glyphs(tmp_path, make, settings, phrases):
    path = write(tmp_path, "hostile.pdf", make())
    assert_refused(read_isolated(path, scan=False, **settings), path, *phrases)


@pytest.mark.parametrize(
    "make",
    [lambda: hostile_pdfs.nested_forms(7), lambda: hostile_pdfs.flate_bomb(1024)],
    ids=["forms", "flate"],
)
def test_worker_memory_limit_stops_what_the_scan_misses(tmp_path, make):
    path = write(tmp_path, "hostile.pdf", make())
    report = read_isolated(path, scan=False, pdf_max_memory_mb=256, pdf_max_page_objects=10**9)
    assert_refused(
        report,
        path,
        "reading it needs more than the limit of 256 MiB of memory",
        "RAG_PDF_MAX_MEMORY_MB",
    )
    assert report["worker_mb"] <= 256


def test_worker_time_limit(tmp_path):
    path = write(tmp_path, "glyphs.pdf", hostile_pdfs.many_glyphs(50, 3000))
    report = read_isolated(path, scan=False, pdf_max_seconds=0.5, pdf_max_text_objects=10**6)
    assert_refused(report, path, "takes longer than the limit of 0.5 s", "RAG_PDF_MAX_SECONDS")


# -- real briefs: far inside every budget --------------------------------------------------


@pytest.mark.parametrize("name", ["brief-a4-serif.pdf", "brief-a5-sans.pdf", "plain-memo.pdf"])
def test_real_briefs_sit_far_below_the_defaults(name):
    path = FIXTURES / name
    state = scan._Scan(path, path.read_bytes(), ReadOptions())
    state.index()
    state.streams()
    drawn = [
        state.draws(state._contents(p.get("Contents")), p.get("Resources"), 1)
        for p in state.pages()
    ]
    assert drawn
    assert state.decoded < 1 << 20  # of 256 MiB
    assert max(d.objects for d in drawn) < 400  # of 100,000 per page
    assert sum(d.texts for d in drawn) < 1000  # of 100,000 per document
    assert max(d.depth for d in drawn) == 0  # of 12


def test_scan_is_quiet_on_what_it_cannot_read(tmp_path, monkeypatch):
    path = write(tmp_path, "cut.pdf", hostile_pdfs.nested_forms(6)[:900])  # truncated
    scan.scan(path, path.read_bytes(), ReadOptions())  # the worker reports the damage
    path.write_bytes(b"%PDF-1.7\n1 0 obj << /Length 5 0 R >>\nstream\n\x00\xff(((\nendstream")
    scan.scan(path, path.read_bytes(), ReadOptions())


def test_streams_inflate_as_pdfium_reads_them():
    import base64
    import zlib

    def decode(decoder: scan.Decoder, data: bytes) -> bytes:
        chunks = iter([data[i : i + 7] for i in range(0, len(data), 7)])
        return b"".join(decoder(chunks, {}))

    # The PDF reference's LZW example; then each filter stops at its own end-of-data mark.
    assert decode(scan._lzw, bytes.fromhex("800B6050220C0C8501")) == b"-----A---B"
    assert decode(scan._ascii_hex, b"48 65 6c6C6F2>ff") == b"Hello "
    text = b"brief 0000 \x00\x00\x00\x00 end"
    assert decode(scan._ascii85, base64.a85encode(text) + b"~>junk") == text
    assert decode(scan._run_length, b"\x02abc\xfez\x80junk") == b"abczzz"
    assert decode(scan._inflate, zlib.compress(b"x" * 100_000) + b"junk") == b"x" * 100_000


# -- settings and the command line ---------------------------------------------------------


def test_read_options_carry_every_pdf_setting():
    defaults = ReadOptions.from_settings(Settings())
    assert defaults == ReadOptions()  # one set of defaults, in config.py and readers.py
    raised = ReadOptions.from_settings(
        Settings(pdf_max_decoded_mb=512, pdf_max_text_objects=7, pdf_max_seconds=1.5)
    )
    assert (raised.max_pdf_decoded_mb, raised.max_pdf_text_objects) == (512, 7)
    assert raised.max_pdf_seconds == 1.5
    for name in ("decoded_mb", "form_depth", "page_objects", "text_objects", "memory_mb"):
        assert Settings.model_fields[f"pdf_max_{name}"].description


def test_cli_index_of_a_hostile_pdf_is_one_line_and_no_index(tmp_path):
    path = write(tmp_path, "hostile.pdf", hostile_pdfs.nested_forms(7))
    out = tmp_path / "idx"
    rag = [sys.executable, "-P", "-c", "from rag.cli import main; main()"]
    done = subprocess.run(
        [*rag, "index", str(path), "--out", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert lines[0].startswith(f"error: {path}: page 1 draws more than the limit")
    assert lines[0].endswith("RAG_PDF_MAX_PAGE_OBJECTS")
    assert not out.exists()


def test_setting_reaches_the_cli(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from rag.cli import app

    path = write(tmp_path, "glyphs.pdf", hostile_pdfs.many_glyphs(3, 300))
    monkeypatch.setenv("RAG_PDF_MAX_TEXT_OBJECTS", "500")
    result = CliRunner().invoke(app, ["index", str(path), "--out", str(tmp_path / "idx")])
    assert result.exit_code == 2
    assert "500 text objects by page 2; split the file or raise RAG_PDF_MAX_TEXT_OBJECTS" in (
        result.output
    )


def test_reader_scans_before_the_worker_runs(tmp_path, monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(reader, "scan", lambda *args: calls.append("scan"))
    monkeypatch.setattr(reader, "read_pages", lambda *args: calls.append("read") or [])
    with pytest.raises(CorpusFormatError):  # no pages: no text layer
        parse_file(FIXTURES / "plain-memo.pdf")
    assert calls == ["scan", "read"]
