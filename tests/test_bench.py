"""`rag bench` runs end to end on this machine (a smoke run: figures, not speed, checked)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app

pytestmark = [pytest.mark.model, pytest.mark.server]


def test_bench_measures_everything_it_reports(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(app, ["bench", "--quick", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["questions"] == 16 and report["build"]["passages"] == 27
    floor = report["floor"][report["encoder"]]
    assert floor["n"] == 16 and floor["p50_ms"] > 0 and floor["batch16_qps"] > 0
    assert set(report["in_process"]) == {"hybrid", "dense", "bm25"}
    assert set(report["legs"]) == {
        "encode", "dense", "sentences", "tokens", "bm25", "footnotes", "fusion"
    }  # fmt: skip
    for row in (*report["in_process"].values(), *report["http_c1"].values()):
        assert row["n"] == 16 and 0 < row["p50_ms"] <= row["p99_ms"]
    crowd = report["http_c32"]
    assert crowd["n"] == 64 and crowd["errors"] == 0 and crowd["status_codes"] == {"200": 64}
    assert report["ready_s"] > 0 and report["server_peak_rss_mb"] > 50
    assert report["targets"][0]["target"].startswith("http_c1_search_p50")
    assert all(isinstance(t["met"], bool) for t in report["targets"])
    assert "targets" in result.output and "HTTP c=32 POST /search" in result.output
