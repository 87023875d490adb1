"""Scale measurements: build time, bytes on disk, RSS after load and per-leg query latency
of one index, and flat vs HNSW on its passage vectors. Printed, never asserted.

The query side is measured in a fresh process (:func:`measure_queries`), so its RSS is what
a server holding that index needs, not what the build left behind.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.bench.proc import status_kb

if TYPE_CHECKING:
    import numpy as np

    from rag.encoding.protocol import Encoder
    from rag.retrieval.retriever import RetrievalParams
    from rag.store.handle import IndexHandle

LEGS = ("dense", "sentences", "tokens", "bm25", "footnotes", "fusion", "search")


def rss_bytes() -> int:
    """This process's resident set size now (Linux ``/proc``; 0 elsewhere)."""
    return status_kb("self", "VmRSS") * 1024


def folder_bytes(folder: Path) -> dict[str, int]:
    """Bytes on disk per artifact (a bm25s folder counts as one)."""
    build = folder.resolve()
    sizes: dict[str, int] = {}
    for f in build.rglob("*"):
        if f.is_file():
            top = f.relative_to(build).parts[0]
            sizes[top] = sizes.get(top, 0) + f.stat().st_size
    return sizes


def _p50_ms(samples: Sequence[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def leg_latency(
    handle: IndexHandle,
    questions: Sequence[str],
    qvecs: np.ndarray,
    qtokens: Sequence[np.ndarray],
    params: RetrievalParams,
    encoder: Encoder,
) -> dict[str, float]:
    """p50 milliseconds of each hybrid leg over ``questions`` (already encoded: the model
    is not what this measures), and of the whole search given those encodings."""
    from rag.retrieval import retriever as r

    depth, first = params.candidates, max(params.candidates, params.token_candidates)
    times: dict[str, list[float]] = {leg: [] for leg in LEGS}
    searcher = r.Retriever(handle, encoder, params)
    for question, qvec, qtok in zip(questions, qvecs, qtokens, strict=True):
        deep_dense, t = _timed(partial(r.dense_ranking, handle, qvec, first))
        times["dense"].append(t)
        deep_sentences, t = _timed(partial(r.sentence_ranking, handle, qvec, first))
        times["sentences"].append(t)
        deep_lexical, t = _timed(partial(r.bm25_ranking, handle, question, first))
        times["bm25"].append(t)
        pool = r.candidate_pool(deep_dense, deep_sentences, deep_lexical)
        dense, sentences = deep_dense[:depth], deep_sentences[:depth]
        lexical = deep_lexical[:depth]
        tokens, t = _timed(partial(r.token_ranking, handle, qtok, depth, pool))
        times["tokens"].append(t)
        best = max([s for _, s in dense[:1] + sentences[:1]], default=-1.0)
        notes, t = _timed(partial(r.footnote_ranking, handle, question, qvec, params, best))
        times["footnotes"].append(t)
        legs = [
            (dense, params.dense_weight),
            (sentences, params.sentence_weight),
            (tokens, params.token_weight),
            (lexical, params.bm25_weight),
            (notes, params.footnote_weight),
        ]
        _, t = _timed(partial(r.rrf, legs, params.rrf_k))
        times["fusion"].append(t)
        _, t = _timed(partial(searcher.search, question, k=5, qvec=qvec, qtokens=qtok))
        times["search"].append(t)
    return {leg: _p50_ms(samples) for leg, samples in times.items()}


@dataclass(frozen=True)
class DenseComparison:
    passages: int
    flat_p50_ms: float
    hnsw_p50_ms: float
    hnsw_build_s: float
    recall_at_depth: float  # share of the exact top-`depth` the HNSW search returns
    ef_search: int
    m: int


def compare_dense(
    vectors: np.ndarray,
    queries: np.ndarray,
    depth: int,
    m: int = 32,
    ef_construction: int = 80,
    ef_search: int = 128,
) -> DenseComparison:
    """Flat vs HNSW over the same unit vectors: p50 latency and recall of the exact top."""
    import faiss

    from rag.store.vectors import DenseIndexParams, build_dense, search

    flat = faiss.IndexFlatIP(int(vectors.shape[1]))
    flat.add(vectors)
    params = DenseIndexParams(0, 0, 0, m, ef_construction, ef_search)
    hnsw, build_s = _timed(lambda: build_dense(vectors, params))
    flat_t, hnsw_t, found = [], [], []
    for q in queries:
        (_, exact), t = _timed(partial(search, flat, q, depth))
        flat_t.append(t)
        (_, approx), t = _timed(partial(search, hnsw, q, depth))
        hnsw_t.append(t)
        found.append(len(set(exact.tolist()) & set(approx.tolist())) / max(len(exact), 1))
    return DenseComparison(
        passages=len(vectors),
        flat_p50_ms=_p50_ms(flat_t),
        hnsw_p50_ms=_p50_ms(hnsw_t),
        hnsw_build_s=round(build_s, 2),
        recall_at_depth=round(statistics.mean(found), 4),
        ef_search=ef_search,
        m=m,
    )


@dataclass(frozen=True)
class SentenceComparison:
    sentences: int
    scan_p50_ms: float  # the exact scan (sentence_ranking on a flat index)
    hnsw_p50_ms: float  # the graph walk reduced to passages
    hnsw_build_s: float
    recall_at_depth: float  # share of the exact top-`depth` passages the graph returns
    depth: int
    ef_search: int
    m: int


def compare_sentences(
    handle: IndexHandle,
    queries: np.ndarray,
    depth: int,
    m: int = 32,
    ef_construction: int = 80,
    ef_search: int = 128,
) -> SentenceComparison:
    """The sentence leg on a flat index vs on an HNSW over the same sentence vectors:
    p50 latency of the whole leg (top ``depth`` passages) and recall of the exact ones."""
    import dataclasses

    import faiss
    import numpy as np

    from rag.retrieval.retriever import sentence_ranking
    from rag.store.vectors import DenseIndexParams, build_sentences

    vectors = np.ascontiguousarray(handle.sentence_vectors)
    flat = faiss.IndexFlatIP(int(vectors.shape[1]))
    flat.add(vectors)
    params = DenseIndexParams(0, 0, 0, m, ef_construction, ef_search)
    hnsw, build_s = _timed(lambda: build_sentences(vectors, params))
    exact_view = dataclasses.replace(handle, sentence_index=flat)
    graph_view = dataclasses.replace(handle, sentence_index=hnsw)
    scan_t, graph_t, found = [], [], []
    for q in queries:
        exact, t = _timed(partial(sentence_ranking, exact_view, q, depth))
        scan_t.append(t)
        approx, t = _timed(partial(sentence_ranking, graph_view, q, depth))
        graph_t.append(t)
        want = {i for i, _ in exact}
        found.append(len(want & {i for i, _ in approx}) / max(len(want), 1))
    return SentenceComparison(
        sentences=len(vectors),
        scan_p50_ms=_p50_ms(scan_t),
        hnsw_p50_ms=_p50_ms(graph_t),
        hnsw_build_s=round(build_s, 2),
        recall_at_depth=round(statistics.mean(found), 4),
        depth=depth,
        ef_search=ef_search,
        m=m,
    )


def sample_questions(handle: IndexHandle, count: int, seed: int = 0) -> list[str]:
    """Questions made from random stored sentences: their first eight words, each made
    unique so no cache could help."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = rng.choice(len(handle.sentences), size=min(count, len(handle.sentences)), replace=False)
    return [" ".join(handle.sentences[int(r)].split()[:8]) + f" ({i})" for i, r in enumerate(rows)]


def measure_queries(
    folder: Path, encoder: Encoder, params: RetrievalParams, count: int = 30
) -> dict[str, Any]:
    """Load ``folder`` (RSS before and after), then time every leg on ``count`` questions."""
    from rag.store.index import load_index

    rss_before = rss_bytes()
    handle, load_s = _timed(lambda: load_index(folder))
    rss_loaded = rss_bytes()
    questions = sample_questions(handle, count)
    qvecs, qtokens = encoder.encode_with_tokens(questions)
    legs = leg_latency(handle, questions, qvecs, qtokens, params, encoder)
    dense = compare_dense(np.asarray(handle.passage_vectors), qvecs, params.candidates)
    sentences = compare_sentences(handle, qvecs, params.token_candidates)
    return {
        "passages": len(handle.passages),
        "sentences": len(handle.sentences),
        "token_rows": int(handle.token_offsets[-1]),
        "dense_index": handle.manifest.dense_index.type,
        "sentence_index": handle.manifest.sentence_index.type,
        "build_s": handle.manifest.build_seconds,
        "parse_s": handle.manifest.parse_seconds,
        "bytes": folder_bytes(folder),
        "load_s": round(load_s, 2),
        "rss_after_load_mb": round(rss_loaded / 2**20, 1),
        "rss_index_mb": round((rss_loaded - rss_before) / 2**20, 1),
        "p50_ms": legs,
        "dense_flat_vs_hnsw": dense.__dict__,
        "sentences_flat_vs_hnsw": sentences.__dict__,
    }
