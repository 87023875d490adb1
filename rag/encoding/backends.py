"""Encoder backends registered by name (``RAG_ENCODER``): ``onnx-int8`` (questions encoded
by an int8 quantisation of the model exported to ONNX, the briefs by the float32 export —
no torch at serving time), ``onnx`` (the float32 export for both) and ``torch``
(sentence-transformers). ``auto`` picks the first of :data:`AUTO_ORDER` that is installed —
or, for an existing index, the backend it was built for, since vectors of different backends
differ.
"""

from __future__ import annotations

from pathlib import Path

from rag.encoding.protocol import Encoder
from rag.encoding.torch_encoder import SentenceTransformerEncoder
from rag.errors import ModelError

BACKENDS = ("onnx-int8", "onnx", "torch")
# What `auto` picks for a new index: the fastest backend that keeps retrieval quality within
# 0.01 of torch on every eval set (measured: docs/performance.md, "Encoders"; a test keeps
# it so). int8 questions over float32 briefs do; int8 on both sides did not with the first
# recipe.
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
        from rag.encoding.onnx_encoder import OnnxEncoder

        if cache_dir is None:
            raise ModelError("the ONNX encoders need a cache folder (RAG_MODEL_CACHE)")
        int8 = backend == "onnx-int8"
        return OnnxEncoder(model, cache_dir=cache_dir, threads=threads or 1, int8=int8)
    return SentenceTransformerEncoder(model, device=device, threads=threads)
