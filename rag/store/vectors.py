"""The vector indexes: exact (``IndexFlatIP``) for small corpora, HNSW above a size.

Three FAISS indexes use this: the dense passage vectors, the sentence vectors (one row per
sentence of every passage, about 3.5 per passage) and the footnote vectors. A flat index
scans every vector per question: exact, and cheapest to build, but its cost grows with the
corpus. Above a threshold (``hnsw_min_passages`` rows for the passages,
``hnsw_min_sentences`` and ``hnsw_min_footnotes`` for the others) the builder makes an
``IndexHNSWSQ`` over inner product instead (a graph walk, roughly logarithmic). Thresholds
and graph parameters come from measurement (docs/performance.md, "Scaling"); the manifest
records what :func:`describe` reads back from the built object, so it cannot disagree with the file.

The graph holds its vectors as 8-bit codes (a scalar quantizer trained on them: a quarter of
float32's bytes), because a walk visits scattered vectors and, on a large library, in time
nearly all of them: on 100,000 passages the float graphs' files grew to 840 MB of a server's
RSS over 133 questions. Codes give approximate cosines, so what the walk finds is scored
again exactly (:class:`ExactVectors`: the float rows, stored beside the graph and read with
``pread``). On the 10k-passage library's sentence graph that found as many of the exact top
200 passages as the float graph (0.9877 against 0.9873) and ranked the first 10 the same
for 131 of 133 questions (docs/performance.md, "Memory at 100,000 passages").
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    import numpy as np

    from rag.config import Settings
    from rag.store.rowfile import RowFile


@dataclass(frozen=True)
class DenseIndexParams:
    """What the builder is asked for; defaults live in :class:`rag.config.Settings`. The
    graph parameters serve every index; each has its own threshold."""

    hnsw_min_passages: int
    hnsw_min_sentences: int
    hnsw_min_footnotes: int
    hnsw_m: int
    hnsw_ef_construction: int
    hnsw_ef_search: int

    @classmethod
    def from_settings(cls, settings: Settings) -> DenseIndexParams:
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})


class VectorIndexInfo(BaseModel):
    """A vector index as built (read from the FAISS object), recorded in the manifest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["IndexFlatIP", "IndexHNSWSQ"]
    metric: Literal["inner_product"] = "inner_product"
    vectors: int
    m: int | None = None  # HNSW: neighbours per node (2m on the base layer)
    ef_construction: int | None = None
    ef_search: int | None = None  # the floor; a search asks for at least its depth


class DenseIndexInfo(VectorIndexInfo):
    hnsw_min_passages: int  # the threshold the builder compared the passage count with


class SentenceIndexInfo(VectorIndexInfo):
    hnsw_min_sentences: int  # the threshold the builder compared the sentence rows with


class FootnoteIndexInfo(VectorIndexInfo):
    hnsw_min_footnotes: int  # the threshold the builder compared the footnote count with


def build_vectors(vectors: np.ndarray, hnsw_above: int, params: DenseIndexParams) -> Any:
    """A flat inner-product index, or HNSW over 8-bit codes when there are more than
    ``hnsw_above`` rows."""
    import faiss

    dim = int(vectors.shape[1])
    index: Any
    if len(vectors) > hnsw_above:
        eight_bit: Any = faiss.ScalarQuantizer.QT_8bit  # an enum the stubs type as int
        index = faiss.IndexHNSWSQ(dim, eight_bit, params.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = params.hnsw_ef_construction
        index.hnsw.efSearch = params.hnsw_ef_search
        index.train(vectors)  # each dimension's range, which its codes divide into 256 steps
    else:
        index = faiss.IndexFlatIP(dim)
    index.add(vectors)
    return index


def build_dense(vectors: np.ndarray, params: DenseIndexParams) -> Any:
    return build_vectors(vectors, params.hnsw_min_passages, params)


def build_sentences(vectors: np.ndarray, params: DenseIndexParams) -> Any:
    return build_vectors(vectors, params.hnsw_min_sentences, params)


def build_footnotes(vectors: np.ndarray, params: DenseIndexParams) -> Any:
    return build_vectors(vectors, params.hnsw_min_footnotes, params)


def _info(index: Any) -> dict[str, Any]:
    """Type, size and graph parameters, read back from the built index."""
    import faiss

    if isinstance(index, faiss.IndexHNSWSQ):
        hnsw: Any = index.hnsw  # the stubs lack nb_neighbors
        return {
            "type": "IndexHNSWSQ",
            "vectors": int(index.ntotal),
            "m": int(hnsw.nb_neighbors(1)),
            "ef_construction": int(hnsw.efConstruction),
            "ef_search": int(hnsw.efSearch),
        }
    if isinstance(index, faiss.IndexFlatIP):
        return {"type": "IndexFlatIP", "vectors": int(index.ntotal)}
    raise TypeError(f"unexpected vector index type {type(index).__name__}")


def describe(index: Any, params: DenseIndexParams) -> DenseIndexInfo:
    return DenseIndexInfo(**_info(index), hnsw_min_passages=params.hnsw_min_passages)


def describe_sentences(index: Any, params: DenseIndexParams) -> SentenceIndexInfo:
    return SentenceIndexInfo(**_info(index), hnsw_min_sentences=params.hnsw_min_sentences)


def describe_footnotes(index: Any, params: DenseIndexParams) -> FootnoteIndexInfo:
    return FootnoteIndexInfo(**_info(index), hnsw_min_footnotes=params.hnsw_min_footnotes)


def is_graph(index: Any) -> bool:
    import faiss

    return isinstance(index, faiss.IndexHNSW)


class _Stored:
    """Keeps the FAISS index alive for as long as a NumPy view of its memory exists: the
    view's ``base`` is this object, which holds the index."""

    def __init__(self, index: Any, view: np.ndarray) -> None:
        self.index = index
        self.__array_interface__ = view.__array_interface__


def stored_vectors(index: Any) -> np.ndarray:
    """The vectors a flat index holds, as a read-only (rows, dim) float32 view of its
    memory, not a copy."""
    import faiss
    import numpy as np

    rows, dim = int(index.ntotal), int(index.d)
    if rows == 0:
        return np.zeros((0, dim), dtype=np.float32)
    raw = faiss.rev_swig_ptr(index.get_xb(), rows * dim).reshape(rows, dim)
    view: np.ndarray = np.asarray(_Stored(index, raw))
    view.flags.writeable = False
    return view


def search(index: Any, query: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``depth`` (scores, ids) for one query row. An HNSW index explores at least
    ``depth`` candidates (its stored ``efSearch`` is the floor); the parameter is passed per
    call, so concurrent searches never share mutable state."""
    import faiss

    if isinstance(index, faiss.IndexHNSW):
        ef = max(int(index.hnsw.efSearch), depth)
        params = faiss.SearchParametersHNSW(efSearch=ef)  # type: ignore[attr-defined]
        scores, ids = index.search(query.reshape(1, -1), depth, params=params)
    else:
        scores, ids = index.search(query.reshape(1, -1), depth)
    return scores[0], ids[0]


@dataclass(frozen=True)
class ExactVectors:
    """The float vectors behind a vector index, for exact cosines: a flat index's own
    memory, or, behind a graph (whose codes are approximate), the float rows stored beside
    it, read with ``pread`` (``file``) so that none of them stays in the process."""

    array: np.ndarray  # in memory, or the stored rows' memory map (not read through)
    file: RowFile | None = None
    # Behind a graph: the most its 8-bit codes can be off per dimension (half a step of
    # each dimension's trained range), so a graph's cosine is within |q| · this of the
    # exact one (:meth:`code_error`). None for a flat index: its cosines are exact.
    half_steps: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.array)

    def take(self, rows: np.ndarray) -> np.ndarray:
        """Rows ``rows``, in that order."""
        import numpy as np

        if self.file is not None:
            return self.file.rows(rows)
        taken: np.ndarray = self.array[np.asarray(rows, dtype=np.int64)]
        return taken

    def span(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop``."""
        import numpy as np

        if self.file is not None:
            return self.file.span(start, stop)
        return np.asarray(self.array[start:stop])

    def ranges(self, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
        """Rows ``starts[i]:stops[i]`` for every i, concatenated in that order."""
        from rag.store.late import spans

        if self.file is not None:
            return self.file.ranges(starts, stops)
        return self.take(spans(starts, stops))

    def code_error(self, vector: np.ndarray) -> float:
        """The most a graph's cosine with ``vector`` can differ from the exact one (0 for a
        flat index). On the 10k library's sentences the largest error seen was a sixth of
        this bound, the median error about 0.001."""
        if self.half_steps is None:
            return 0.0
        return float(abs(vector) @ self.half_steps) + 1e-5  # and the float sums' rounding

    def cosines(self, vector: np.ndarray) -> np.ndarray:
        """Every row's cosine with the unit ``vector`` (an exact scan)."""
        if self.file is not None:
            return self.file.products(vector)
        scores: np.ndarray = self.array @ vector
        return scores


def exact_vectors(index: Any, stored: np.ndarray, file: RowFile | None = None) -> ExactVectors:
    """What exact cosines of ``index``'s rows are read from: a flat index's own vectors;
    for a graph, ``stored`` (its float rows as the build wrote them), read from ``file``
    when given (:func:`rag.store.rowfile.row_files`), else through ``stored`` itself."""
    if is_graph(index):
        return ExactVectors(stored, file, _half_steps(index))
    return ExactVectors(stored_vectors(index))


def _half_steps(index: Any) -> np.ndarray:
    """Half a code step per dimension of an ``IndexHNSWSQ``'s 8-bit quantizer: it stores
    each dimension's minimum then range (``trained``), cut into 255 steps, and decodes a
    code to its step's middle."""
    import faiss
    import numpy as np

    storage: Any = faiss.downcast_index(index.storage)  # an IndexScalarQuantizer
    quantizer = storage.sq
    trained = faiss.vector_to_array(quantizer.trained)
    dim = int(index.d)
    steps: np.ndarray = trained[dim : 2 * dim].astype(np.float32) / 510.0
    return steps
