"""Build, verify and load the index: one immutable :class:`IndexHandle` per build.

A handle carries everything a query needs (passages, FAISS, BM25, footnote tables), so a
server swaps to a new index by replacing one reference.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from rag import bm25, late
from rag.chunking import ChunkParams, chunk_documents
from rag.encoder import Encoder, weights_sha256
from rag.errors import IndexCorrupt, IndexMissing, IndexStale, RagError
from rag.manifest import (
    MANIFEST,
    SCHEMA_VERSION,
    ChunkInfo,
    Counts,
    Manifest,
    ModelInfo,
    SourceInfo,
    file_sha256,
)
from rag.parsing import ReadOptions, load_sources
from rag.publish import discard, new_build_dir, publish
from rag.records import Document, Footnote, Passage
from rag.represent import footnote_text, passage_text, sentence_texts

if TYPE_CHECKING:
    import numpy as np

DOCUMENTS = "documents.json"
PASSAGES = "passages.jsonl"
VECTORS = "vectors.npy"
FAISS = "dense.faiss"
FOOTNOTE_VECTORS = "footnote_vectors.npy"
SENTENCE_VECTORS = "sentence_vectors.npy"
SENTENCE_OWNERS = "sentence_owners.npy"
TOKEN_VECTORS = "token_vectors.npy"
TOKEN_OFFSETS = "token_offsets.npy"
BM25_DIR = "bm25"
FOOTNOTE_BM25_DIR = "bm25_footnotes"
REBUILD = "run `rag index` to rebuild it"

FootnoteKey = tuple[str, int]


def package_version() -> str:
    try:
        return version("brief-rag")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True)
class BuildProgress:
    """Callbacks for a progress display: ``start(total)`` then ``advance(n)`` per batch."""

    start: Callable[[int], None] = lambda total: None
    advance: Callable[[int], None] = lambda n: None


@dataclass(frozen=True, eq=False)
class IndexHandle:
    path: Path
    manifest: Manifest
    documents: dict[str, Document]
    passages: tuple[Passage, ...]
    vectors: np.ndarray
    faiss_index: Any
    bm25: Any
    footnote_keys: tuple[FootnoteKey, ...]
    footnote_vectors: np.ndarray
    footnote_bm25: Any
    sentence_vectors: np.ndarray
    sentence_owners: np.ndarray  # passage index of each sentence row
    token_vectors: np.ndarray  # content-token vectors of all sentences, concatenated
    token_offsets: np.ndarray  # sentence i owns token rows offsets[i]:offsets[i+1]
    by_id: dict[str, int] = field(default_factory=dict)
    citing: dict[FootnoteKey, tuple[int, ...]] = field(default_factory=dict)

    def passage(self, passage_id: str) -> Passage | None:
        i = self.by_id.get(passage_id)
        return None if i is None else self.passages[i]

    def footnote(self, key: FootnoteKey) -> Footnote | None:
        doc = self.documents.get(key[0])
        return doc.footnote(key[1]) if doc else None


# --------------------------------------------------------------------------- build


def _sources(docs: Sequence[Document], paths: dict[str, Path]) -> list[SourceInfo]:
    return [
        SourceInfo(
            id=d.id,
            title=d.title,
            source=d.source,
            path=str(paths[d.id]),
            sha256=d.sha256,
            format=d.format,
        )
        for d in docs
    ]


def build_index(
    paths: Sequence[Path],
    out: Path,
    encoder: Encoder,
    params: ChunkParams,
    *,
    model_path: str,
    batch_size: int = 32,
    progress: BuildProgress | None = None,
    read_options: ReadOptions | None = None,
) -> Manifest:
    """Parse, chunk, embed and publish atomically; on any error the old index stays."""
    import faiss
    import numpy as np

    started = time.perf_counter()
    progress = progress or BuildProgress()
    sources = load_sources(paths, read_options)
    parse_seconds = time.perf_counter() - started
    documents = [doc for _, doc in sources]
    source_paths = {doc.id: path for path, doc in sources}
    passages = chunk_documents(documents, params)
    if not passages:
        raise RagError("no passages could be cut from the given briefs; nothing was written")
    fronts = {d.id: d.front_matter for d in documents}
    texts = [passage_text(p, fronts[p.document.id]) for p in passages]
    sentences = [sentence_texts(p, fronts[p.document.id], with_path=True) for p in passages]
    bare = [s for p in passages for s in sentence_texts(p, fronts[p.document.id])]
    flat = [s for group in sentences for s in group]
    owners = np.repeat(np.arange(len(passages), dtype=np.int32), [len(g) for g in sentences])
    notes = [(d.id, f) for d in documents for f in d.footnotes]

    progress.start(len(texts) + len(flat) + len(notes))
    vectors = encoder.encode(texts, batch_size=batch_size, progress=progress.advance)
    sentence_vectors = encoder.encode(flat, batch_size=batch_size, progress=progress.advance)
    # Token vectors come from the bare sentence: the section path would match every question
    # about that section equally and drown the sentence's own words.
    token_vectors, token_offsets = late.pack(
        encoder.encode_tokens(bare, batch_size=batch_size), int(vectors.shape[1])
    )
    note_vectors = encoder.encode(
        [footnote_text(f) for _, f in notes], batch_size=batch_size, progress=progress.advance
    )
    if not len(notes):
        note_vectors = np.zeros((0, vectors.shape[1]), dtype=np.float32)

    build = new_build_dir(out)
    try:
        (build / DOCUMENTS).write_text(
            json.dumps([d.model_dump(mode="json") for d in documents], ensure_ascii=False),
            encoding="utf-8",
        )
        with open(build / PASSAGES, "w", encoding="utf-8") as fh:
            for p in passages:
                fh.write(p.model_dump_json() + "\n")
        np.save(build / VECTORS, vectors, allow_pickle=False)
        np.save(build / FOOTNOTE_VECTORS, note_vectors, allow_pickle=False)
        np.save(build / SENTENCE_VECTORS, sentence_vectors, allow_pickle=False)
        np.save(build / SENTENCE_OWNERS, owners, allow_pickle=False)
        np.save(build / TOKEN_VECTORS, token_vectors, allow_pickle=False)
        np.save(build / TOKEN_OFFSETS, token_offsets, allow_pickle=False)
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(vectors)
        faiss.write_index(index, str(build / FAISS))
        bm25.save(bm25.build(texts), build / BM25_DIR)
        bm25.save(bm25.build([footnote_text(f) for _, f in notes]), build / FOOTNOTE_BM25_DIR)

        artifacts = {
            str(f.relative_to(build)): file_sha256(f)
            for f in sorted(build.rglob("*"))
            if f.is_file()
        }
        manifest = Manifest(
            package_version=package_version(),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            documents=_sources(documents, source_paths),
            model=ModelInfo(
                id=encoder.model_id,
                path=model_path,
                weights_sha256=encoder.weights_sha256,
                dimension=int(vectors.shape[1]),
            ),
            chunking=ChunkInfo(
                tokenizer=params.tokenizer,
                max_tokens=params.max_tokens,
                overlap_sentences=params.overlap_sentences,
            ),
            bm25=bm25.BM25_PARAMS,
            counts=Counts(
                documents=len(documents),
                sections=sum(len(d.sections) for d in documents),
                footnotes=len(notes),
                passages=len(passages),
                tokens=sum(p.tokens for p in passages),
                pages=sum(d.page_count or 0 for d in documents),
            ),
            build_seconds=round(time.perf_counter() - started, 3),
            parse_seconds=round(parse_seconds, 3),
            warnings=[f"{d.source}: {w}" for d in documents for w in d.warnings],
            artifacts=artifacts,
        )
        (build / MANIFEST).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
        publish(build, out)
    except BaseException:
        discard(build)
        raise
    return manifest


# --------------------------------------------------------------------------- load


def read_manifest(folder: Path, shown: Path | None = None) -> Manifest:
    """Read and validate ``manifest.json``; errors name ``shown`` (the configured path)."""
    path = folder / MANIFEST
    folder = shown or folder
    if not path.is_file():
        raise IndexMissing(f"no index at {folder}; {REBUILD}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"index manifest {path} is unreadable ({exc}); {REBUILD}") from None
    if isinstance(data, dict) and data.get("schema_version") != SCHEMA_VERSION:
        raise IndexStale(
            f"index at {folder} has schema version {data.get('schema_version')}, "
            f"this version reads {SCHEMA_VERSION}; {REBUILD}"
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        raise IndexCorrupt(
            f"index manifest {path} is invalid ({exc.error_count()} errors); {REBUILD}"
        ) from None


def verify_artifacts(folder: Path, manifest: Manifest, shown: Path | None = None) -> None:
    for name, expected in manifest.artifacts.items():
        path = folder / name
        folder_shown = shown or folder
        if not path.is_file():
            raise IndexCorrupt(f"index at {folder_shown} is missing {name}; {REBUILD}")
        if file_sha256(path) != expected:
            raise IndexCorrupt(
                f"index file {name} in {folder_shown} does not match its checksum "
                f"(modified or damaged); {REBUILD}"
            )


def check_fresh(manifest: Manifest, *, model_path: str, params: ChunkParams) -> None:
    """Raise :class:`IndexStale` when sources, model or chunking differ from the build."""
    for src in manifest.documents:
        path = Path(src.path)
        if path.is_file() and file_sha256(path) != src.sha256:
            raise IndexStale(f"{path} changed since the index was built; {REBUILD}")
    current = ChunkInfo(
        tokenizer=params.tokenizer,
        max_tokens=params.max_tokens,
        overlap_sentences=params.overlap_sentences,
    )
    if current != manifest.chunking:
        raise IndexStale(
            f"index was built with {manifest.chunking.model_dump()} but the settings ask for "
            f"{current.model_dump()}; {REBUILD}"
        )
    model_dir = Path(model_path).expanduser()
    if model_dir.is_dir() and weights_sha256(model_dir) != manifest.model.weights_sha256:
        raise IndexStale(
            f"index was built with model {manifest.model.id} "
            f"({manifest.model.weights_sha256[:12]}…), not the configured {model_path}; {REBUILD}"
        )


def load_index(folder: Path, *, verify: bool = True) -> IndexHandle:
    """Load a published index, checking every artifact against the manifest."""
    import faiss
    import numpy as np

    folder = Path(folder)
    if not (folder / MANIFEST).is_file():
        raise IndexMissing(f"no index at {folder}; {REBUILD}")
    build = folder.resolve()  # read one build even if the link moves while we read
    manifest = read_manifest(build, shown=folder)
    if verify:
        verify_artifacts(build, manifest, shown=folder)
    try:
        documents = [
            Document.model_validate(d)
            for d in json.loads((build / DOCUMENTS).read_text(encoding="utf-8"))
        ]
        with open(build / PASSAGES, encoding="utf-8") as fh:
            passages = tuple(Passage.model_validate_json(line) for line in fh if line.strip())
        vectors = np.load(build / VECTORS, allow_pickle=False)
        note_vectors = np.load(build / FOOTNOTE_VECTORS, allow_pickle=False)
        sentence_vectors = np.load(build / SENTENCE_VECTORS, allow_pickle=False)
        owners = np.load(build / SENTENCE_OWNERS, allow_pickle=False)
        token_vectors = np.load(build / TOKEN_VECTORS, allow_pickle=False)
        token_offsets = np.load(build / TOKEN_OFFSETS, allow_pickle=False)
        index = faiss.read_index(str(build / FAISS))
        passage_bm25 = bm25.load(build / BM25_DIR)
        note_bm25 = bm25.load(build / FOOTNOTE_BM25_DIR)
    except (OSError, ValueError, RuntimeError) as exc:
        raise IndexCorrupt(f"index at {folder} cannot be read ({exc}); {REBUILD}") from None
    if (
        index.ntotal != len(passages)
        or len(vectors) != len(passages)
        or len(sentence_vectors) != len(owners)
        or len(token_offsets) != len(owners) + 1
        or int(token_offsets[-1]) != len(token_vectors)
        or (len(owners) and int(owners.max()) >= len(passages))
    ):
        raise IndexCorrupt(f"index at {folder} has mismatched passage counts; {REBUILD}")

    keys = tuple((d.id, f.number) for d in documents for f in d.footnotes)
    citing: dict[FootnoteKey, list[int]] = {k: [] for k in keys}
    for i, p in enumerate(passages):
        for ref in p.footnotes:
            citing.setdefault((p.document.id, ref.number), []).append(i)
    return IndexHandle(
        path=build,
        manifest=manifest,
        documents={d.id: d for d in documents},
        passages=passages,
        vectors=vectors,
        faiss_index=index,
        bm25=passage_bm25,
        footnote_keys=keys,
        footnote_vectors=note_vectors,
        footnote_bm25=note_bm25,
        sentence_vectors=sentence_vectors,
        sentence_owners=owners,
        token_vectors=token_vectors,
        token_offsets=token_offsets,
        by_id={p.id: i for i, p in enumerate(passages)},
        citing={k: tuple(v) for k, v in citing.items()},
    )
