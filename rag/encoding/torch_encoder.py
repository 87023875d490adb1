"""The ``torch`` backend: sentence-transformers over a local model folder; torch loads on
first use, never at import."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rag.encoding.model_dir import check_model_dir, model_name, weights_sha256
from rag.encoding.protocol import Progress
from rag.errors import ModelError

if TYPE_CHECKING:
    import numpy as np
    from sentence_transformers import SentenceTransformer


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

        from rag.encoding.content import content_positions

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
