"""The engine: settings + encoder + the current index handle, behind one object.

The CLI and the server both go through :func:`open_engine`. The handle is swapped with a
single assignment (:meth:`Engine.swap`), the seam for hot reload.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from rag import deadline
from rag.chunking.passages import ChunkParams
from rag.config import RetrieverName, Settings
from rag.encoding.backends import load_encoder, resolve_backend
from rag.encoding.protocol import Encoder
from rag.errors import (
    CorpusFormatError,
    CorpusNotFound,
    DocumentNotFound,
    IndexCorrupt,
    IndexStale,
    QueryError,
)
from rag.fileio import build_lock
from rag.parsing import ReadOptions
from rag.records import Hit
from rag.retrieval.retriever import RetrievalParams, Retriever, SearchPlan
from rag.store.index import BuildProgress, IndexHandle, build_index, check_fresh, load_index
from rag.store.manifest import MANIFEST, REBUILD, Manifest
from rag.store.publish import check_target, writing
from rag.store.vectors import DenseIndexParams

if TYPE_CHECKING:
    import numpy as np

T = TypeVar("T")


@dataclass(frozen=True)
class SearchResult:
    question: str
    hits: list[Hit]
    took_ms: float


class Engine:
    """Settings, the encoder and the index being served.

    Work that reads the index more than once (a search, an answer) takes one
    :meth:`snapshot` at its start and passes it down, so a swap in between can never mix
    two builds in one response.
    """

    def __init__(self, settings: Settings, encoder: Encoder, handle: IndexHandle) -> None:
        self.settings = settings
        self.encoder = encoder
        self._params = RetrievalParams.from_settings(settings)
        self._retriever = Retriever(handle, encoder, self._params)

    def snapshot(self) -> Retriever:
        """The index as it is now, with the encoder and fusion parameters to search it."""
        return self._retriever

    @property
    def handle(self) -> IndexHandle:
        """The current index, for a single read (a count, one lookup)."""
        return self._retriever.handle

    @property
    def retriever(self) -> Retriever:
        return self._retriever

    def with_encoder(self, encoder: Encoder) -> Engine:
        """The same index and settings, searched with another encoder (e.g. a batching one)."""
        return Engine(self.settings, encoder, self.snapshot().handle)

    def swap(self, handle: IndexHandle) -> None:
        """Serve a new index from the next query on; in-flight queries keep the old one."""
        self._retriever = Retriever(handle, self.encoder, self._params)

    def check_documents(self, documents: Sequence[str] | None) -> None:
        """Refuse a scope naming a brief the index does not hold (:class:`DocumentNotFound`,
        listing the ids it does), before any question is asked."""
        from rag.retrieval.retriever import in_documents

        in_documents(self.handle, documents)

    def check_question(self, question: str) -> None:
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise QueryError(
                f"the question is {len(question):,} characters long; the limit is {limit:,} "
                "(RAG_MAX_QUESTION_CHARS)"
            )

    def search(
        self,
        question: str,
        k: int | None = None,
        retriever: RetrieverName | None = None,
        section: str | None = None,
        documents: Sequence[str] | None = None,
    ) -> SearchResult:
        self.check_question(question)
        deadline.check("the search")  # it may have queued for a worker thread
        snapshot = self.snapshot()
        started = time.perf_counter()
        plan = self._plan(snapshot, question, k, retriever, section, documents)
        hits = snapshot.run(plan, *snapshot.vectors(plan))
        return SearchResult(question, hits, round((time.perf_counter() - started) * 1000, 2))

    async def asearch(
        self,
        question: str,
        k: int | None = None,
        retriever: RetrieverName | None = None,
        section: str | None = None,
        documents: Sequence[str] | None = None,
    ) -> SearchResult:
        """:meth:`search` for a server's event loop (:meth:`aencode`, then the legs as
        :meth:`beside_loop` decides)."""
        self.check_question(question)
        snapshot = self.snapshot()
        started = time.perf_counter()
        plan = self._plan(snapshot, question, k, retriever, section, documents)
        qvec = qtokens = None
        if plan.needs_model:
            qvec, qtokens = await self.aencode(plan.question)
        deadline.check("the search")
        hits = await self.beside_loop(snapshot, snapshot.run, plan, qvec, qtokens)
        return SearchResult(question, hits, round((time.perf_counter() - started) * 1000, 2))

    def _plan(
        self,
        snapshot: Retriever,
        question: str,
        k: int | None,
        retriever: RetrieverName | None,
        section: str | None,
        documents: Sequence[str] | None = None,
    ) -> SearchPlan:
        """The question checked and its legs chosen, with this engine's defaults."""
        return snapshot.plan(
            question,
            k=k or self.settings.top_k,
            retriever=retriever or self.settings.retriever,
            section=section,
            documents=documents,
        )

    async def aencode(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """One question's pooled and token vectors, awaited without holding a thread: a
        batching encoder wakes the caller through the loop; any other runs in a thread."""
        import asyncio

        encode = getattr(self.encoder, "aencode_with_tokens", None)
        if encode is not None:
            vecs, toks = await encode([text])
        else:
            vecs, toks = await asyncio.to_thread(self.encoder.encode_with_tokens, [text])
        return vecs[0], toks[0]

    async def beside_loop(self, snapshot: Retriever, call: Callable[..., T], *args: Any) -> T:
        """Run a search's work over ``snapshot`` on the loop itself when the index is small
        (``RAG_LOOP_SEARCH_MAX_PASSAGES``: cheaper than a hop to a thread and back, and
        under load one thread doing the legs in turn beats many fighting for the GIL),
        else in a worker thread, so a large index never stalls the loop."""
        import asyncio

        if len(snapshot.handle.passages) > self.settings.loop_search_max_passages:
            return await asyncio.to_thread(call, *args)
        return call(*args)


def build(
    settings: Settings,
    paths: list[Path] | None = None,
    out: Path | None = None,
    *,
    encoder: Encoder | None = None,
    progress: BuildProgress | None = None,
    only_if_missing: bool = False,
    replacing: Path | None = None,
) -> Manifest | None:
    """Build and publish an index for ``encoder`` (default: the configured one) to search;
    with ``only_if_missing``, skip when one exists, and with ``replacing`` (a build folder),
    skip unless the target still is that build: both checked under the lock, so concurrent
    first uses, or workers finding one stale index, build once. The briefs are embedded by
    the encoder it searches the vectors of (float32 for int8 questions)."""
    target = out or settings.index_dir
    with writing(target):
        check_target(target)  # before any work or any file is made: a user's path is refused
    encoder = encoder or make_encoder(settings)
    embedder = index_encoder(settings, encoder)
    with writing(target), build_lock(target):
        if only_if_missing and (target / MANIFEST).is_file():
            return None
        if replacing is not None and target.resolve() != replacing:
            return None  # another process rebuilt it meanwhile
        return build_index(
            paths or settings.corpus,
            target,
            embedder,
            ChunkParams.from_settings(settings),
            model_path=settings.model,
            dense=DenseIndexParams.from_settings(settings),
            batch_size=settings.batch_size,
            progress=progress,
            read_options=ReadOptions.from_settings(settings),
            query_encoder=encoder,
        )


def library_paths(target: Path, add: Sequence[Path], remove: Sequence[str]) -> list[Path]:
    """The briefs of the index published at ``target`` (the files its manifest names), with
    ``add`` added (a file already there is read again) and the ids in ``remove`` dropped."""
    from rag.store.manifest import read_manifest

    sources = (
        read_manifest(target.resolve(), shown=target).documents
        if (target / MANIFEST).is_file()
        else []
    )
    known = {s.id for s in sources}
    unknown = [i for i in remove if i not in known]
    if unknown:
        raise DocumentNotFound.naming(unknown, known)
    kept = [Path(s.path) for s in sources if s.id not in set(remove)]
    gone = [str(p) for p in kept if not p.exists()]
    if gone:
        ids = [s.id for s in sources if s.path in gone]
        raise CorpusNotFound(
            f"{gone[0]}: the file of an indexed brief is gone; drop it with "
            f"--remove {ids[0]}, or put the file back"
        )
    paths = list(dict.fromkeys([*kept, *(Path(p).resolve() for p in add)]))
    if not paths:
        raise QueryError("that would leave the index with no brief; keep at least one")
    return paths


def open_engine(
    settings: Settings,
    *,
    encoder: Encoder | None = None,
    auto_build: bool = True,
    progress: BuildProgress | None = None,
    serving: bool = False,
) -> Engine:
    """Load (and on first use build) the index at ``settings.index_dir``, checked fresh:
    sources, chunking, model and the encoder that computed its vectors. ``serving``: the
    question encoder is a server's (:meth:`Settings.inference_threads`)."""
    target = settings.index_dir
    if auto_build and not target.exists() and not target.is_symlink():
        # Only a place where no index was ever built is built on first use: a damaged one
        # may have held other briefs, and quietly rebuilding the bundled brief there would
        # serve the wrong corpus with a green /ready.
        # The build's own encoder (all the cores) unless one was given: a server's keeps a
        # core free for its event loop, which a build does not need.
        build(settings, encoder=encoder, progress=progress, only_if_missing=True)
    elif not (target / MANIFEST).is_file() and (target.exists() or target.is_symlink()):
        raise IndexCorrupt(
            f"{target} holds no complete index (no manifest.json, an empty folder or a link "
            f"to nothing); {REBUILD} — it is not rebuilt on its own, since it may have "
            "held other briefs"
        )
    stale_build = target.resolve()
    try:
        return _open(settings, encoder, serving)
    except IndexStale as stale:
        # An index of exactly the briefs this command would build on first use, made stale
        # by an upgrade (a new schema) or a setting, is rebuilt from them: the same corpus,
        # nothing a user made is lost, and `make run` keeps working after an update.
        # Anything else stale (other briefs) is the user's to rebuild, as the error says.
        if not (auto_build and built_from_corpus(target, settings.corpus)):
            raise
        line = f"{str(stale).split(f'; {REBUILD}')[0]}; rebuilding it from the same briefs"
        if progress is not None:
            progress.say(line)
        else:  # a server's start-up: its log
            logging.getLogger("rag.index").warning(line)
        build(settings, encoder=encoder, progress=progress, replacing=stale_build)
    return _open(settings, encoder, serving)


def _open(settings: Settings, encoder: Encoder | None, serving: bool) -> Engine:
    handle = load_index(settings.index_dir, mapped_budget=settings.mapped_read_bytes)
    encoder = encoder or make_encoder(
        settings, built_with=handle.manifest.model.searched_with, serving=serving
    )
    check_fresh(
        handle.manifest,
        model_path=settings.model,
        params=ChunkParams.from_settings(settings),
        encoder=encoder,
    )
    return Engine(settings, encoder, handle)


def built_from_corpus(target: Path, corpus: Sequence[Path]) -> bool:
    """Whether the index at ``target`` was built from exactly the briefs ``corpus`` names
    (read from its manifest leniently, so an older schema's manifest answers too)."""
    import json

    from rag.parsing.loader import discover

    try:
        data = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
        built = {Path(d["path"]).resolve() for d in data["documents"]}
        return bool(built) and built == set(discover(corpus))
    except (OSError, ValueError, TypeError, KeyError, CorpusNotFound, CorpusFormatError):
        return False


def for_serving(engine: Engine) -> Engine:
    """The engine a server uses: concurrent questions share encoder calls (micro-batching),
    with a bounded queue, and the other work runs one thread per operation."""
    from rag.encoding.batching import BatchingEncoder

    _single_threaded_math()
    settings = engine.settings
    batching = BatchingEncoder(
        engine.encoder,
        max_batch=settings.max_batch,
        max_wait_ms=settings.batch_wait_ms,
        max_queue=settings.encode_queue,
    )
    return engine.with_encoder(batching)


def _single_threaded_math() -> None:
    """A server's parallelism is its concurrent requests: a multi-threaded BLAS or FAISS
    call per question only fights them for the cores (a 0.1 ms matrix-vector product was
    measured at 8 ms on a loaded machine with OpenBLAS's threads). The encoder keeps the
    threads it was given (``RAG_ENCODER_THREADS``)."""
    import faiss
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
    faiss.omp_set_num_threads(1)


def make_encoder(
    settings: Settings, built_with: str | None = None, *, serving: bool = False
) -> Encoder:
    """The configured encoder for questions (``auto`` resolved against the backend the index
    was built to be searched with); ``serving``: with a server's threads."""
    return _load(settings, resolve_backend(settings.encoder, built_with), serving=serving)


def index_encoder(settings: Settings, encoder: Encoder) -> Encoder:
    """The encoder that embeds the briefs of an index ``encoder`` searches: itself, or the
    one it names (the float32 export, for int8 questions)."""
    if encoder.index_backend == encoder.backend:
        return encoder
    return _load(settings, encoder.index_backend)


def _load(settings: Settings, backend: str, *, serving: bool = False) -> Encoder:
    return load_encoder(
        settings.model,
        backend=backend,
        device=settings.device,
        cache_dir=settings.model_cache,
        threads=settings.inference_threads(serving=serving),
    )
