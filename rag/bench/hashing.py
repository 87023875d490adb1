"""A stand-in encoder of the real model's dimension for scale measurements.

Embedding 100k passages with all-MiniLM-L6-v2 on two CPU cores takes hours, yet the index's
size, its build time (outside the model), the memory it needs and every retrieval leg after
encoding depend only on how many vectors there are and their dimension. This encoder gives
each word a fixed random unit vector (from a seeded table) as its "token vector" and the
normalised mean as the pooled vector: deterministic, fast, 384-dimensional, and similar
wording still gives similar vectors, so the legs rank sensibly.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

_WORD = re.compile(r"\w+")
_TABLE_ROWS = 1 << 14


class HashEncoder:
    """Random unit vectors per word, 384-dimensional by default; no model, no torch."""

    weights_sha256 = "0" * 64
    # The Encoder protocol's build record: the manifest names what computed the vectors, and
    # the index they are searched with is this encoder's own (main's protocol asks for both).
    backend = "hash"
    vectors_sha256 = "0" * 64
    index_backend = "hash"
    index_vectors_sha256 = "0" * 64

    def __init__(self, dimension: int = 384, seed: int = 0) -> None:
        import numpy as np

        self.model_id = f"hash-{dimension}"
        self._dimension = dimension
        table = np.random.default_rng(seed).standard_normal((_TABLE_ROWS, dimension))
        table /= np.linalg.norm(table, axis=1, keepdims=True)
        self._table = table.astype(np.float32)

    @property
    def dimension(self) -> int:
        return self._dimension

    def _rows(self, text: str) -> np.ndarray:
        import numpy as np

        from rag.encoding.content import keep_token

        words = [w for w in _WORD.findall(text.lower()) if keep_token(w)] or [text or " "]
        ids = np.fromiter((zlib.crc32(w.encode()) % _TABLE_ROWS for w in words), np.int64)
        rows: np.ndarray = self._table[ids]
        return rows

    def _pool(self, rows: np.ndarray) -> np.ndarray:
        import numpy as np

        mean = rows.mean(axis=0)
        norm = float(np.linalg.norm(mean)) or 1.0
        pooled: np.ndarray = mean / norm
        return pooled

    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 32,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        import numpy as np

        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self._pool(self._rows(text))
        if progress:
            progress(len(texts))
        return out

    def encode_tokens(self, texts: Sequence[str], *, batch_size: int = 32) -> list[np.ndarray]:
        return [self._rows(t) for t in texts]

    def encode_with_tokens(
        self, texts: Sequence[str], *, batch_size: int = 32
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        return self.encode(texts), self.encode_tokens(texts)
