"""The one interface every encoder has: a batch of texts in, unit-length float32 rows out
(and, for late interaction, the content tokens' vectors).

An encoder names the encoder whose vectors an index must hold for it to search
(``index_backend``, ``index_vectors_sha256``): itself, except ``onnx-int8``, whose questions
search the float32 export's vectors. The builder embeds with that encoder and the manifest
records both, so the pairing is explicit and checked on every load (rag.store.manifest).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

Progress = Callable[[int], None]


@runtime_checkable
class Encoder(Protocol):
    model_id: str
    backend: str  # the registry name, recorded in the index manifest
    index_backend: str  # the backend whose vectors an index searched with this one holds

    @property
    def vectors_sha256(self) -> str:
        """sha256 of what computes the vectors (weights, or the exported model file): an
        index is only queried with the encoder that built it."""
        ...

    @property
    def index_vectors_sha256(self) -> str:
        """``vectors_sha256`` of the encoder that embeds an index for this one (its own,
        unless questions and briefs are encoded differently on purpose)."""
        ...

    @property
    def dimension(self) -> int: ...

    @property
    def weights_sha256(self) -> str: ...

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 32, progress: Progress | None = None
    ) -> np.ndarray:
        """Return an array of shape (len(texts), dimension), float32, L2-normalised rows."""
        ...

    def encode_tokens(self, texts: Sequence[str], *, batch_size: int = 32) -> list[np.ndarray]:
        """Per text, the unit-length contextual vectors of its content tokens (no special
        tokens, punctuation or stopwords), for late-interaction (MaxSim) scoring."""
        ...

    def encode_with_tokens(
        self, texts: Sequence[str], *, batch_size: int = 32
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Both of the above from one forward pass (what a query needs)."""
        ...


class EncoderWrapper:
    """Base of encoders that wrap another (micro-batching, the build's embedding cache):
    the name, backends, dimension and fingerprints are the wrapped encoder's."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.backend = inner.backend
        self.index_backend = inner.index_backend

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def weights_sha256(self) -> str:
        return self.inner.weights_sha256

    @property
    def vectors_sha256(self) -> str:
        return self.inner.vectors_sha256

    @property
    def index_vectors_sha256(self) -> str:
        return self.inner.index_vectors_sha256
