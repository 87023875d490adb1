"""Cross-validated fusion: folds partition the questions, cached rankings fuse exactly as
``Retriever.search`` does, and no question is scored with a setting chosen on it."""

from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings
from rag.evaluation import tuning
from rag.evaluation.dataset import load_footnote_questions, load_qa
from rag.evaluation.tuning import MISS, Fusion, Scores, TuningQuestion
from rag.retrieval.retriever import LEGS, RetrievalParams, Retriever
from rag.store.index import build_index, load_index
from tests.conftest import FakeEncoder, chunk_params, dense_params

EVAL = Path(__file__).resolve().parent.parent / "eval"


def question(key: str, source: str, kind: str = "evidence") -> TuningQuestion:
    return TuningQuestion(key, source, f"question {key}?", frozenset({0}), kind)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- folds


@pytest.mark.parametrize(("n_folds", "seed"), [(2, 0), (5, 0), (5, 3), (7, 1)])
def test_folds_partition_the_questions_and_share_every_set(n_folds, seed):
    questions = (
        [question(f"qa{i}", "qa") for i in range(82)]
        + [question(f"h{i}", "heldout") for i in range(30)]
        + [question(f"f{i}", "footnotes", "footnote") for i in range(21)]
    )
    fold = tuning.folds(questions, n_folds, seed)
    assert len(fold) == len(questions) and set(fold) == set(range(n_folds))
    sizes = [fold.count(f) for f in range(n_folds)]
    assert max(sizes) - min(sizes) <= 1  # each question in exactly one fold, folds even
    for source in ("qa", "heldout", "footnotes"):
        members = [f for f, q in zip(fold, questions, strict=True) if q.source == source]
        assert set(members) == set(range(n_folds)), source  # every fold holds every set
    assert tuning.folds(questions, n_folds, seed) == fold  # reproducible
    assert tuning.folds(questions, n_folds, seed + 1) != fold


def test_fold_counts_out_of_range_are_refused():
    questions = [question("a", "qa"), question("b", "qa")]
    with pytest.raises(ValueError, match="at least 2 folds"):
        tuning.folds(questions, 1)
    with pytest.raises(ValueError, match="use fewer folds"):
        tuning.folds(questions, 3)


# --------------------------------------------------------------------------- cross-validation


def test_no_question_is_scored_with_a_setting_chosen_on_it():
    # Setting i ranks question i first and misses every other question: any setting chosen
    # without question i misses it, so out of fold everything is a miss. A leak (scoring a
    # question with a setting chosen on its own fold) would show a hit.
    n = 12
    ranks = np.full((n, n), MISS, dtype=np.int16)
    np.fill_diagonal(ranks, 1)
    fold = [i % 4 for i in range(n)]
    result = tuning.cross_validate(ranks, np.arange(n), fold, np.zeros(n, dtype=int))
    assert result.out_of_fold == [MISS] * n
    for f, chosen in enumerate(result.chosen):
        assert fold[chosen] != f  # picked on the other folds' questions


def test_cross_validation_picks_on_training_folds_only(monkeypatch):
    seen: list[tuple[set[int], np.ndarray]] = []
    real = tuning.best_setting

    def spy(ranks, candidates, columns, cost):
        seen.append(set(columns.tolist()))
        return real(ranks, candidates, columns, cost)

    monkeypatch.setattr(tuning, "best_setting", spy)
    rng = np.random.default_rng(0)
    ranks = rng.integers(1, MISS + 1, size=(6, 20)).astype(np.int16)
    fold = [i % 5 for i in range(20)]
    tuning.cross_validate(ranks, np.arange(6), fold, np.zeros(6, dtype=int))
    assert len(seen) == 5
    for f, columns in enumerate(seen):
        assert columns == {i for i in range(20) if fold[i] != f}


def test_best_setting_order_mrr_then_recall_then_fewer_legs():
    ranks = np.array(
        [
            [1, 3, MISS],  # MRR (1 + 1/3) / 3
            [3, 3, 3],  # MRR 1/3: lower, though recall@5 is higher
            [1, MISS, 3],  # same MRR as row 0, same recall@5, fewer legs below
        ],
        dtype=np.int16,
    )
    everything = np.arange(3)
    assert tuning.best_setting(ranks, np.arange(3), everything, np.array([3, 1, 2])) == 2
    assert tuning.best_setting(ranks, np.arange(3), everything, np.array([1, 1, 2])) == 0
    assert tuning.best_setting(ranks, np.array([1]), everything, np.zeros(3, dtype=int)) == 1


def test_scores_from_first_relevant_ranks():
    s = Scores.of([1, 2, MISS, 6, 4], ["evidence", "evidence", "evidence", "footnote", "footnote"])
    assert s.recall_at_1 == pytest.approx(1 / 3, abs=1e-4)
    assert s.recall_at_5 == pytest.approx(2 / 3, abs=1e-4)
    assert s.mrr_at_10 == pytest.approx(0.5, abs=1e-4)
    assert s.footnote_accuracy_at_5 == 0.5
    assert s.pooled_mrr_at_10 == pytest.approx((1 + 0.5 + 1 / 6 + 0.25) / 5, abs=1e-4)


# --------------------------------------------------------------------------- grids, settings


def test_grids_hold_each_setting_once_and_every_leg_subset():
    settings = tuning.SUBSETS.settings()
    assert len(settings) == len(set(settings))
    assert all(any(f.weights) for f in settings)
    # Margins only vary when the footnote leg is on: 15 subsets without it, 16 x 4 with it.
    assert len(settings) == len(tuning.SUBSETS.rrf_k) * (15 + 16 * 4)
    assert {f.legs for f in settings} == {
        tuple(n for n, on in zip(LEGS, mask, strict=True) if on)
        for mask in np.ndindex(*(2,) * len(LEGS))
        if any(mask)
    }


def test_fusion_reads_and_writes_the_settings_fields():
    params = RetrievalParams.from_settings(Settings(model="/nonexistent"))
    assert Fusion.of(params).params(params) == params
    dense = Fusion.of(params, "dense")
    assert dense.weights[3:] == (0.0, 0.0) and dense.weights[:3] == (
        params.dense_weight,
        params.sentence_weight,
        params.token_weight,
    )
    assert Fusion.of(params, "bm25").legs == ("bm25",)


# --------------------------------------------------------------------------- exactness


@pytest.fixture(scope="module")
def fake_setup(tmp_path_factory, brief_path):
    out = tmp_path_factory.mktemp("tuning") / "idx"
    encoder = FakeEncoder()
    build_index(
        [brief_path],
        out,
        encoder,
        chunk_params(),
        model_path="/nonexistent",
        dense=dense_params(),
    )
    handle = load_index(out)
    params = RetrievalParams.from_settings(Settings(model="/nonexistent"))
    retriever = Retriever(handle, encoder, params)
    questions = tuning.evidence_questions(
        handle, "qa", load_qa(EVAL / "qa.jsonl")[:25], EVAL / "qa.jsonl"
    ) + tuning.footnote_questions(
        handle, "footnotes", load_footnote_questions(EVAL / "footnotes.jsonl")[:10]
    )
    return retriever, questions


SETTINGS = [
    Fusion((0.5, 0.5, 2.0, 1.0, 1.0), 60, 0.1),
    Fusion((1.0, 0.0, 1.0, 0.0, 1.0), 10, 0.0),
    Fusion((0.0, 1.0, 0.5, 2.0, 0.0), 30, 0.1),
    Fusion((0.0, 0.0, 0.0, 1.0, 0.0), 60, 0.1),
    Fusion((1.0, 1.0, 1.0, 1.0, 1.0), 60, -0.05),
]


def test_fused_cache_equals_search_and_the_rank_matrix(fake_setup):
    retriever, questions = fake_setup
    cached = tuning.cache_legs(retriever, questions, SETTINGS)
    ranks = tuning.rank_matrix(cached, SETTINGS)
    opened = 0
    for s, fusion in enumerate(SETTINGS):
        searcher = Retriever(retriever.handle, retriever.encoder, fusion.params(retriever.params))
        for q, item in enumerate(cached):
            ranking = tuning.fused(item, fusion)
            hits = searcher.search(item.question.question, k=10)
            assert [h.passage.id for h in hits] == [
                retriever.handle.passages[i].id for i, _ in ranking[:10]
            ]
            assert [h.score for h in hits] == [round(score, 6) for _, score in ranking[:10]]
            assert ranks[s, q] == tuning.first_relevant_rank(ranking, item.question.relevant)
            opened += bool(item.footnotes[(fusion.rrf_k, fusion.footnote_margin)])
    assert opened  # the footnote gate opened somewhere, so that path is compared too


def test_rank_matrix_equals_exact_fusion_over_a_grid_sample(fake_setup):
    import random

    retriever, questions = fake_setup
    sample = random.Random(0).sample(tuning.WEIGHTS.settings(), 300)
    cached = tuning.cache_legs(retriever, questions, sample)
    ranks = tuning.rank_matrix(cached, sample)
    for s, fusion in enumerate(sample):
        for q, item in enumerate(cached):
            exact = tuning.first_relevant_rank(tuning.fused(item, fusion), item.question.relevant)
            assert ranks[s, q] == exact, (fusion, item.question.key)


def test_bm25_alone_orders_as_the_bm25_retriever(fake_setup):
    retriever, questions = fake_setup
    bm25_only = Fusion.of(retriever.params, "bm25")
    for item in tuning.cache_legs(retriever, questions[:8], [bm25_only]):
        hits = retriever.search(item.question.question, k=10, retriever="bm25")
        ranking = tuning.fused(item, bm25_only)
        assert [h.passage.id for h in hits] == [
            retriever.handle.passages[i].id for i, _ in ranking[:10]
        ]


def test_tune_reports_every_row_and_times_every_step(fake_setup):
    retriever, questions = fake_setup
    report = tuning.tune(retriever, questions, n_folds=3, repeats=2)
    names = [r.name for r in report.rows]
    assert names[:2] == ["hybrid, settings in use", "hybrid, cross-validated"]
    assert {"dense, cross-validated", "bm25"} <= set(names)
    assert [leg for leg, _ in report.ablation] == list(LEGS)
    for leg, row in report.ablation:
        assert leg not in row.setting.legs
    assert set(report.step_ms) == {"encode", *LEGS, "fusion"}
    assert report.retriever in ("hybrid", "dense", "bm25")
    assert report.env()["RAG_RETRIEVER"] == report.retriever
    lines = tuning.render(report)
    assert any(line.startswith("| hybrid, cross-validated |") for line in lines)
    fixed = report.row("hybrid, settings in use")
    assert not fixed.tuned and fixed.setting == Fusion.of(retriever.params)


# --------------------------------------------------------------------------- the command


@pytest.mark.model
def test_the_defaults_are_what_cross_validation_picks(real_index_dir, monkeypatch):
    """`rag eval --tune` on the bundled sets picks the settings in rag/config.py and the
    default retriever: change one without the other and this fails.

    Tuned with float32 questions (`RAG_ENCODER=onnx`, the index's own vectors): the fusion
    is a property of the index's representations, and int8 questions move a few ranks at
    random, which makes the pick wobble (README, "Encoders"); the default int8 questions are
    held to float32's quality with these weights by test_encoders."""
    import json

    from typer.testing import CliRunner

    from rag.cli import app

    monkeypatch.setenv("RAG_INDEX_DIR", str(real_index_dir))
    monkeypatch.setenv("RAG_ENCODER", "onnx")
    result = CliRunner().invoke(app, ["eval", "--tune", "--json", "--repeats", "2"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["sets"] == {"qa": 82, "heldout": 30, "footnotes": 21}
    chosen = report["chosen"]
    defaults = Settings()
    assert Fusion(tuple(chosen["weights"]), chosen["rrf_k"], chosen["footnote_margin"]) == (
        Fusion.of(RetrievalParams.from_settings(defaults))
    )
    assert report["retriever"] == defaults.retriever
    assert report["env"]["RAG_RETRIEVER"] == defaults.retriever


def test_an_unknown_grid_is_bad_input():
    from typer.testing import CliRunner

    from rag.cli import app

    result = CliRunner().invoke(app, ["eval", "--tune", "--grid", "fine"])
    assert result.exit_code == 2 and "unknown grid 'fine'" in result.output
