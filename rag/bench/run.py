"""One ``rag bench`` run: build, measure in process, serve and load, compare to targets."""

from __future__ import annotations

import platform
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag.bench import http, inprocess
from rag.bench.stats import judged, questions, unique
from rag.config import Settings

# (name, what it compares, the bound). Ratios are to the bare int8 encoder, measured in the
# same run. The serving bounds are the ones issue #22 restated for a 2-core machine whose
# load generator shares the cores (the first issue's 1.3×, 0.6× and 100 ms were not
# reachable here; docs/performance.md has the arithmetic).
TARGETS: tuple[tuple[str, str, float], ...] = (
    ("http_c1_search_p50 / int8_single_p50", "≤", 2.5),
    ("c32_requests_per_s / int8_batch16_qps", "≥", 0.55),
    ("c32_p99_ms", "≤", 150.0),
    ("c32_errors", "≤", 0.0),
    ("ready_s", "≤", 3.0),
    ("server_peak_rss_mb", "≤", 600.0),
)
# Only with --peer: in-process hybrid p50 at least 2.5× faster than the LlamaIndex peer's.
PEER_TARGET: tuple[str, str, float] = ("llamaindex_p50 / hybrid_p50", "≥", 2.5)


def run(
    settings: Settings,
    say: Callable[[str], None] = lambda _: None,
    *,
    quick: bool = False,
    peer: str | None = None,
) -> dict[str, Any]:
    """Every figure of the report; ``quick`` uses 16 questions and 64 crowd requests (a
    smoke run for tests, not a measurement); ``peer`` (checked with
    :func:`rag.bench.peer.require` first) adds that library's retriever, measured last so
    its torch threads idle through everything else."""
    from rag.encoding.backends import available
    from rag.engine import open_engine

    asked = questions(settings.eval_dir)[: 16 if quick else None]
    crowd_size = 64 if quick else 20 * 32
    result: dict[str, Any] = {"questions": len(asked), "machine": _machine(), "quick": quick}
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as folder:
        index_dir = Path(folder) / "index"
        cfg = settings.model_copy(update={"index_dir": index_dir})
        say("building the index")
        result["build"] = inprocess.build_time(cfg, index_dir)
        engine = open_engine(cfg, auto_build=False)
        result["encoder"] = engine.encoder.backend
        backend = engine.encoder.backend
        say(f"encoding floor ({backend})")
        result["floor"] = {backend: _best_floor(cfg, backend, asked)}
        if backend != "onnx-int8" and available("onnx-int8"):
            say("encoding floor (onnx-int8)")
            result["floor"]["onnx-int8"] = _best_floor(cfg, "onnx-int8", asked)
        say("retrievers and legs in process")
        result["in_process"] = inprocess.retrievers(engine, asked)
        result["legs"] = inprocess.legs(engine, asked)
        say("rag serve: start-up, one client, 32 clients")
        with http.serve(index_dir) as server:
            result["ready_s"] = server.ready_s
            result["http_c1"] = http.one_client(server, asked)
            result["http_c32"] = http.crowd(server, unique(asked, crowd_size, "x"), 32)
            result["server_peak_rss_mb"] = server.peak_rss_mb()
        if peer is not None:
            say(f"peer: {peer} in process")
            result["peer"] = _peer(cfg, engine, asked, Path(folder), quick=quick)
    result["targets"] = _targets(result)
    return result


def repeat(
    settings: Settings,
    runs: int,
    say: Callable[[str], None] = lambda _: None,
    *,
    quick: bool = False,
    peer: str | None = None,
) -> dict[str, Any]:
    """:func:`run` ``runs`` times. The targets are judged on each figure's median over the
    runs, with its range beside it (on a shared VM one run's ratios move by up to 30 %);
    the detailed figures are the last run's, and every run's target figures are kept."""
    results = []
    for i in range(runs):
        step = say if runs == 1 else (lambda text, i=i: say(f"run {i + 1}/{runs}: {text}"))
        results.append(run(settings, step, quick=quick, peer=peer))
    return results[-1] if runs == 1 else judged(results)


def _best_floor(cfg: Settings, backend: str, asked: list[str]) -> dict[str, Any]:
    """The bare encoder at its best on this machine: timed with the server's threads and
    with all of a worker's cores, the faster single-question p50 and the higher batch-16
    rate kept (each from its own thread count, recorded), so no ratio to it flatters."""
    from rag.encoding.backends import load_encoder

    runs: dict[int, dict[str, float]] = {}
    for threads in sorted({cfg.inference_threads(serving=True), cfg.inference_threads()}):
        encoder = load_encoder(
            cfg.model,
            backend=backend,
            device=cfg.device,
            cache_dir=cfg.model_cache,
            threads=threads,
        )
        runs[threads] = inprocess.encode_floor(encoder, asked)
    single = min(runs, key=lambda t: runs[t]["p50_ms"])
    batch = max(runs, key=lambda t: runs[t]["batch16_qps"])
    return {
        **{k: v for k, v in runs[single].items() if k != "batch16_qps"},
        "batch16_qps": runs[batch]["batch16_qps"],
        "single_threads": single,
        "batch16_threads": batch,
        "by_threads": {str(t): figures for t, figures in runs.items()},
    }


def _peer(
    cfg: Settings, engine: Any, asked: list[str], folder: Path, *, quick: bool
) -> dict[str, Any]:
    from rag.bench import peer
    from rag.evaluation.dataset import load_qa

    def ours(question: str, k: int) -> list[str]:
        return [h.passage.id for h in engine.search(question, k=k, retriever="hybrid").hits]

    names = ("qa.jsonl",) if quick else ("qa.jsonl", "heldout.jsonl")
    paths = [cfg.eval_dir / name for name in names if (cfg.eval_dir / name).is_file()]
    sets = [(path, load_qa(path)[: 16 if quick else None]) for path in paths]
    run = peer.measure(cfg, engine.handle, asked, sets, ours, folder / "peer-cache")
    return run.as_dict()


def _figures(r: dict[str, Any]) -> dict[str, float]:
    int8 = r["floor"].get("onnx-int8") or {}
    single, rate = int8.get("p50_ms") or 0.0, int8.get("batch16_qps") or 0.0
    c32 = r["http_c32"]
    figures = {
        "http_c1_search_p50 / int8_single_p50": (
            r["http_c1"]["search"]["p50_ms"] / single if single else float("nan")
        ),
        "c32_requests_per_s / int8_batch16_qps": c32["requests_per_s"] / rate if rate else 0.0,
        "c32_p99_ms": c32["p99_ms"],
        "c32_errors": c32["errors"],
        "ready_s": r["ready_s"],
        "server_peak_rss_mb": r["server_peak_rss_mb"],
    }
    if "peer" in r:
        hybrid = r["peer"]["hybrid_latency"]["p50_ms"]  # timed in turn with the peer
        figures[PEER_TARGET[0]] = r["peer"]["latency"]["p50_ms"] / hybrid if hybrid else 0.0
    return figures


def _targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    figures = _figures(r)
    rows = []
    for name, op, bound in (*TARGETS, PEER_TARGET):
        if name not in figures:  # the peer's, when not asked for
            continue
        value = figures[name]
        met = value <= bound if op == "≤" else value >= bound
        rows.append(
            {"target": name, "bound": f"{op} {bound:g}", "value": round(value, 3), "met": met}
        )
    return rows


def _machine() -> dict[str, Any]:
    import os

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "system": platform.platform(),
    }
