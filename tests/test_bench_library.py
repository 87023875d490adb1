"""`rag bench --library`: the generated library is deterministic, and one library run
measures and judges every target it reports (plumbing only, with the fake encoder: the
figures of a real run are in docs/performance.md, never asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.bench import library
from rag.cli import app
from rag.config import Settings, bundled_brief
from tests.conftest import FakeEncoder

TARGETS = [
    "build_rate / bare_fp32_batch32_rate",
    "library_search_p50 / brief_search_p50",
    "add_one_brief_s / full_build_s",
    "rss_mb",
]


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.md"))}


def test_the_library_is_the_same_bytes_each_time(tmp_path: Path) -> None:
    shelf_a, extra_a = library.write_library(tmp_path / "a", 300)
    library.write_library(tmp_path / "b", 300)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    names = sorted(p.name for p in shelf_a[0].iterdir())
    assert bundled_brief().name in names and len(names) == 1 + 6  # 273 / 49 ≈ 6 generated
    assert extra_a.read_text() not in {p.read_text() for p in shelf_a[0].glob("*.md")}


def test_a_library_run_measures_and_judges_every_target(tmp_path: Path) -> None:
    settings = Settings(model="/nonexistent", index_dir=tmp_path / "unused")
    steps: list[str] = []
    result = library.repeat(
        settings, 120, 2, steps.append, encoder=FakeEncoder(), serve=False, quick=True
    )
    json.dumps(result)  # what --json prints
    assert result["documents"] == 2 + 1  # two generated briefs and the bundled one
    assert result["questions"] == 16 and result["search_library"]["n"] == 16
    build, add = result["build"], result["add"]
    assert build["passages_per_s"] > 0 and build["bare_passages_per_s"] > 0
    assert len(build["bare_runs_passages_per_s"]) == 2  # before and after the build
    assert build["embedded"]["passages"] == result["passages"]  # a fresh build: no cache
    # --add embeds the new brief's passages only; the cache answers for the rest.
    assert add["passages"] > 0 and add["embedded_passages"] == add["passages"]
    assert [t["target"] for t in result["targets"]] == TARGETS
    assert len(result["runs"]) == 2
    for row in result["targets"]:
        low, high = row["range"]
        assert low <= row["value"] <= high and isinstance(row["met"], bool)
    assert next(t for t in result["targets"] if t["target"] == "rss_mb")["bound"] == "≤ 1000"
    assert any("adding one brief" in s for s in steps)


def test_a_built_library_is_judged_on_its_query_cost_and_memory(tmp_path: Path) -> None:
    """``--library-index``: a library built before the bench (as a 100k one must be) is
    measured without building it again; its build and --add targets are not reported."""
    from rag.engine import build

    shelf, _ = library.write_library(tmp_path / "shelf", 120)
    built = tmp_path / "built"
    settings = Settings(model="/nonexistent", index_dir=tmp_path / "unused")
    build(settings.model_copy(update={"index_dir": built}), shelf, out=built, encoder=FakeEncoder())
    before = sorted(p.name for p in built.resolve().iterdir())
    steps: list[str] = []
    result = library.repeat_built(
        settings, built, 2, steps.append, encoder=FakeEncoder(), serve=False, quick=True
    )
    json.dumps(result)
    assert result["index"] == str(built) and result["documents"] == 2 + 1
    assert "build" not in result and "add" not in result
    assert [t["target"] for t in result["targets"]] == [TARGETS[1], TARGETS[3]]
    assert result["search_library"]["n"] == 16 and len(result["runs"]) == 2
    assert not any("building" in s or "adding" in s for s in steps)
    assert sorted(p.name for p in built.resolve().iterdir()) == before  # left as it was


def test_the_query_bound_follows_the_issue() -> None:
    assert library.query_bound(10_000) == 1.5 and library.query_bound(100_000) == 2.0


def test_the_command_line_documents_and_checks_library_mode() -> None:
    runner = CliRunner()
    shown = runner.invoke(app, ["bench", "--help"], env={"COLUMNS": "200"})
    assert "--library" in shown.output and "PASSAGES" in shown.output
    both = runner.invoke(app, ["bench", "--library", "100", "--peer", "llamaindex"])
    assert both.exit_code == 2 and "--library" in both.output
    assert runner.invoke(app, ["bench", "--library", "5"]).exit_code != 0
    assert "--library-index" in shown.output
    missing = runner.invoke(app, ["bench", "--library-index", "/nonexistent/library"])
    assert missing.exit_code != 0 and "no index at /nonexistent/library" in missing.output
    assert "Traceback" not in missing.output
    two = runner.invoke(app, ["bench", "--library", "100", "--library-index", "/tmp"])
    assert two.exit_code == 2 and "give one of them" in two.output


def test_by_length_encodes_in_length_order_and_gives_rows_back_in_place() -> None:
    import numpy as np

    from rag.store.index import by_length

    texts = ["a much longer text than the others", "short", "a middling text"]
    seen: list[list[str]] = []

    def encode(batch: list[str]) -> np.ndarray:
        seen.append(batch)
        return np.array([[len(t)] for t in batch], dtype=np.float32)

    rows = by_length(texts, encode)
    assert seen == [sorted(texts, key=len)]
    assert rows[:, 0].tolist() == [len(t) for t in texts]
    groups = by_length(texts, lambda batch: [np.full((len(t), 1), len(t)) for t in batch])
    assert [len(g) for g in groups] == [len(t) for t in texts]


@pytest.mark.model
@pytest.mark.server
def test_rag_bench_library_runs_end_to_end_with_the_real_model(tmp_path: Path) -> None:
    """A smoke run of what users run (a library of two briefs, 16 questions, a real server):
    every target is measured and judged; the figures themselves are not checked."""
    out = tmp_path / "library.json"
    result = CliRunner().invoke(app, ["bench", "--library", "60", "--quick", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["encoder"] == "onnx-int8" and report["index_encoder"] == "onnx"
    assert (
        report["passages"] > 27 and report["add"]["embedded_passages"] == report["add"]["passages"]
    )
    assert report["http_c1_search"]["n"] == 16 and report["rss_of"].startswith("rag serve")
    assert [t["target"] for t in report["targets"]] == TARGETS
    assert "library targets" in result.output and "verdict" in result.output


@pytest.mark.model
@pytest.mark.server
def test_rag_bench_library_index_judges_a_built_index_with_a_real_server(
    tmp_path: Path, real_index_dir: Path
) -> None:
    """What a user runs on a library too large to build in a bench run, here the bundled
    brief's real-model index: the query cost and a real server's RSS, judged."""
    out = tmp_path / "built.json"
    result = CliRunner().invoke(
        app, ["bench", "--library-index", str(real_index_dir), "--quick", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["encoder"] == "onnx-int8" and report["passages"] == 27
    assert report["http_c1_search"]["n"] == 16 and report["rss_of"].startswith("rag serve")
    assert [t["target"] for t in report["targets"]] == [TARGETS[1], TARGETS[3]]
    assert "build rate and --add are not measured" in result.output
