"""An embedding cache beside an index, so a rebuild embeds only the text that changed.

Every text a build embeds (a passage's representation, a sentence, a footnote, and the
token vectors of a bare sentence) is keyed by the sha256 of its kind and its exact text.
Token vectors are kept as the index keeps them, int8 (a quarter of the bytes; lossless for
the index), and the sentence spans the build found are kept too (:class:`~rag.chunking.
sentences.SpanMemo`), so ``--add`` neither embeds nor splits the briefs it has seen.
The cache file is named for the encoder that computed the vectors (its backend and the
sha256 of what computes them: the weights, or the exported ONNX file), so vectors of
another model or backend are never mixed in. After a build is published the cache is
rewritten with exactly what that build used (it never grows past one build's vectors),
atomically, as a NumPy ``.npz`` of plain arrays (read with ``allow_pickle=False``).

A missing, damaged or foreign cache file is ignored: the build embeds everything, as
without a cache.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.encoding.protocol import EncoderWrapper

if TYPE_CHECKING:
    import numpy as np

    from rag.chunking.sentences import SpanMemo
    from rag.encoding.protocol import Encoder, Progress


def _key(kind: str, text: str) -> str:
    return hashlib.sha256(f"{kind}\x00{text}".encode()).hexdigest()


@dataclass
class Reuse:
    """How many texts of one kind were embedded, and how many came from the cache."""

    embedded: int = 0
    reused: int = 0


class EmbeddingCache:
    """The cache for one encoder, in ``folder`` (made on save)."""

    def __init__(self, folder: Path, encoder: Encoder) -> None:
        self.path = folder / f"{encoder.backend}-{encoder.vectors_sha256[:24]}.npz"
        self._pooled: dict[str, np.ndarray] = {}
        self._tokens: dict[str, np.ndarray] = {}
        self._used_pooled: dict[str, np.ndarray] = {}
        self._used_tokens: dict[str, np.ndarray] = {}
        # What this build encoded, by text (pooled rows of every kind, token rows apart).
        self._fresh_pooled: dict[str, np.ndarray] = {}
        self._fresh_tokens: dict[str, np.ndarray] = {}
        self.reuse: dict[str, Reuse] = {}
        self._spans: dict[str, list[tuple[int, int]]] = {}
        self.memo: SpanMemo | None = None

    @classmethod
    def beside(cls, index: Path, encoder: Encoder) -> EmbeddingCache:
        """The cache of the index published at ``index`` (a folder next to it)."""
        cache = cls(index.parent / f".{index.name}.embeddings", encoder)
        cache.load()
        return cache

    def load(self) -> None:
        import numpy as np

        try:
            with np.load(self.path, allow_pickle=False) as data:
                pooled_keys, pooled = data["pooled_keys"], data["pooled"]
                token_keys, rows, offsets = (
                    data["token_keys"],
                    data["token_rows"],
                    data["token_offsets"],
                )
        except (OSError, KeyError, ValueError):
            return  # none yet, or unusable: embed everything
        if len(pooled_keys) != len(pooled) or len(offsets) != len(token_keys) + 1:
            return
        self._pooled = {str(k): pooled[i] for i, k in enumerate(pooled_keys)}
        self._tokens = {str(k): rows[offsets[i] : offsets[i + 1]] for i, k in enumerate(token_keys)}
        self._spans = _read_spans(self.path)

    def span_memo(self, version: str) -> SpanMemo:
        """The sentence spans the last build found (:class:`~rag.chunking.sentences.
        SpanMemo`), for this build to reuse; what it uses is saved with the vectors."""
        from rag.chunking.sentences import SpanMemo

        self.memo = SpanMemo(self._spans, version)
        return self.memo

    def wrap(self, encoder: Encoder) -> CachingEncoder:
        return CachingEncoder(encoder, self)

    def _lookup(
        self,
        kind: str,
        texts: Sequence[str],
        store: dict[str, Any],
        used: dict[str, Any],
        encode: Callable[[list[str]], Any],
        fresh: dict[str, Any],
    ) -> tuple[list[Any], int]:
        """Each text's vectors from ``store``, encoding (with ``encode``) only those not in
        it, in their order, and each distinct text once: ``fresh`` holds what this build
        has encoded so far by text, so a text repeated in ``texts``, or met before in
        another kind the same encoder computes (a one-sentence passage's sentence probe is
        its passage's text), takes the row already computed (the float32 rows do not depend
        on their batch, so this is the row it would have had). What was used is kept for
        :meth:`save`; counted in :attr:`reuse` (a text found in ``fresh`` counts as
        embedded: this build computed it). Returns the rows and how many texts were not
        encoded now."""
        keys = [_key(kind, t) for t in texts]
        rows = [store.get(k) for k in keys]
        missing = [i for i, row in enumerate(rows) if row is None]
        reuse = self.reuse.setdefault(kind, Reuse())
        reuse.embedded += len(missing)
        reuse.reused += len(keys) - len(missing)
        todo = list(dict.fromkeys(texts[i] for i in missing if texts[i] not in fresh))
        if todo:
            fresh.update(zip(todo, encode(todo), strict=True))
        for i in missing:
            rows[i] = store[keys[i]] = fresh[texts[i]]
        used.update(zip(keys, rows, strict=True))
        return rows, len(keys) - len(todo)

    def pooled(
        self,
        kind: str,
        texts: Sequence[str],
        encode: Callable[[Sequence[str], Progress | None], np.ndarray],
        progress: Progress | None,
    ) -> np.ndarray:
        """Pooled vectors of ``texts``, one row each."""
        import numpy as np

        rows, skipped = self._lookup(
            kind,
            texts,
            self._pooled,
            self._used_pooled,
            lambda todo: encode(todo, progress),
            self._fresh_pooled,
        )
        if progress is not None and skipped:
            progress(skipped)  # the encoder reported the rest as it went
        if not rows:
            return np.zeros((0, 0), dtype=np.float32)
        return np.ascontiguousarray(np.stack(rows), dtype=np.float32)

    def token_vectors(
        self, texts: Sequence[str], encode: Callable[[Sequence[str]], list[np.ndarray]]
    ) -> list[np.ndarray]:
        """Per text, its content tokens' vectors."""
        from rag.store.late import dequantize

        rows, _ = self._lookup(
            "tokens", texts, self._tokens, self._used_tokens, encode, self._fresh_tokens
        )
        return [dequantize(r) for r in rows]  # int8 rows read from the file: unit floats

    def save(self) -> None:
        """Keep exactly what the last build used; written to a temporary file, then renamed."""
        import numpy as np

        self.path.parent.mkdir(parents=True, exist_ok=True)
        pooled_keys = list(self._used_pooled)
        token_keys = list(self._used_tokens)
        groups = [self._used_tokens[k] for k in token_keys]
        dim = next((len(v) for v in self._used_pooled.values()), 0)
        offsets = np.zeros(len(groups) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(g) for g in groups])
        rows = _int8_rows(groups, dim)
        pooled = (
            np.stack([self._used_pooled[k] for k in pooled_keys])
            if pooled_keys
            else np.zeros((0, dim), dtype=np.float32)
        )
        used_spans = self.memo.used if self.memo is not None else {}
        span_groups = list(used_spans.values())
        span_offsets = np.zeros(len(span_groups) + 1, dtype=np.int64)
        span_offsets[1:] = np.cumsum([len(g) for g in span_groups])
        span_pairs = np.array([p for g in span_groups for p in g], dtype=np.int64).reshape(-1, 2)
        fd, tmp = tempfile.mkstemp(prefix=".cache-", suffix=".npz", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(
                    fh,
                    pooled_keys=np.array(pooled_keys, dtype="<U64"),
                    pooled=pooled.astype(np.float32),
                    token_keys=np.array(token_keys, dtype="<U64"),
                    token_rows=rows,
                    token_offsets=offsets,
                    span_keys=np.array(list(used_spans), dtype="<U64"),
                    span_offsets=span_offsets,
                    span_pairs=span_pairs,
                )
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        # Caches of other encoders (another model or backend) are no one's any more.
        for other in self.path.parent.glob("*.npz"):
            if other != self.path:
                other.unlink(missing_ok=True)


def _int8_rows(groups: Sequence[np.ndarray], dim: int, chunk: int = 4096) -> np.ndarray:
    """Token rows as the index stores them (int8, :func:`rag.store.late.quantize`), a
    quarter of float32's bytes and lossless for the index: a row read back goes through
    :func:`~rag.store.late.dequantize`, and quantising that gives the same codes (its
    largest component is ±127 already). Rows read from the file come in as int8 codes and
    are kept as they are (quantising a code row as floats gives it back)."""
    import numpy as np

    from rag.store.late import quantize

    parts = [
        quantize(np.vstack(groups[at : at + chunk]).astype(np.float32))
        for at in range(0, len(groups), chunk)
    ]
    return np.vstack(parts) if parts else np.zeros((0, dim), dtype=np.int8)


def _read_spans(path: Path) -> dict[str, list[tuple[int, int]]]:
    """The sentence spans kept in the cache file (none in one written before they were)."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as data:
            keys, offsets, pairs = data["span_keys"], data["span_offsets"], data["span_pairs"]
    except (OSError, KeyError, ValueError):
        return {}
    if len(offsets) != len(keys) + 1 or (len(pairs) and pairs.shape[1:] != (2,)):
        return {}
    spans = [(int(a), int(b)) for a, b in pairs.tolist()]
    return {str(k): spans[offsets[i] : offsets[i + 1]] for i, k in enumerate(keys)}


class CachingEncoder(EncoderWrapper):
    """``inner`` with its build-time calls answered from the cache where the text is known.

    ``kind`` names what a batch of texts is (passages, sentences, footnotes), so the build
    can report what it embedded and what it reused for each.
    """

    def __init__(self, inner: Encoder, cache: EmbeddingCache) -> None:
        super().__init__(inner)
        self.cache = cache

    def encode_kind(
        self,
        kind: str,
        texts: Sequence[str],
        *,
        batch_size: int = 32,
        progress: Progress | None = None,
    ) -> np.ndarray:
        def encode(missing: Sequence[str], progress: Progress | None) -> np.ndarray:
            return self.inner.encode(missing, batch_size=batch_size, progress=progress)

        return self.cache.pooled(kind, texts, encode, progress)

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 32, progress: Progress | None = None
    ) -> np.ndarray:
        return self.encode_kind("texts", texts, batch_size=batch_size, progress=progress)

    def encode_tokens(self, texts: Sequence[str], *, batch_size: int = 32) -> list[np.ndarray]:
        def encode(missing: Sequence[str]) -> list[np.ndarray]:
            return self.inner.encode_tokens(missing, batch_size=batch_size)

        return self.cache.token_vectors(texts, encode)

    def encode_with_tokens(
        self, texts: Sequence[str], *, batch_size: int = 32
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        return self.encode(texts, batch_size=batch_size), self.encode_tokens(texts)
