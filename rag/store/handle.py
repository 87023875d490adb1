""":class:`IndexHandle`: one loaded build, immutable, so a server swaps indexes by replacing
one reference and a request that took a handle never sees two builds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.records import DocumentOutline, Footnote, Passage

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from rag.store.manifest import Manifest
    from rag.store.passage_table import PassageTable
    from rag.store.rowfile import RowFile
    from rag.store.vectors import ExactVectors

FootnoteKey = tuple[str, int]


def _no_rows() -> NDArray[np.int64]:
    import numpy as np

    return np.zeros(1, dtype=np.int64)


def _no_vectors() -> NDArray[np.float32]:
    import numpy as np

    return np.zeros((0, 0), dtype=np.float32)


def _no_exact() -> ExactVectors:
    from rag.store.vectors import ExactVectors

    return ExactVectors(_no_vectors())


def _no_norms() -> NDArray[np.float32]:
    import numpy as np

    return np.zeros(0, dtype=np.float32)


def _row_offsets(owners: NDArray[np.int32], count: int) -> NDArray[np.int64]:
    import numpy as np

    offsets: NDArray[np.int64] = np.searchsorted(owners, np.arange(count + 1)).astype(np.int64)
    return offsets


@dataclass(frozen=True, eq=False)
class IndexContents:
    """What a build stores: one attribute per entry of :data:`rag.store.artifacts.ARTIFACTS`."""

    # Whole documents when built, their outlines when loaded (the text is the passages').
    documents: Mapping[str, DocumentOutline]
    passages: PassageTable  # columns; a Passage is built when a row is read
    # faiss.IndexFlatIP, or IndexHNSWSQ above a size (rag.store.vectors), over the passage
    # vectors (faiss ships no types)
    faiss_index: Any
    bm25: Any  # bm25s.BM25 over the passage texts
    # One row per footnote, in `footnote_keys` order: faiss.IndexFlatIP, or IndexHNSWSQ
    # above a size (rag.store.vectors).
    footnote_index: Any
    footnote_bm25: Any
    # One row per sentence of every passage, in passage order: the sentence index's vectors,
    # the owners and `sentences` are aligned row for row. faiss.IndexFlatIP, or
    # IndexHNSWSQ above a size (rag.store.vectors).
    sentence_index: Any
    sentence_owners: NDArray[np.int32]  # passage index of each sentence row
    sentences: tuple[str, ...]  # quotable text of each sentence row (markers kept)
    # Content-token vectors of all sentences, concatenated: int8, one scale per row implied
    # by unit length (rag.store.late.quantize), a quarter of float32's bytes.
    token_vectors: NDArray[np.int8]
    token_offsets: NDArray[np.int64]  # sentence i owns token rows offsets[i]:offsets[i+1]
    # The float vectors of the passage, sentence and footnote rows, as encoded: what exact
    # cosines behind a graph (whose codes are approximate) are read from, and what an export
    # writes. Memory-mapped when loaded; large ones read with pread (rag.store.rowfile).
    passage_vectors: NDArray[np.float32]
    sentence_vectors: NDArray[np.float32]
    footnote_vectors: NDArray[np.float32]

    def parts(self) -> dict[str, Any]:
        """The stored attributes by name (shallow: arrays and indexes are not copied)."""
        return {f.name: getattr(self, f.name) for f in fields(IndexContents)}


@dataclass(frozen=True, eq=False)
class IndexHandle(IndexContents):
    """A published build as a query sees it: its contents, where it was read from, its
    manifest, and the lookups derived on load."""

    path: Path
    manifest: Manifest
    footnote_keys: tuple[FootnoteKey, ...] = ()
    by_id: dict[str, int] = field(default_factory=dict)
    citing: dict[FootnoteKey, tuple[int, ...]] = field(default_factory=dict)
    # Passage p owns sentence rows passage_sentences[p]:passage_sentences[p+1] (the rows are
    # in passage order), so a passage's sentences and tokens are two slices, not a search.
    passage_sentences: NDArray[np.int64] = field(default_factory=lambda: _no_rows())
    # Exact cosines of the passage, sentence and footnote rows: a flat index's own vectors,
    # or those stored beside a graph (rag.store.vectors.exact_vectors).
    exact_passages: ExactVectors = field(default_factory=lambda: _no_exact())
    exact_sentences: ExactVectors = field(default_factory=lambda: _no_exact())
    exact_footnotes: ExactVectors = field(default_factory=lambda: _no_exact())
    # What the token leg reads: unit float32 rows of a small table, converted once at load,
    # else `token_vectors` itself (rag.store.late.query_table).
    token_table: NDArray[Any] = field(default_factory=lambda: _no_vectors())
    # The int8 table's row norms when `token_table` is that table (rag.store.late.row_norms),
    # computed once here instead of per query; empty for a float table.
    token_norms: NDArray[np.float32] = field(default_factory=_no_norms)
    # The int8 table's file when `token_table` maps it: the token leg reads its candidates'
    # rows from here, so the map's pages never enter the process (rag.store.rowfile).
    token_file: RowFile | None = None

    @classmethod
    def open(
        cls, path: Path, manifest: Manifest, contents: IndexContents, mapped_budget: int = 0
    ) -> IndexHandle:
        """``mapped_budget``: the most bytes of large tables (the int8 token table, the
        float vectors behind graphs) read through their memory maps rather than with
        ``pread`` (:func:`rag.store.rowfile.row_files`)."""
        from rag.store.late import query_table, row_norms
        from rag.store.rowfile import row_files
        from rag.store.vectors import exact_vectors, is_graph

        passages = contents.passages
        keys = tuple((d.id, f.number) for d in contents.documents.values() for f in d.footnotes)
        citing: dict[FootnoteKey, list[int]] = {k: [] for k in keys}
        for row, number in passages.citations():
            citing.setdefault((passages.document_of(row).id, number), []).append(row)
        table = query_table(contents.token_vectors)
        graphed = [
            (contents.faiss_index, contents.passage_vectors),
            (contents.sentence_index, contents.sentence_vectors),
            (contents.footnote_index, contents.footnote_vectors),
        ]
        token_file, *vector_files = row_files(
            [table, *(stored if is_graph(index) else None for index, stored in graphed)],
            mapped_budget,
        )
        exact = [
            exact_vectors(index, stored, file)
            for (index, stored), file in zip(graphed, vector_files, strict=True)
        ]
        return cls(
            path=path,
            manifest=manifest,
            footnote_keys=keys,
            by_id=dict(zip(passages.ids, range(len(passages)), strict=True)),
            citing={k: tuple(v) for k, v in citing.items()},
            passage_sentences=_row_offsets(contents.sentence_owners, len(passages)),
            exact_passages=exact[0],
            exact_sentences=exact[1],
            exact_footnotes=exact[2],
            token_table=table,
            token_norms=row_norms(table),
            token_file=token_file,
            **contents.parts(),
        )

    def passage(self, passage_id: str) -> Passage | None:
        i = self.by_id.get(passage_id)
        return None if i is None else self.passages[i]

    def footnote(self, key: FootnoteKey) -> Footnote | None:
        doc = self.documents.get(key[0])
        return doc.footnote(key[1]) if doc else None
