"""Int8 recipes for the ONNX encoder, measured against torch on every eval set.

    python scripts/measure_int8.py --work /tmp/int8                  # every recipe, asymmetric
    python scripts/measure_int8.py --work /tmp/int8 --recipes mm-pc mm-pc-no-ffn --symmetric

Makes each recipe's int8 model from the cached float32 export (``rag.encoding.onnx_export``), then,
for each: the eval (qa.jsonl and heldout.jsonl, each with footnotes.jsonl) for the dense and
hybrid retrievers, the cosine of its question vectors to float32's, the bare latency of one
question and the throughput of batches of 16. Two ways of using a recipe:

- asymmetric (always): the index built with float32 (exact), only the question encoded int8;
- symmetric (``--symmetric``): the index built with the int8 model too.

The reference rows are a torch-built index searched with torch. Prints one JSON object per
row and a Markdown table at the end (what README "Encoders" shows).
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SETS = ("qa", "heldout")
RETRIEVERS = ("hybrid", "dense")
METRICS = ("recall@1", "recall@5", "mrr@10", "footnote_accuracy@5")
LAYERS = range(6)


def _nodes(*parts: str, layers: Sequence[int] = LAYERS) -> list[str]:
    return [f"/inner/encoder/layer.{i}/{part}/MatMul" for i in layers for part in parts]


@dataclass(frozen=True)
class Recipe:
    name: str
    static: bool = False  # QDQ calibrated on the brief's sentences, else dynamic
    weight_type: str = "QInt8"
    per_channel: bool = True
    reduce_range: bool = False
    exclude: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


RECIPES = {
    r.name: r
    for r in (
        Recipe("mm-pc"),  # what onnx_export.py makes today
        Recipe("mm-pc-rr", reduce_range=True),
        Recipe("mm-pc-u8", weight_type="QUInt8"),
        Recipe("mm-pt", per_channel=False),
        Recipe(
            "mm-pc-no-last",
            exclude=tuple(
                _nodes(
                    "attention/self/query",
                    "attention/self/key",
                    "attention/self/value",
                    "attention/output/dense",
                    "intermediate/dense",
                    "output/dense",
                    layers=[5],
                )
            ),
        ),
        Recipe("mm-pc-no-ffn-out", exclude=tuple(_nodes("output/dense"))),
        Recipe("mm-pc-no-attn-out", exclude=tuple(_nodes("attention/output/dense"))),
        Recipe("mm-pc-no-outs", exclude=tuple(_nodes("output/dense", "attention/output/dense"))),
        Recipe("mm-pc-no-ffn-out-45", exclude=tuple(_nodes("output/dense", layers=[4, 5]))),
        Recipe("mm-pc-no-ffn-out-5", exclude=tuple(_nodes("output/dense", layers=[5]))),
        Recipe("mm-pc-no-ffn-out-0", exclude=tuple(_nodes("output/dense", layers=[0]))),
        Recipe("mm-pc-no-ffn-out-01", exclude=tuple(_nodes("output/dense", layers=[0, 1]))),
        Recipe("mm-pc-no-ffn-out-012", exclude=tuple(_nodes("output/dense", layers=[0, 1, 2]))),
        Recipe(
            "mm-pc-no-layer-0",
            exclude=tuple(
                _nodes(
                    "attention/self/query",
                    "attention/self/key",
                    "attention/self/value",
                    "attention/output/dense",
                    "intermediate/dense",
                    "output/dense",
                    layers=[0],
                )
            ),
        ),
        Recipe("static-qdq-pc", static=True),
        Recipe("static-qdq-pc-no-ffn-out", static=True, exclude=tuple(_nodes("output/dense"))),
    )
}


# --------------------------------------------------------------------------- models


def quantize(
    recipe: Recipe, fp32: Path, out: Path, calibration: Sequence[str], model: Path
) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = out / f"{recipe.name}.onnx"
    if target.is_file():
        return target
    common: dict[str, Any] = {
        "per_channel": recipe.per_channel,
        "reduce_range": recipe.reduce_range,
        "weight_type": getattr(QuantType, recipe.weight_type),
        "op_types_to_quantize": ["MatMul"],
        "nodes_to_exclude": list(recipe.exclude),
        "extra_options": dict(recipe.extra),
    }
    if not recipe.static:
        quantize_dynamic(str(fp32), str(target), **common)
        return target
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, quantize_static

    quantize_static(
        str(fp32),
        str(target),
        _Calibration(model, calibration),
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QUInt8,
        calibrate_method=CalibrationMethod.MinMax,
        **common,
    )
    return target


class _Calibration:
    """Feeds the brief's own sentences, 16 at a time, to the calibrator."""

    def __init__(self, model: Path, texts: Sequence[str]) -> None:
        self.batches = iter(list(_feeds(model, texts)))

    def get_next(self) -> dict[str, Any] | None:
        return next(self.batches, None)


def _feeds(model: Path, texts: Sequence[str]) -> Iterator[dict[str, Any]]:
    import numpy as np
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=256)
    tokenizer.enable_padding()
    for i in range(0, len(texts), 16):
        enc = tokenizer.encode_batch(list(texts[i : i + 16]))
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        yield {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def onnx_encoder(model: str, cache: Path, path: Path, backend: str) -> Any:
    """An OnnxEncoder running ``path`` (measurement only: the product resolves its files)."""
    from rag.encoding.onnx_encoder import OnnxEncoder
    from rag.encoding.onnx_export import ExportedModel
    from rag.fileio import file_sha256

    encoder = OnnxEncoder(model, cache_dir=cache, threads=1)
    encoder._exported = ExportedModel(path, file_sha256(path))
    # Its own vectors: an index built with it (symmetric) is embedded by it, too.
    encoder.backend = encoder.index_backend = backend
    return encoder


# --------------------------------------------------------------------------- measuring


Scores = dict[str, float]
Runs = dict[str, list[str]]  # "set/retriever/question id" -> ranked passage ids


def scores(handle: Any, encoder: Any, settings: Any) -> tuple[Scores, Runs]:
    from rag.evaluation.dataset import load_footnote_questions, load_qa
    from rag.evaluation.runner import run
    from rag.retrieval.retriever import RetrievalParams, Retriever

    retriever = Retriever(handle, encoder, RetrievalParams.from_settings(settings))
    notes = load_footnote_questions(settings.eval_dir / "footnotes.jsonl")
    out: Scores = {}
    runs: Runs = {}
    for name in SETS:
        path = settings.eval_dir / f"{name}.jsonl"
        reports = run(retriever, load_qa(path), path, notes, retrievers=RETRIEVERS)
        for retriever_name, report in reports.items():
            for metric in METRICS:
                out[f"{name}/{retriever_name}/{metric}"] = report.metrics[metric] or 0.0
            for qid, ids in report.runs.items():
                runs[f"{name}/{retriever_name}/{qid}"] = ids
    return out, runs


def agreement(runs: Runs, reference: Runs) -> tuple[float, float]:
    """Labels aside: the share of questions whose top passage is float32's, and the mean
    overlap of the top 5 with float32's (both 1.0 for an encoder ranking exactly alike)."""
    top1 = [runs[k][:1] == reference[k][:1] for k in reference]
    top5 = [len(set(runs[k][:5]) & set(reference[k][:5])) / 5 for k in reference]
    return statistics.mean(top1), statistics.mean(top5)


def cosine(encoder: Any, reference: Any, texts: Sequence[str]) -> tuple[float, float]:
    got, want = encoder.encode(texts), reference.encode(texts)
    rows = (got * want).sum(axis=1)
    return float(rows.mean()), float(rows.min())


def latency(encoders: dict[str, Any], texts: Sequence[str], rounds: int = 3) -> dict[str, Any]:
    """``rag bench``'s encoding floor (p50 of one question, batch-16 questions per second),
    each encoder measured ``rounds`` times in turn so a busy spell hits all of them; the
    best round of each is kept (noise only ever slows a run down)."""
    from rag.bench.inprocess import encode_floor

    best: dict[str, tuple[float, float]] = {}
    for _ in range(rounds):
        for name, encoder in encoders.items():
            floor = encode_floor(encoder, texts)
            p50, qps = floor["p50_ms"], floor["batch16_qps"]
            old = best.get(name, (float("inf"), 0.0))
            best[name] = (min(old[0], p50), max(old[1], qps))
    return best


def index_with(settings: Any, encoder: Any, out: Path) -> Any:
    from rag.engine import build
    from rag.store.index import load_index

    if not (out / "manifest.json").is_file():
        build(settings, out=out, encoder=encoder)
    return load_index(out)


def row(
    name: str,
    mode: str,
    result: tuple[Scores, Runs],
    reference: Runs,
    cos: tuple[float, float],
    lat: tuple[float, float],
) -> dict[str, Any]:
    s, runs = result
    return {
        "recipe": name,
        "mode": mode,
        "scores": s,
        "agreement": agreement(runs, reference),
        "cosine": cos,
        "latency": lat,
    }


def worst(s: Scores, reference: Scores) -> tuple[float, str]:
    key = max(reference, key=lambda k: reference[k] - s[k])
    return reference[key] - s[key], key


def table(rows: Sequence[dict[str, Any]], reference: Scores) -> str:
    lines = [
        "| recipe, mode | "
        + " | ".join(f"{s} {r}" for s in SETS for r in RETRIEVERS)
        + " | footnotes fa@5 | worst drop | same top 1 / top-5 overlap | cos mean/min | 1 q ms"
        " | b16 q/s |",
        "|---" * (len(SETS) * len(RETRIEVERS) + 7) + "|",
    ]
    for r in rows:
        s = r["scores"]
        cells = [
            " / ".join(f"{s[f'{n}/{ret}/{m}']:.3f}" for m in METRICS[:3])
            for n in SETS
            for ret in RETRIEVERS
        ]
        notes = " / ".join(f"{s[f'qa/{ret}/footnote_accuracy@5']:.3f}" for ret in RETRIEVERS)
        drop, key = worst(s, reference)
        lines.append(
            f"| {r['recipe']}, {r['mode']} | "
            + " | ".join(cells)
            + f" | {notes} | {drop:+.3f} ({key})"
            f" | {r['agreement'][0]:.3f} / {r['agreement'][1]:.3f}"
            f" | {r['cosine'][0]:.4f} / {r['cosine'][1]:.4f}"
            f" | {r['latency'][0]:.1f} | {r['latency'][1]:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    from rag.config import Settings
    from rag.encoding.backends import load_encoder
    from rag.encoding.onnx_export import exported_model
    from rag.evaluation.dataset import load_footnote_questions, load_qa

    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path, default=Path("/tmp/int8"))
    parser.add_argument("--recipes", nargs="*", default=list(RECIPES))
    parser.add_argument("--symmetric", action="store_true")
    parser.add_argument("--no-latency", action="store_true")
    args = parser.parse_args()
    settings = Settings()
    model = Path(settings.model)
    args.work.mkdir(parents=True, exist_ok=True)
    questions = [i.question for n in SETS for i in load_qa(settings.eval_dir / f"{n}.jsonl")]
    questions += [
        i.question for i in load_footnote_questions(settings.eval_dir / "footnotes.jsonl")
    ]

    torch_enc = load_encoder(settings.model, backend="torch")
    fp32_path = exported_model(model, settings.model_cache, "fp32").path
    fp32 = onnx_encoder(settings.model, settings.model_cache, fp32_path, "onnx")
    torch_handle = index_with(settings, torch_enc, args.work / "idx-torch")
    fp32_handle = index_with(settings, fp32, args.work / "idx-fp32")
    reference, reference_runs = scores(torch_handle, torch_enc, settings)
    fp32_runs = scores(fp32_handle, fp32, settings)
    no_time = (0.0, 0.0)
    rows = [
        row("torch", "reference", (reference, reference_runs), fp32_runs[1], (1.0, 1.0), no_time),
        row("fp32", "onnx", fp32_runs, fp32_runs[1], cosine(fp32, torch_enc, questions), no_time),
    ]
    timed = {"fp32": fp32}
    calibration = list(fp32_handle.sentences)
    for name in args.recipes:
        path = quantize(RECIPES[name], fp32_path, args.work, calibration, model)
        enc = timed[name] = onnx_encoder(settings.model, settings.model_cache, path, name)
        cos = cosine(enc, fp32, questions)
        result = scores(fp32_handle, enc, settings)
        rows.append(row(name, "asymmetric", result, fp32_runs[1], cos, no_time))
        print(json.dumps(rows[-1]), flush=True)
        if args.symmetric:
            handle = index_with(settings, enc, args.work / f"idx-{name}")
            result = scores(handle, enc, settings)
            rows.append(row(name, "symmetric", result, fp32_runs[1], cos, no_time))
            print(json.dumps(rows[-1]), flush=True)
    if not args.no_latency:
        floors = latency(timed, questions)
        for r in rows:
            r["latency"] = floors.get(r["recipe"], no_time)
        print(json.dumps({"latency": floors}), flush=True)
    print(table(rows, reference))


if __name__ == "__main__":
    main()
