"""``manifest.json``: what an index was built from, checked every time it is loaded."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import BaseModel, ConfigDict

SCHEMA_VERSION = 2
MANIFEST = "manifest.json"


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


class ChunkInfo(BaseModel):
    tokenizer: str
    max_tokens: int
    overlap_sentences: int


class Counts(BaseModel):
    documents: int
    sections: int
    footnotes: int
    passages: int
    tokens: int
    pages: int = 0  # PDF pages read (text and Markdown briefs have none)


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    package_version: str
    created_at: str
    documents: list[SourceInfo]
    model: ModelInfo
    chunking: ChunkInfo
    index_type: str = "faiss.IndexFlatIP"
    metric: str = "inner_product over L2-normalised vectors"
    bm25: dict[str, str | float]
    counts: Counts
    build_seconds: float
    parse_seconds: float = 0.0  # reading and parsing the briefs, part of build_seconds
    warnings: list[str] = []
    artifacts: dict[str, str]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
