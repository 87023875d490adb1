"""The dense passage index: exact (``IndexFlatIP``) for small corpora, HNSW above a size.

A flat index scans every passage vector per question: exact, and cheapest to build, but its
cost grows with the corpus. Above ``hnsw_min_passages`` the builder makes an
``IndexHNSWFlat`` over inner product instead (a graph walk, roughly logarithmic). The
threshold and graph parameters come from measurement (README, "Scaling"); the manifest
records what :func:`describe` reads back from the built object, so it cannot disagree with
the file.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    import numpy as np

    from rag.config import Settings


@dataclass(frozen=True)
class DenseIndexParams:
    """What the builder is asked for; defaults live in :class:`rag.config.Settings`."""

    hnsw_min_passages: int
    hnsw_m: int
    hnsw_ef_construction: int
    hnsw_ef_search: int

    @classmethod
    def from_settings(cls, settings: Settings) -> DenseIndexParams:
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})


class DenseIndexInfo(BaseModel):
    """The dense index as built (read from the FAISS object), recorded in the manifest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["IndexFlatIP", "IndexHNSWFlat"]
    metric: Literal["inner_product"] = "inner_product"
    vectors: int
    hnsw_min_passages: int  # the threshold the builder compared the passage count with
    m: int | None = None  # HNSW: neighbours per node (2m on the base layer)
    ef_construction: int | None = None
    ef_search: int | None = None  # the floor; a search asks for at least its depth


def build_dense(vectors: np.ndarray, params: DenseIndexParams) -> Any:
    """A flat inner-product index, or HNSW when there are more than the threshold rows."""
    import faiss

    dim = int(vectors.shape[1])
    index: Any
    if len(vectors) > params.hnsw_min_passages:
        index = faiss.IndexHNSWFlat(dim, params.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = params.hnsw_ef_construction
        index.hnsw.efSearch = params.hnsw_ef_search
    else:
        index = faiss.IndexFlatIP(dim)
    index.add(vectors)
    return index


def describe(index: Any, params: DenseIndexParams) -> DenseIndexInfo:
    """Read the type and graph parameters back from the built index."""
    import faiss

    if isinstance(index, faiss.IndexHNSWFlat):
        hnsw: Any = index.hnsw  # the stubs lack nb_neighbors
        return DenseIndexInfo(
            type="IndexHNSWFlat",
            vectors=int(index.ntotal),
            hnsw_min_passages=params.hnsw_min_passages,
            m=int(hnsw.nb_neighbors(1)),
            ef_construction=int(hnsw.efConstruction),
            ef_search=int(hnsw.efSearch),
        )
    if isinstance(index, faiss.IndexFlatIP):
        return DenseIndexInfo(
            type="IndexFlatIP",
            vectors=int(index.ntotal),
            hnsw_min_passages=params.hnsw_min_passages,
        )
    raise TypeError(f"unexpected dense index type {type(index).__name__}")


def search(index: Any, query: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``depth`` (scores, ids) for one query row. An HNSW index explores at least
    ``depth`` candidates (its stored ``efSearch`` is the floor); the parameter is passed per
    call, so concurrent searches never share mutable state."""
    import faiss

    if isinstance(index, faiss.IndexHNSWFlat):
        ef = max(int(index.hnsw.efSearch), depth)
        params = faiss.SearchParametersHNSW(efSearch=ef)  # type: ignore[attr-defined]
        scores, ids = index.search(query.reshape(1, -1), depth, params=params)
    else:
        scores, ids = index.search(query.reshape(1, -1), depth)
    return scores[0], ids[0]
