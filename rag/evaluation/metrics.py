"""Rank metrics over binary relevance, one small function each.

``recall@k`` counts a question as found when any passage covering one of its evidence
quotes is in the top k (ir_measures calls this Success@k); with evidence quotes any one of
which answers the question, that is the recall a reader cares about. Cross-checked against
ir_measures in the tests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Relevance = Sequence[bool]  # relevance of the ranked passages, best first


def recall_at(rel: Relevance, k: int) -> float:
    return 1.0 if any(rel[:k]) else 0.0


def reciprocal_rank(rel: Relevance, k: int) -> float:
    for rank, hit in enumerate(rel[:k], start=1):
        if hit:
            return 1.0 / rank
    return 0.0


def ndcg_at(rel: Relevance, k: int, n_relevant: int) -> float:
    """Binary-gain nDCG; the ideal ranking puts all ``n_relevant`` passages first."""
    dcg = sum(1.0 / math.log2(rank + 1) for rank, hit in enumerate(rel[:k], start=1) if hit)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(n_relevant, k) + 1))
    return dcg / ideal if ideal else 0.0


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0
