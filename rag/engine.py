"""The engine: settings + encoder + the current index handle, behind one object.

The CLI and the server both go through :func:`open_engine`. The handle is swapped with a
single assignment (:meth:`Engine.swap`), the seam for hot reload.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from rag.chunking import ChunkParams
from rag.config import Settings
from rag.encoder import Encoder, load_encoder
from rag.index import BuildProgress, IndexHandle, build_index, check_fresh, load_index
from rag.manifest import MANIFEST, Manifest
from rag.parsing import ReadOptions
from rag.publish import build_lock
from rag.records import Hit
from rag.retrieval import RetrievalParams, Retriever, RetrieverName


def chunk_params(settings: Settings) -> ChunkParams:
    return ChunkParams(
        max_tokens=settings.max_tokens,
        overlap_sentences=settings.overlap_sentences,
        tokenizer=settings.tokenizer,
    )


def retrieval_params(settings: Settings) -> RetrievalParams:
    return RetrievalParams(
        rrf_k=settings.rrf_k,
        dense_weight=settings.dense_weight,
        sentence_weight=settings.sentence_weight,
        token_weight=settings.token_weight,
        bm25_weight=settings.bm25_weight,
        footnote_weight=settings.footnote_weight,
        footnote_depth=settings.footnote_depth,
        footnote_margin=settings.footnote_margin,
        candidates=settings.candidates,
    )


@dataclass(frozen=True)
class SearchResult:
    question: str
    hits: list[Hit]
    took_ms: float


class Engine:
    def __init__(self, settings: Settings, encoder: Encoder, handle: IndexHandle) -> None:
        self.settings = settings
        self.encoder = encoder
        self._retriever = Retriever(handle, encoder, retrieval_params(settings))

    @property
    def handle(self) -> IndexHandle:
        return self._retriever.handle

    @property
    def retriever(self) -> Retriever:
        return self._retriever

    def swap(self, handle: IndexHandle) -> None:
        """Serve a new index from the next query on; in-flight queries keep the old one."""
        self._retriever = Retriever(handle, self.encoder, retrieval_params(self.settings))

    def search(
        self,
        question: str,
        k: int | None = None,
        retriever: RetrieverName | None = None,
        section: str | None = None,
    ) -> SearchResult:
        started = time.perf_counter()
        hits = self._retriever.search(
            question,
            k=k or self.settings.top_k,
            retriever=retriever or self.settings.retriever,
            section=section,
        )
        return SearchResult(question, hits, round((time.perf_counter() - started) * 1000, 2))


def build(
    settings: Settings,
    paths: list[Path] | None = None,
    out: Path | None = None,
    *,
    encoder: Encoder | None = None,
    progress: BuildProgress | None = None,
    only_if_missing: bool = False,
) -> Manifest | None:
    """Build and publish an index; with ``only_if_missing``, skip when one exists (checked
    under the lock, so concurrent first uses build once)."""
    encoder = encoder or load_encoder(settings.model, settings.device)
    target = out or settings.index_dir
    with build_lock(target):
        if only_if_missing and (target / MANIFEST).is_file():
            return None
        return build_index(
            paths or settings.corpus,
            target,
            encoder,
            chunk_params(settings),
            model_path=settings.model,
            batch_size=settings.batch_size,
            progress=progress,
            read_options=ReadOptions(max_pdf_pages=settings.pdf_max_pages),
        )


def open_engine(
    settings: Settings,
    *,
    encoder: Encoder | None = None,
    auto_build: bool = True,
    progress: BuildProgress | None = None,
) -> Engine:
    """Load (and on first use build) the index at ``settings.index_dir``, checked fresh."""
    encoder = encoder or load_encoder(settings.model, settings.device)
    if auto_build and not (settings.index_dir / MANIFEST).is_file():
        build(settings, encoder=encoder, progress=progress, only_if_missing=True)
    handle = load_index(settings.index_dir)
    check_fresh(handle.manifest, model_path=settings.model, params=chunk_params(settings))
    return Engine(settings, encoder, handle)
