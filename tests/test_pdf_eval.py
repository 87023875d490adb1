"""PDF-built indexes answer as well as the text-built one (real model, real FAISS)."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.config import Settings

FIXTURES = Path(__file__).parent / "fixtures"
LAYOUTS = ["brief-a4-serif.pdf", "brief-a5-sans.pdf"]
runner = CliRunner()
pytestmark = pytest.mark.model


@pytest.fixture(scope="session", params=LAYOUTS)
def pdf_index(request, tmp_path_factory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp("pdf-index") / "index"
    result = runner.invoke(app, ["index", str(FIXTURES / request.param), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return request.param, out


def scores(index_dir: Path) -> dict[str, dict[str, float | None]]:
    """What `rag eval` reports for each retriever on the bundled Q&A and source sets."""
    from rag.engine import open_engine
    from rag.evaluation.dataset import load_footnote_questions, load_qa
    from rag.evaluation.runner import RETRIEVERS, run

    cfg = Settings(index_dir=index_dir)
    engine = open_engine(cfg, auto_build=False)
    qa = cfg.eval_dir / "qa.jsonl"
    reports = run(
        engine.retriever,
        load_qa(qa),
        qa,
        load_footnote_questions(cfg.eval_dir / "footnotes.jsonl"),
        retrievers=RETRIEVERS,
        k=10,
    )
    return {name: report.metrics for name, report in reports.items()}


@pytest.fixture(scope="session")
def text_scores(real_index_dir):
    return scores(real_index_dir)


def test_eval_on_the_pdf_is_within_002_of_the_text(pdf_index, text_scores):
    _, index_dir = pdf_index
    pdf_scores = scores(index_dir)
    for retriever, metrics in text_scores.items():
        for metric, expected in metrics.items():
            got = pdf_scores[retriever][metric]
            if metric == "mean_passage_tokens":  # a size, not a score: within 2%
                assert abs(got - expected) <= 0.02 * expected, (retriever, metric, got, expected)
            else:
                assert abs(got - expected) <= 0.02, (retriever, metric, got, expected)


def test_done_means_command(pdf_index, monkeypatch):
    _name, index_dir = pdf_index
    monkeypatch.setenv("RAG_INDEX_DIR", str(index_dir))
    result = runner.invoke(app, ["ask", "How did Pakistan help end the Cold War?", "--json"])
    assert result.exit_code == 0, result.output
    passages = json.loads(result.stdout)["passages"]
    hit = next(
        p
        for p in passages[:2]
        if "Second, Pakistan helped the U.S. reverse the Soviet" in p["text"]
    )
    note = next(f for f in hit["footnotes"] if f["number"] == 2)
    assert note["url"] == "https://www.jstor.org/stable/4328240"
    assert hit["pages"] == [1]  # the sentence is on page 1 in both layouts
    readable = runner.invoke(app, ["ask", "How did Pakistan help end the Cold War?", "-k", "1"])
    assert "p. 1" in readable.stdout


def test_index_summary_counts_pages_and_parse_time(pdf_index):
    name, index_dir = pdf_index
    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert manifest["counts"]["pages"] == {"brief-a4-serif.pdf": 6, "brief-a5-sans.pdf": 7}[name]
    assert 0 < manifest["parse_seconds"] < manifest["build_seconds"]
    assert manifest["documents"][0]["format"] == "pdf"
