"""Ranking arrays in time that follows ``k``, not the corpus: the best ``k`` of a score
array, and the best score of each consecutive segment (a passage's sentences or tokens).

A full ``lexsort`` over every passage costs O(n log n) per query and grows with the corpus;
``argpartition`` finds the k-th best score in O(n), and only the rows at least that good
(ties at the boundary included) are sorted. The order is exactly the full stable sort's:
best score first, ties in index order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def top_order(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first, ties in index order
    (``np.lexsort((arange, -scores))[:k]``, in linear time for small ``k``)."""
    import numpy as np

    n = len(scores)
    k = min(k, n)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k < n:
        kth = np.partition(scores, n - k)[n - k]  # the k-th highest value
        keep = np.flatnonzero(scores >= kth)  # every tie of it too, in index order
    else:
        keep = np.arange(n)
    order = keep[np.lexsort((keep, -scores[keep]))][:k]
    return order.astype(np.int64, copy=False)


def segment_max(values: np.ndarray, lengths: np.ndarray, axis: int = 0) -> np.ndarray:
    """Maximum of each consecutive segment of ``values`` along ``axis``, segment i being
    ``lengths[i]`` long (``-inf`` for an empty one, where ``reduceat`` would return a
    neighbour's value instead)."""
    import numpy as np

    shape = list(values.shape)
    shape[axis] = len(lengths)
    out = np.full(shape, -np.inf, dtype=np.float32)
    filled = lengths > 0
    if filled.any():
        starts = (np.cumsum(lengths) - lengths)[filled]
        index: list[slice | np.ndarray] = [slice(None)] * values.ndim
        index[axis] = filled
        out[tuple(index)] = np.maximum.reduceat(values, starts, axis=axis)
    return out
