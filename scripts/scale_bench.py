"""Scale table: synthetic corpora of about 1k, 10k, 100k passages, one index each.

    python scripts/scale_bench.py --passages 1000 10000 --encoder hash
    python scripts/scale_bench.py --passages 1000 --encoder model     # the real model
    python scripts/scale_bench.py --passages 0 1000 --encoder hash    # 0: the bundled brief

For each size: write the corpus (scripts/synth_corpus.py), build the index (timed by the
builder, recorded in its manifest), then in a fresh process load it and time each leg on
30 questions (rag.bench.scale.measure_queries), and print one row. ``--encoder hash`` uses
rag.bench.hashing.HashEncoder (random 384-d unit vectors per word, no model): sizes, memory
and leg latency depend on the vector count and dimension, not on what the model says.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# One BLAS/OpenMP thread per query process, as a server with one worker per core runs: a
# multi-threaded OpenBLAS turned a 0.1 ms mat-vec into 8 ms on this shared 2-core machine.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _encoder(name: str):  # type: ignore[no-untyped-def]
    if name == "hash":
        from rag.bench.hashing import HashEncoder

        return HashEncoder()
    from rag.config import Settings
    from rag.encoding.backends import load_encoder

    return load_encoder(Settings().model)


def _settings(**changes: object):  # type: ignore[no-untyped-def]
    from rag.config import Settings

    return Settings(**changes)


def build(size: int, work: Path, encoder_name: str, threshold: int | None) -> Path:
    """Index the synthetic corpus of ``size`` passages; 0: the bundled brief alone, the
    baseline a query's cost at scale is compared with."""
    from rag.chunking.passages import ChunkParams
    from rag.config import bundled_brief
    from rag.store.index import build_index
    from rag.store.vectors import DenseIndexParams

    corpus = bundled_brief() if size == 0 else work / f"corpus-{size}"
    if not corpus.exists():
        subprocess.run(
            [
                sys.executable,
                str(HERE / "synth_corpus.py"),
                "--passages",
                str(size),
                "--out",
                str(corpus),
            ],
            check=True,
        )
    out = work / f"index-{size}-{encoder_name}"
    changes = {} if threshold is None else {"hnsw_min_passages": threshold}
    settings = _settings(**changes)
    started = time.perf_counter()
    build_index(
        [corpus],
        out,
        _encoder(encoder_name),
        ChunkParams.from_settings(settings),
        model_path=settings.model if encoder_name == "model" else "/nonexistent/hash",
        dense=DenseIndexParams.from_settings(settings),
        batch_size=settings.batch_size,
    )
    print(f"built {out} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return out


def measure(folder: Path, encoder_name: str, queries: int) -> dict[str, object]:
    from rag.bench.scale import measure_queries
    from rag.retrieval.retriever import RetrievalParams

    params = RetrievalParams.from_settings(_settings())
    encoder = _encoder(encoder_name)
    return measure_queries(folder, encoder, params, queries)


def row(result: dict) -> str:  # type: ignore[type-arg]
    p50 = result["p50_ms"]
    mb = sum(result["bytes"].values()) / 2**20
    tok = result["bytes"].get("token_vectors.npy", 0) / 2**20
    legs = " | ".join(
        f"{p50[leg]:.2f}"
        for leg in ("dense", "sentences", "tokens", "bm25", "footnotes", "fusion", "search")
    )
    return (
        f"| {result['passages']:,} | {result['dense_index']} | {result['sentence_index']} "
        f"| {result['build_s']:.1f} "
        f"| {mb:.1f} ({tok:.1f}) | {result['rss_after_load_mb']:.0f} "
        f"({result['rss_index_mb']:.0f}) | {legs} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--passages", type=int, nargs="+", default=[1000, 10000], help="0: the bundled brief"
    )
    parser.add_argument("--encoder", choices=("hash", "model"), default="hash")
    parser.add_argument("--work", type=Path, default=Path("/tmp/brief-rag-scale"))
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--hnsw-min-passages", type=int, default=None)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.encoder, args.queries)))
        return
    print(
        "| passages | dense index | sentence index | build s | MB on disk (tokens) "
        "| RSS MB after load (index) "
        "| dense | sentences | tokens | bm25 | footnotes | fusion | search (p50 ms) |"
    )
    print("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in args.passages:
        folder = build(size, args.work, args.encoder, args.hnsw_min_passages)
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--measure",
                str(folder),
                "--encoder",
                args.encoder,
                "--queries",
                str(args.queries),
            ],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, **ONE_THREAD},
        )
        result = json.loads(out.stdout)
        (folder / "scale-bench.json").write_text(json.dumps(result, indent=2))
        print(row(result), flush=True)
        print(f"  dense flat vs HNSW: {result['dense_flat_vs_hnsw']}", flush=True)
        print(f"  sentences flat vs HNSW: {result['sentences_flat_vs_hnsw']}", flush=True)


if __name__ == "__main__":
    main()
