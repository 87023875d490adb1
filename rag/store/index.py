"""Build, verify and load the index: one immutable :class:`IndexHandle` per build.

A handle carries everything a query needs (passages, FAISS, BM25, footnote tables, sentence
rows), so a server swaps to a new index by replacing one reference. What is stored, and how,
is the table in :mod:`rag.store.artifacts`; what it was built from is :mod:`rag.store.manifest`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.chunking.passages import ChunkParams, chunk_documents
from rag.chunking.represent import footnote_text, passage_text, sentence_rows
from rag.chunking.sentences import remembering
from rag.encoding.protocol import Encoder
from rag.errors import CorpusFormatError, IndexMissing
from rag.memory import release_freed
from rag.parsing import ReadOptions, load_sources
from rag.records import Document, Passage
from rag.store import bm25, late
from rag.store.artifacts import check_sizes, read_artifacts, save_artifacts, verify_artifacts
from rag.store.bm25 import BM25Params
from rag.store.embedding_cache import CachingEncoder, EmbeddingCache
from rag.store.handle import FootnoteKey, IndexContents, IndexHandle
from rag.store.manifest import (
    MANIFEST,
    REBUILD,
    Counts,
    EmbeddingReuse,
    Manifest,
    ModelInfo,
    SourceInfo,
    check_encoder,
    check_fresh,
    read_manifest,
)
from rag.store.passage_table import PassageTable
from rag.store.publish import discard, new_build_dir, publish
from rag.store.vectors import (
    DenseIndexParams,
    build_dense,
    build_footnotes,
    build_sentences,
    describe,
    describe_footnotes,
    describe_sentences,
)

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "BuildProgress",
    "FootnoteKey",
    "IndexHandle",
    "build_index",
    "check_fresh",
    "load_index",
    "read_manifest",
    "verify_artifacts",
]


def package_version() -> str:
    try:
        return version("brief-rag")
    except PackageNotFoundError:
        return "0+unknown"


def _ignore(n: object) -> None:
    pass


@dataclass(frozen=True)
class BuildProgress:
    """Callbacks for a progress display: ``start(total)`` then ``advance(n)`` per batch;
    ``say(line)`` for a line the user should read (why a build is starting)."""

    start: Callable[[int], None] = _ignore
    advance: Callable[[int], None] = _ignore
    say: Callable[[str], None] = _ignore


# --------------------------------------------------------------------------- build


def build_index(
    paths: Sequence[Path],
    out: Path,
    encoder: Encoder,
    params: ChunkParams,
    *,
    model_path: str,
    dense: DenseIndexParams,
    batch_size: int = 32,
    progress: BuildProgress | None = None,
    read_options: ReadOptions | None = None,
    query_encoder: Encoder | None = None,
    ids: Mapping[Path, str] | None = None,
) -> Manifest:
    """Parse, chunk, embed (with ``encoder``) and publish atomically; on any error the old
    index stays. ``query_encoder`` (default: ``encoder``) is the one the index is built to be
    searched with, recorded in the manifest; it must accept ``encoder``'s vectors. ``ids``
    pins the document ids of some files (:func:`rag.parsing.load_sources`)."""
    started = time.perf_counter()
    model = _model_info(encoder, query_encoder or encoder, model_path)
    sources = load_sources(paths, read_options, ids)
    parse_seconds = time.perf_counter() - started
    documents = [doc for _, doc in sources]
    budget = (read_options or ReadOptions()).max_passages_per_brief
    cache = EmbeddingCache.beside(out, encoder)  # what the last build embedded, reused
    with remembering(cache.span_memo(package_version())):  # and the sentences it split
        passages = chunk_documents(documents, params, max_passages=budget)
        if not passages:
            raise CorpusFormatError(
                "no passages could be cut from the given briefs (no paragraph of text found); "
                "nothing was written"
            )
        bm25_params = bm25.BM25_PARAMS  # read by the builder and recorded, from this object
        contents = _contents(
            documents,
            passages,
            cache.wrap(encoder),
            bm25_params,
            dense,
            batch_size,
            progress or BuildProgress(),
        )
    build = new_build_dir(out)
    try:
        checksums = save_artifacts(contents, build)
        manifest = Manifest(
            package_version=package_version(),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            documents=[_source(doc, path) for path, doc in sources],
            model=model.model_copy(update={"dimension": int(contents.faiss_index.d)}),
            chunking=params,
            dense_index=describe(contents.faiss_index, dense),
            sentence_index=describe_sentences(contents.sentence_index, dense),
            footnote_index=describe_footnotes(contents.footnote_index, dense),
            bm25=bm25_params,
            counts=_counts(contents),
            build_seconds=round(time.perf_counter() - started, 3),
            parse_seconds=round(parse_seconds, 3),
            warnings=[f"{d.source}: {w}" for d in documents for w in d.warnings],
            notes=[f"{d.source}: {n}" for d in documents for n in d.notes],
            artifacts=checksums,
            embedding={
                kind: EmbeddingReuse(embedded=r.embedded, reused=r.reused)
                for kind, r in cache.reuse.items()
            },
        )
        (build / MANIFEST).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
        publish(build, out)
    except BaseException:
        discard(build)
        raise
    with contextlib.suppress(OSError):  # a cache that cannot be written costs time, not data
        cache.save()
    return manifest


def _model_info(encoder: Encoder, query: Encoder, model_path: str) -> ModelInfo:
    """The manifest's model record, checked before any embedding: the query encoder must
    accept the vectors ``encoder`` computes (IndexStale otherwise, at once)."""
    info = ModelInfo(
        id=encoder.model_id,
        path=model_path,
        weights_sha256=encoder.weights_sha256,
        backend=encoder.backend,
        vectors_sha256=encoder.vectors_sha256,
        dimension=0,  # read from the built index
        query_backend=query.backend,
        query_vectors_sha256=query.vectors_sha256,
    )
    check_encoder(info, query)
    return info


def _contents(
    documents: Sequence[Document],
    passages: Sequence[Passage],
    encoder: CachingEncoder,
    bm25_params: BM25Params,
    dense: DenseIndexParams,
    batch_size: int,
    progress: BuildProgress,
) -> IndexContents:
    """Embed and index everything in memory; nothing touches the disk here."""
    import numpy as np

    fronts = {d.id: d.front_matter for d in documents}
    texts = [passage_text(p, fronts[p.document.id]) for p in passages]
    rows = [sentence_rows(p, fronts[p.document.id]) for p in passages]
    probes = [r.probes for r in rows]
    bare = [s for r in rows for s in r.bare]
    quotes = tuple(s for r in rows for s in r.quotes)
    owners = np.repeat(np.arange(len(passages), dtype=np.int32), [len(g) for g in probes])
    notes = [footnote_text(f) for d in documents for f in d.footnotes]

    progress.start(len(texts) + len(owners) + len(notes))

    def pooled(kind: str, texts: list[str]) -> np.ndarray:
        rows: np.ndarray = by_length(
            texts,
            lambda batch: encoder.encode_kind(
                kind, batch, batch_size=batch_size, progress=progress.advance
            ),
        )
        return rows

    vectors = pooled("passages", texts)
    flat = [s for group in probes for s in group]
    sentence_vectors = pooled("sentences", flat)
    dim = int(vectors.shape[1])
    # Token vectors come from the bare sentence: the section path would match every question
    # about that section equally and drown the sentence's own words.
    token_codes, token_offsets = late.encode_table(  # int8: a quarter of float32's bytes
        lambda texts: by_length(
            texts, lambda batch: encoder.encode_tokens(batch, batch_size=batch_size)
        ),
        bare,
        dim,
    )
    note_vectors = pooled("footnotes", notes)
    if not notes:
        note_vectors = np.zeros((0, dim), dtype=np.float32)
    return IndexContents(
        documents={d.id: d for d in documents},
        passages=PassageTable.of(passages),
        faiss_index=build_dense(vectors, dense),
        bm25=bm25.build(texts, bm25_params),
        footnote_index=build_footnotes(note_vectors, dense),
        footnote_bm25=bm25.build(notes, bm25_params),
        sentence_index=build_sentences(sentence_vectors, dense),
        sentence_owners=owners,
        sentences=quotes,
        token_vectors=token_codes,
        token_offsets=token_offsets,
        passage_vectors=_rows(vectors, dim),
        sentence_vectors=_rows(sentence_vectors, dim),
        footnote_vectors=_rows(note_vectors, dim),
    )


def _rows(vectors: np.ndarray, dim: int) -> np.ndarray:
    """Float32 rows of ``dim`` columns, C-ordered, as stored (no rows: shape (0, dim))."""
    import numpy as np

    rows: np.ndarray = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, dim)
    return rows


def by_length(texts: Sequence[str], encode: Callable[[list[str]], Any]) -> Any:
    """``encode(texts)`` with the texts in order of length, its rows put back in the given
    order: a batch of similar lengths pads little (the encoder's batches are cut from the
    sorted list). With the float32 ONNX encoder the rows do not depend on their batch (the
    bundled brief's passage, sentence, token and footnote arrays compared equal before and
    after: docs/performance.md, "Library costs"), so this changes the build's time only;
    sentence-transformers (torch) sorts its batches by length itself."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    rows = encode([texts[i] for i in order])
    out: list[Any] = [None] * len(texts)
    for position, row in zip(order, rows, strict=True):
        out[position] = row
    if isinstance(rows, list):
        return out
    import numpy as np

    return np.stack(out) if out else rows


def _source(doc: Document, path: Path) -> SourceInfo:
    return SourceInfo(
        id=doc.id,
        title=doc.title,
        source=doc.source,
        path=str(path),
        sha256=doc.sha256,
        format=doc.format,
    )


def _counts(contents: IndexContents) -> Counts:
    documents = contents.documents.values()
    return Counts(
        documents=len(documents),
        sections=sum(len(d.sections) for d in documents),
        footnotes=sum(len(d.footnotes) for d in documents),
        passages=len(contents.passages),
        tokens=sum(p.tokens for p in contents.passages),
        pages=sum(d.page_count or 0 for d in documents),
    )


# --------------------------------------------------------------------------- load


def load_index(folder: Path, *, verify: bool = True, mapped_budget: int = 0) -> IndexHandle:
    """Load a published index, checking every artifact against the manifest.
    ``mapped_budget``: bytes of large tables a query may read through their memory maps
    (``Settings.mapped_read_bytes``); 0 reads them all with ``pread``."""
    folder = Path(folder)
    if not (folder / MANIFEST).is_file():
        raise IndexMissing(f"no index at {folder}; {REBUILD}")
    build = folder.resolve()  # read one build even if the link moves while we read
    manifest = read_manifest(build, shown=folder)
    if verify:
        verify_artifacts(build, manifest, shown=folder)
    contents = read_artifacts(build, shown=folder)
    check_sizes(contents, manifest, shown=folder)
    handle = IndexHandle.open(build, manifest, contents, mapped_budget)
    release_freed()  # what parsing the JSON artifacts allocated and freed
    return handle
