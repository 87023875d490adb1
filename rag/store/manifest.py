"""``manifest.json``: what an index was built from, checked every time it is loaded."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from rag.chunking.passages import ChunkParams
from rag.encoding.model_dir import weights_sha256
from rag.encoding.protocol import Encoder
from rag.errors import IndexCorrupt, IndexMissing, IndexStale
from rag.fileio import file_sha256
from rag.store.bm25 import BM25_PARAMS, BM25Params
from rag.store.vectors import DenseIndexInfo, FootnoteIndexInfo, SentenceIndexInfo

# 3: `sentences.json` added, `vectors.npy` dropped (the FAISS file holds those vectors).
# 4: token vectors stored as int8 (rag.store.late.quantize); the dense index described by
#    `dense_index` (flat, or HNSW above a size, with its parameters).
# 5: `sentences.faiss` replaces `sentence_vectors.npy` and `footnotes.faiss` replaces
#    `footnote_vectors.npy` (flat, or HNSW above a size, with their parameters in
#    `sentence_index` and `footnote_index`).
# 6: graphs hold 8-bit codes (`IndexHNSWSQ`); the float vectors are stored beside them
#    (`passage_vectors.npy`, `sentence_vectors.npy`, `footnote_vectors.npy`) for exact
#    cosines and exports.
SCHEMA_VERSION = 6
MANIFEST = "manifest.json"
REBUILD = "run `rag index` to rebuild it"


class SourceInfo(BaseModel):
    id: str
    title: str
    source: str
    path: str
    sha256: str
    format: str


class ModelInfo(BaseModel):
    id: str
    path: str
    weights_sha256: str
    dimension: int
    normalized: bool = True
    backend: str  # the encoder that computed the vectors: torch, onnx
    vectors_sha256: str  # what computed them: the weights, or the exported float32 file
    # The encoder the index was built to be searched with (RAG_ENCODER; what `auto` picks
    # on load): onnx-int8 searches float32 vectors with int8 questions. None (indexes built
    # before the pairing existed): the same as `backend`.
    query_backend: str | None = None
    query_vectors_sha256: str | None = None

    @property
    def searched_with(self) -> str:
        return self.query_backend or self.backend


class Counts(BaseModel):
    documents: int
    sections: int
    footnotes: int
    passages: int
    tokens: int
    pages: int = 0  # PDF pages read (text and Markdown briefs have none)


class EmbeddingReuse(BaseModel):
    """Texts of one kind this build embedded, and those it took from the last build's cache."""

    embedded: int
    reused: int


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    package_version: str
    created_at: str
    documents: list[SourceInfo]
    model: ModelInfo
    chunking: ChunkParams
    dense_index: DenseIndexInfo
    sentence_index: SentenceIndexInfo
    footnote_index: FootnoteIndexInfo
    metric: str = "inner_product over L2-normalised vectors"
    token_dtype: str = "int8, per-row scale implied by unit length"
    bm25: BM25Params
    counts: Counts
    build_seconds: float
    parse_seconds: float = 0.0  # reading and parsing the briefs, part of build_seconds
    warnings: list[str] = []
    # How ambiguous briefs were read ("brief.md: the first heading ... was read as ..."),
    # each naming its file like a warning.
    notes: list[str] = []
    artifacts: dict[str, str]
    # passages, sentences, tokens, footnotes (rag.store.embedding_cache); empty before caching
    embedding: dict[str, EmbeddingReuse] = {}


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


def check_fresh(
    manifest: Manifest, *, model_path: str, params: ChunkParams, encoder: Encoder | None = None
) -> None:
    """Raise :class:`IndexStale` when sources, model, encoder, chunking or BM25 differ from
    the build."""
    for src in manifest.documents:
        path = Path(src.path)
        if path.is_file() and file_sha256(path) != src.sha256:
            raise IndexStale(f"{path} changed since the index was built; {REBUILD}")
    if params != manifest.chunking:
        raise IndexStale(
            f"index was built with {manifest.chunking.model_dump()} but the settings ask for "
            f"{params.model_dump()}; {REBUILD}"
        )
    if manifest.bm25 != BM25_PARAMS:
        raise IndexStale(
            f"index was built with BM25 {manifest.bm25.model_dump()}, this version uses "
            f"{BM25_PARAMS.model_dump()}; {REBUILD}"
        )
    model_dir = Path(model_path).expanduser()
    if model_dir.is_dir() and weights_sha256(model_dir) != manifest.model.weights_sha256:
        raise IndexStale(
            f"index was built with model {manifest.model.id} "
            f"({manifest.model.weights_sha256[:12]}…), not the configured {model_path}; {REBUILD}"
        )
    if encoder is not None:
        check_encoder(manifest.model, encoder)


def check_encoder(built: ModelInfo, encoder: Encoder) -> None:
    """An index is searched by the encoder that computed its vectors, or by one that
    declares it searches exactly those vectors (int8 questions over the float32 export they
    were quantised from); anything else is refused, since the vectors differ."""
    own = (encoder.backend, encoder.vectors_sha256)
    pairs_with = (encoder.index_backend, encoder.index_vectors_sha256)
    if (built.backend, built.vectors_sha256) in (own, pairs_with):
        return
    raise IndexStale(
        f"index vectors were computed by the {built.backend} encoder "
        f"({built.vectors_sha256[:12]}…), but the configured one is {encoder.backend}, which "
        f"searches {encoder.index_backend} vectors ({encoder.index_vectors_sha256[:12]}…); "
        f"{REBUILD}, or set RAG_ENCODER={built.searched_with}"
    )
