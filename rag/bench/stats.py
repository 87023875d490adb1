"""Percentiles and the question set every measurement uses."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear between ranks; 0 for no values."""
    import numpy as np

    return float(np.percentile(values, q)) if len(values) else 0.0


def summary(values_ms: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values_ms),
        "p50_ms": round(percentile(values_ms, 50), 2),
        "p95_ms": round(percentile(values_ms, 95), 2),
        "p99_ms": round(percentile(values_ms, 99), 2),
    }


def questions(eval_dir: Path) -> list[str]:
    """Every question of the bundled eval sets."""
    out = []
    for name in ("qa.jsonl", "heldout.jsonl", "footnotes.jsonl"):
        path = eval_dir / name
        if path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()
            out += [json.loads(line)["question"] for line in lines if line.strip()]
    return out


def unique(base: Sequence[str], n: int, tag: str) -> list[str]:
    """``n`` questions, each made unique with a suffix, so no cache anywhere can help."""
    return [f"{base[i % len(base)]} ({tag}{i})" for i in range(n)]


def judged(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Several runs' reports as one: the last run's figures, each target judged on its
    median over the runs (with the range and the per-run values beside it)."""
    last = results[-1]
    last["runs"] = [{t["target"]: t["value"] for t in r["targets"]} for r in results]
    last["targets"] = [_median_target(row, last["runs"]) for row in last["targets"]]
    return last


def _median_target(row: dict[str, Any], runs: list[dict[str, float]]) -> dict[str, Any]:
    import statistics

    values = [r[row["target"]] for r in runs]
    value = statistics.median(values)
    op, bound = row["bound"].split()
    met = value <= float(bound) if op == "≤" else value >= float(bound)
    low, high = round(min(values), 3), round(max(values), 3)
    return {**row, "value": round(value, 3), "met": met, "range": [low, high], "runs": len(runs)}
