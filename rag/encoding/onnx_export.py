"""Export a local sentence-transformers model to ONNX (float32, and int8), once.

The bundled all-MiniLM-L6-v2 weights ship as safetensors for torch. Serving from ONNX
Runtime is faster on a CPU and needs no torch at all, so the first use exports the
transformer (``torch.onnx``), quantises a copy's matrix multiplications to int8 per channel
(``onnxruntime.quantization``, dynamic int8 activations), and caches both under
``RAG_MODEL_CACHE``, keyed by the source weights' sha256, with an ``export.json`` recording
how they were made and the sha256 of each file. Nothing is downloaded.

The float32 export gives the torch vectors to the last digit (cosine 1.0000 on the eval
questions). The int8 copy is for questions only: an index is embedded with the float32 file
(exact) and searched with int8 question vectors, a pairing the export records (the int8
file's ``quantised_from`` is the float32 file's sha256) and the index manifest checks.
Quantising a question alone moves it less than quantising both sides: on the eval sets the
int8 question ranked the float32 top passage first 99% of the time, int8 on both sides 97%.

The recipe, chosen by measurement (``scripts/measure_int8.py``, docs/performance.md
"Encoders"): int8 weights per channel on every MatMul with a constant weight, dynamic int8
activations, except the first layer's FFN output projection, which stays float32. Its input
(the GELU output) is the most outlier-heavy activation of the network (max |x| about 170
times the mean on the eval questions, 30–100 elsewhere), so one dynamic scale per call
rounds most of it to zero or one step, and the error enters the residual stream before all
six layers. Keeping that one MatMul (1/18 of the weight FLOPs) in float32 raised the
question cosine to float32 from 0.9936 to 0.9953 (minimum 0.9869 to 0.9918) at about the
same speed.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.encoding.model_dir import weights_sha256
from rag.errors import ModelError
from rag.fileio import build_lock, file_sha256

# 2: int8 keeps the first layer's FFN output MatMul in float32, and is for questions only.
EXPORT_VERSION = 2
OPSET = 17
FILES = {"fp32": "model.onnx", "int8": "model_int8.onnx"}
EXPORT_RECORD = "export.json"
# The node kept in float32 (BERT-family naming, as torch.onnx exports the wrapper below); a
# model without it is quantised whole, and the record lists what was actually kept.
KEEP_FLOAT = ("/inner/encoder/layer.0/output/dense/MatMul",)
QUANTIZATION = {"weight_type": "QInt8", "per_channel": True, "op_types": ["MatMul"]}


@dataclass(frozen=True)
class ExportedModel:
    path: Path  # the ONNX file
    sha256: str  # of that file: what the index manifest records as the encoder
    # int8 only: the sha256 of the float32 file it was quantised from, whose vectors an
    # index searched with int8 questions holds
    quantised_from: str | None = None


def _folder(model_dir: Path, cache_dir: Path) -> Path:
    return cache_dir / f"{model_dir.name}-{weights_sha256(model_dir)[:16]}-onnx-v{EXPORT_VERSION}"


def _valid(folder: Path, variant: str) -> ExportedModel | None:
    """The cached file, if the export's record is readable and the file matches it."""
    try:
        record = json.loads((folder / EXPORT_RECORD).read_text(encoding="utf-8"))
        path = folder / FILES[variant]
        if record["sha256"][variant] == file_sha256(path):
            source = record["sha256"]["fp32"] if variant == "int8" else None
            return ExportedModel(path, record["sha256"][variant], source)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def _writable_cache(cache_dir: Path) -> Path:
    """``cache_dir``, made if need be; when it cannot be written (a read-only home, common
    in containers), a private folder under the system's temporary folder instead, kept
    between runs so the export is made once there too. A cache path that is a file, or no
    writable place at all, is :class:`ModelError` in one line."""
    if cache_dir.exists() and not cache_dir.is_dir():
        raise ModelError(
            f"the model cache {cache_dir} is a file, not a folder; point RAG_MODEL_CACHE at "
            "a folder (it is made if missing)"
        )
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=cache_dir, prefix=".probe-")  # noqa: SIM115
        probe.close()
        return cache_dir
    except OSError as exc:
        unwritable = exc
    fallback = Path(tempfile.gettempdir()) / f"brief-rag-{os.getuid()}" / "models"
    try:
        fallback.parent.mkdir(mode=0o700, exist_ok=True)  # private, not umask's 0o755
        fallback.mkdir(mode=0o700, exist_ok=True)
        mine = fallback.parent.stat()
        # A shared temporary folder: use it only if it is ours and no one else can write
        # there (else a planted export would be loaded).
        if mine.st_uid != os.getuid() or mine.st_mode & 0o022:
            raise PermissionError(f"{fallback.parent} belongs to someone else")
        return fallback
    except OSError as exc:
        raise ModelError(
            f"cannot write the model cache at {cache_dir} ({unwritable.strerror or unwritable}) "
            f"nor at {fallback} ({exc.strerror or exc}); set RAG_MODEL_CACHE to a writable "
            "folder"
        ) from None


def exported_model(model_dir: Path, cache_dir: Path, variant: str = "fp32") -> ExportedModel:
    """The ONNX model (``fp32`` or ``int8``) for ``model_dir``, exported on first use (a few
    seconds) and cached; a damaged cache entry is exported again."""
    folder = _folder(model_dir, cache_dir)
    found = _valid(folder, variant)
    if found is not None:
        return found
    cache_dir = _writable_cache(cache_dir)
    folder = _folder(model_dir, cache_dir)
    found = _valid(folder, variant)
    if found is not None:
        return found
    with build_lock(folder):  # two processes starting at once export once
        found = _valid(folder, variant)
        if found is not None:
            return found
        work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=cache_dir))
        try:
            record = _export(model_dir, work)
            (work / EXPORT_RECORD).write_text(json.dumps(record, indent=2), encoding="utf-8")
            if folder.exists():
                shutil.rmtree(folder)
            os.replace(work, folder)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    found = _valid(folder, variant)
    if found is None:  # pragma: no cover - only a disk failing under us gets here
        raise ModelError(f"the ONNX export in {folder} cannot be read back")
    return found


def _pooling(model_dir: Path) -> None:
    config = model_dir / "1_Pooling" / "config.json"
    if config.is_file():
        pooling = json.loads(config.read_text(encoding="utf-8"))
        if not pooling.get("pooling_mode_mean_tokens", True) or any(
            pooling.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens")
        ):
            raise ModelError(
                f"{model_dir}: the ONNX encoders do mean pooling only; "
                "set RAG_ENCODER=torch for this model"
            )


def _export(model_dir: Path, work: Path) -> dict[str, Any]:
    _pooling(model_dir)
    if not (model_dir / "tokenizer.json").is_file():
        raise ModelError(
            f"{model_dir}: no tokenizer.json (a fast tokenizer), which the ONNX encoders "
            "need; set RAG_ENCODER=torch for this model"
        )
    try:
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from transformers import AutoModel
    except ImportError as exc:
        raise ModelError(f"cannot export to ONNX ({exc}); set RAG_ENCODER=torch") from None

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]

    class Hidden(torch.nn.Module):
        """The transformer's last hidden state: pooling happens in NumPy, so the same call
        gives the pooled vector and the token vectors."""

        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    sample = torch.ones((2, 8), dtype=torch.long)
    full = work / FILES["fp32"]
    with warnings.catch_warnings():  # the tracer's notes on a one-off export are noise here
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Hidden(model),
            (sample, sample, torch.zeros_like(sample)),
            str(full),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
            opset_version=OPSET,
            dynamo=False,
        )
        kept = _present(full, KEEP_FLOAT)
        quantize_dynamic(
            str(full),
            str(work / FILES["int8"]),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
            nodes_to_exclude=kept,
        )
    return {
        "export_version": EXPORT_VERSION,
        "source": str(model_dir),
        "source_weights_sha256": weights_sha256(model_dir),
        "sha256": {variant: file_sha256(work / name) for variant, name in FILES.items()},
        "opset": OPSET,
        "quantization": {**QUANTIZATION, "kept_float": kept, "quantised_from": "fp32"},
        "torch": torch.__version__,
    }


def _present(model_file: Path, names: tuple[str, ...]) -> list[str]:
    """Those of ``names`` that are nodes of the ONNX graph."""
    import onnx

    graph = onnx.load(str(model_file), load_external_data=False).graph
    nodes = {node.name for node in graph.node}
    return [name for name in names if name in nodes]
