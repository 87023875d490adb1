"""Shared fixtures: a deterministic fake encoder for fast unit tests, and one real index
(real model, real FAISS) per session for the tests of what users see."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from rag.chunking.passages import ChunkParams
from rag.config import Settings, bundled_brief
from rag.parsing import parse_file

DIM = 64


class FakeEncoder:
    """Hashing bag-of-words: similar wording → similar vectors, deterministic, no torch."""

    model_id = "fake-hash-64"
    backend = "fake"
    index_backend = "fake"
    weights_sha256 = "0" * 64
    vectors_sha256 = "0" * 64
    index_vectors_sha256 = "0" * 64
    dimension = DIM

    def __init__(self, fail_after: int | None = None) -> None:
        self.fail_after = fail_after
        self.calls = 0

    def encode(self, texts: Sequence[str], *, batch_size: int = 32, progress=None) -> np.ndarray:
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise RuntimeError("simulated crash while embedding")
        rows = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                h = int(hashlib.md5(word.encode()).hexdigest(), 16)
                rows[i, h % DIM] += 1.0 if (h >> 8) % 2 else -1.0
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        if progress:
            progress(len(texts))
        return rows / norms

    def encode_tokens(self, texts: Sequence[str], *, batch_size: int = 32) -> list[np.ndarray]:
        return [self.encode(re.findall(r"\w+", t) or [t]) for t in texts]

    def encode_with_tokens(self, texts: Sequence[str], *, batch_size: int = 32):
        return self.encode(texts), self.encode_tokens(texts)


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the developer's real index or RAG_* environment."""
    import os

    for key in list(os.environ):
        if key.startswith("RAG_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture(scope="session")
def brief_path() -> Path:
    return bundled_brief()


@pytest.fixture(scope="session")
def brief(brief_path: Path):
    return parse_file(brief_path)


@pytest.fixture(scope="session")
def real_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One index of the bundled brief built with the real model, shared read-only."""
    from rag.engine import build

    folder = tmp_path_factory.mktemp("real-index") / "index"
    build(Settings(index_dir=folder))
    return folder


@pytest.fixture(scope="session")
def real_engine(real_index_dir: Path):
    from rag.engine import open_engine

    return open_engine(Settings(index_dir=real_index_dir), auto_build=False)


def dense_params(**changes: object):
    """The dense-index parameters the settings ask for (their defaults unless changed)."""
    from rag.store.vectors import DenseIndexParams

    return DenseIndexParams.from_settings(Settings(model="/nonexistent", **changes))


def chunk_params(**changes: object) -> ChunkParams:
    """The chunking the settings ask for (their defaults unless changed): ChunkParams has no
    defaults of its own."""
    return ChunkParams.from_settings(Settings(model="/nonexistent", **changes))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say it aloud when the browser tests did not run: a quiet "2 skipped" hid that the
    chat page and the API docs were never tried in a browser."""
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if "browser" in getattr(report, "keywords", {})
    ]
    if skipped:
        terminalreporter.write_line(
            f"NOTE: {len(skipped)} browser test(s) skipped: Chromium is not installed. "
            "Install it with `sudo apt-get install -y chromium` (Debian's package) to run "
            "them; CI always does.",
            yellow=True,
            bold=True,
        )
