"""In-process figures: the bare encoder, each retriever, each leg, and an index build."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rag.bench.stats import summary, unique
from rag.config import Settings
from rag.encoding.protocol import Encoder


def _timed(call: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
    started = time.perf_counter()
    call(*args, **kwargs)
    return (time.perf_counter() - started) * 1000


def encode_floor(encoder: Encoder, questions: Sequence[str]) -> dict[str, float]:
    """One question at a time (p50), and batches of 16 (questions per second)."""
    encoder.encode_with_tokens(["warm up"])
    single = [_timed(encoder.encode_with_tokens, [q]) for q in questions]
    batches = [list(questions[i : i + 16]) for i in range(0, len(questions) - 15, 16)]
    started = time.perf_counter()
    for batch in batches:
        encoder.encode_with_tokens(batch, batch_size=16)
    rate = len(batches) * 16 / (time.perf_counter() - started)
    return {**summary(single), "batch16_qps": round(rate, 1)}


def retrievers(engine: Any, questions: Sequence[str]) -> dict[str, dict[str, float]]:
    """Latency of ``engine.search`` per retriever, question encoding included."""
    out = {}
    for name in ("hybrid", "dense", "bm25"):
        asked = unique(questions, len(questions), f"{name}-")
        out[name] = summary([_timed(engine.search, q, retriever=name) for q in asked])
    return out


def legs(engine: Any, questions: Sequence[str]) -> dict[str, dict[str, float]]:
    """Each leg of the hybrid retriever on its own, from an encoded question."""
    from rag.retrieval import retriever as r

    snapshot = engine.snapshot()
    handle, params = snapshot.handle, snapshot.params
    depth = max(params.candidates, 5)
    first = max(depth, params.token_candidates)  # the cheap legs feed the token leg's pool
    times: dict[str, list[float]] = {
        k: [] for k in ("encode", "dense", "sentences", "tokens", "bm25", "footnotes", "fusion")
    }
    for q in unique(questions, len(questions), "leg-"):
        started = time.perf_counter()
        vectors, tokens = snapshot.encoder.encode_with_tokens([q])
        times["encode"].append((time.perf_counter() - started) * 1000)
        qvec, qtok = vectors[0], tokens[0]
        found: dict[str, Any] = {}
        steps: dict[str, tuple[Callable[..., Any], tuple[Any, ...]]] = {
            "dense": (r.dense_ranking, (handle, qvec, first)),
            "sentences": (r.sentence_ranking, (handle, qvec, first)),
            "bm25": (r.bm25_ranking, (handle, q, first)),
            "footnotes": (r.footnote_ranking, (handle, q, qvec, params, 0.0)),
        }
        for name, (step, args) in steps.items():
            started = time.perf_counter()
            found[name] = step(*args)
            times[name].append((time.perf_counter() - started) * 1000)
        pool = r.candidate_pool(found["dense"], found["sentences"], found["bm25"])
        started = time.perf_counter()
        found["tokens"] = r.token_ranking(handle, qtok, depth, pool)
        times["tokens"].append((time.perf_counter() - started) * 1000)
        rankings = [(ranking[:depth], 1.0) for ranking in found.values()]
        times["fusion"].append(_timed(r.rrf, rankings, params.rrf_k))
    return {name: summary(values) for name, values in times.items()}


def build_time(settings: Settings, out: Path) -> dict[str, float]:
    """Build the configured corpus into ``out`` (a fresh folder) and time it."""
    from rag.engine import build

    started = time.perf_counter()
    manifest = build(settings, out=out)
    assert manifest is not None
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "passages": manifest.counts.passages,
        "index_bytes": sum(f.stat().st_size for f in out.resolve().rglob("*") if f.is_file()),
    }
