"""Encoder backends: the ONNX export matches torch, is cached with a checksum, is recorded in
the manifest, and an index is never queried with another backend's vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings, default_model_path
from rag.encoder import AUTO_ORDER, load_encoder, resolve_backend
from rag.errors import IndexStale

pytestmark = pytest.mark.model

TEXTS = [
    "How did Pakistan help end the Cold War?",
    "Pakistan helped the U.S. reverse the Soviet invasion of Afghanistan.",
    "the of and",  # only stopwords: still one token vector
]


@pytest.fixture(scope="module")
def torch_encoder():
    return load_encoder(default_model_path(), backend="torch")


@pytest.mark.parametrize(("backend", "floor"), [("onnx", 0.9999), ("onnx-int8", 0.98)])
def test_onnx_vectors_match_torch(torch_encoder, backend: str, floor: float) -> None:
    onnx = load_encoder(default_model_path(), backend=backend, cache_dir=Settings().model_cache)
    pooled, tokens = onnx.encode_with_tokens(TEXTS)
    want_pooled, want_tokens = torch_encoder.encode_with_tokens(TEXTS)
    assert pooled.dtype == np.float32 and pooled.shape == want_pooled.shape == (3, 384)
    assert np.allclose(np.linalg.norm(pooled, axis=1), 1.0, atol=1e-5)
    assert (pooled * want_pooled).sum(axis=1).min() > floor
    for got, want in zip(tokens, want_tokens, strict=True):
        assert got.shape == want.shape  # the same content tokens kept
        assert (got * want).sum(axis=1).min() > floor - 0.05


def test_the_export_is_cached_with_a_checksum_and_redone_when_damaged(tmp_path: Path) -> None:
    from rag.onnx_export import exported_model

    model = Path(default_model_path())
    first = exported_model(model, tmp_path, "fp32")
    assert first.path.is_file() and first.path.parent.parent == tmp_path
    assert exported_model(model, tmp_path, "fp32") == first  # cached: no second export
    with open(first.path, "r+b") as fh:  # a flipped byte in the cache
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    again = exported_model(model, tmp_path, "fp32")
    assert again == first  # exported again, to the same bytes
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == [
        first.path.parent.name
    ]


def test_the_manifest_names_the_backend_and_a_mismatch_is_refused(real_index_dir: Path) -> None:
    from rag.engine import open_engine

    settings = Settings(index_dir=real_index_dir)
    engine = open_engine(settings, auto_build=False)
    built = engine.snapshot().handle.manifest.model
    assert built.backend == engine.encoder.backend == resolve_backend("auto")
    assert built.vectors_sha256 == engine.encoder.vectors_sha256
    other = next(b for b in ("torch", "onnx") if b != built.backend)
    with pytest.raises(IndexStale, match=f"RAG_ENCODER={built.backend}"):
        open_engine(settings.model_copy(update={"encoder": other}), auto_build=False)


def test_auto_keeps_an_index_on_the_backend_it_was_built_with() -> None:
    assert resolve_backend("auto", built_with="torch") == "torch"
    assert resolve_backend("auto", built_with="onnx-int8") == "onnx-int8"
    assert resolve_backend("auto") == AUTO_ORDER[0]
    assert resolve_backend("torch", built_with="onnx") == "torch"  # explicit wins (and is checked)


def test_the_default_backend_keeps_retrieval_quality(
    real_index_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The default encoder must score within 0.01 of torch on every eval set (recall@1,
    recall@5, MRR@10, every retriever) — the rule that keeps int8 out of the default."""
    from rag.engine import build, open_engine
    from rag.evaluation.dataset import load_footnote_questions, load_qa
    from rag.evaluation.runner import RETRIEVERS, run

    torch_dir = tmp_path_factory.mktemp("torch-index") / "index"
    build(Settings(index_dir=torch_dir, encoder="torch"))

    def scores(index_dir: Path) -> dict[tuple[str, str, str], float]:
        cfg = Settings(index_dir=index_dir)
        engine = open_engine(cfg, auto_build=False)
        notes = load_footnote_questions(cfg.eval_dir / "footnotes.jsonl")
        out = {}
        for name in ("qa", "heldout"):
            path = cfg.eval_dir / f"{name}.jsonl"
            for retriever, report in run(engine.retriever, load_qa(path), path, notes).items():
                for metric in ("recall@1", "recall@5", "mrr@10", "footnote_accuracy@5"):
                    out[(name, retriever, metric)] = report.metrics[metric] or 0.0
        return out

    default, reference = scores(real_index_dir), scores(torch_dir)
    assert set(RETRIEVERS) == {key[1] for key in default}
    worst = {key: reference[key] - default[key] for key in reference}
    assert max(worst.values()) <= 0.01, sorted(worst.items(), key=lambda kv: -kv[1])[:3]
