"""Quality of the token leg's variants on the eval sets, on one real-model index.

    RAG_INDEX_DIR=/tmp/idx python scripts/measure_token_leg.py
    RAG_INDEX_DIR=/tmp/idx python scripts/measure_token_leg.py --pools 50 100 200 400

Re-encodes every sentence's token vectors in float32 with the configured model, then runs
the eval (qa.jsonl; heldout.jsonl + footnotes.jsonl) for hybrid and dense with the token
leg as: a full scan in float32 (the old behaviour), candidates only in float32, float16 and
int8 (what the index stores). Prints recall@1, recall@5, MRR@10 and token bytes per passage.
With ``--pools``: the stored int8 table only (nothing re-encoded), full scan vs candidates
gathered from each cheap leg's top N (``RAG_TOKEN_CANDIDATES``) for each N.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any


def main() -> None:
    import numpy as np

    from rag.chunking.represent import sentence_texts
    from rag.config import Settings
    from rag.engine import open_engine
    from rag.evaluation.dataset import load_footnote_questions, load_qa
    from rag.evaluation.runner import run
    from rag.retrieval import retriever as retrieval
    from rag.store import late

    parser = argparse.ArgumentParser()
    parser.add_argument("--pools", type=int, nargs="*", default=None)
    args = parser.parse_args()
    settings = Settings()
    engine = open_engine(settings)
    handle, encoder = engine.handle, engine.encoder
    offsets = handle.token_offsets
    stored = np.asarray(handle.token_vectors)
    pools: dict[str, int] = {}
    if args.pools:
        variants: dict[str, Any] = {"full scan, int8": stored}
        for n in args.pools:
            variants[f"candidates (top {n} per leg), int8"] = stored
            pools[f"candidates (top {n} per leg), int8"] = n
    else:
        fronts = {d.id: d.front_matter for d in handle.documents.values()}
        bare = [s for p in handle.passages for s in sentence_texts(p, fronts[p.document.id])]
        vectors, offsets = late.pack(encoder.encode_tokens(bare), stored.shape[1])
        assert np.array_equal(offsets, handle.token_offsets), "token rows differ from the index"
        variants = {
            "full scan, float32": vectors,
            "candidates, float32": vectors,
            "candidates, float16": vectors.astype(np.float16),
            "candidates, int8": stored,
        }
    sets = {
        "qa": (load_qa(settings.eval_dir / "qa.jsonl"), settings.eval_dir / "qa.jsonl", []),
        "heldout": (
            load_qa(settings.eval_dir / "heldout.jsonl"),
            settings.eval_dir / "heldout.jsonl",
            load_footnote_questions(settings.eval_dir / "footnotes.jsonl"),
        ),
    }
    original = retrieval.token_ranking
    print("| variant | bytes/passage | set | retriever | recall@1 | recall@5 | mrr@10 |")
    print("|---|---:|---|---|---:|---:|---:|")
    for name, table in variants.items():
        full = name.startswith("full")
        retrieval.token_ranking = (  # type: ignore[assignment]
            (lambda h, q, depth, candidates=None: original(h, q, depth, None)) if full else original
        )
        view = dataclasses.replace(handle, token_vectors=table, token_table=table)
        params = engine.retriever.params
        if name in pools:
            params = dataclasses.replace(params, token_candidates=pools[name])
        searcher = retrieval.Retriever(view, encoder, params)
        per_passage = (table.nbytes + offsets.nbytes) / len(handle.passages)
        for set_name, (items, source, notes) in sets.items():
            reports = run(searcher, items, source, notes, retrievers=("hybrid", "dense"))
            for retriever_name, report in reports.items():
                m = report.metrics
                print(
                    f"| {name} | {per_passage:,.0f} | {set_name} | {retriever_name} "
                    f"| {m['recall@1']:.3f} | {m['recall@5']:.3f} | {m['mrr@10']:.3f} |",
                    flush=True,
                )
    retrieval.token_ranking = original
    sys.exit(0)


if __name__ == "__main__":
    main()
