"""PDF-built indexes answer as well as the text-built one (real model, real FAISS)."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.config import Settings
from tests.test_pdf_parse import fold, page_texts

FIXTURES = Path(__file__).parent / "fixtures"
LAYOUTS = ["brief-a4-serif.pdf", "brief-a5-sans.pdf"]
runner = CliRunner()
pytestmark = pytest.mark.model


@pytest.fixture(scope="session")
def build_pdf_index(tmp_path_factory):
    built: dict[str, Path] = {}

    def build(name: str) -> Path:
        if name not in built:
            out = tmp_path_factory.mktemp("pdf-index") / "index"
            result = runner.invoke(app, ["index", str(FIXTURES / name), "--out", str(out)])
            assert result.exit_code == 0, result.output
            built[name] = out
        return built[name]

    return build


@pytest.fixture(params=LAYOUTS)
def pdf_index(request, build_pdf_index) -> tuple[str, Path]:
    return request.param, build_pdf_index(request.param)


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


@pytest.mark.parametrize(
    "layout",
    [
        "brief-a4-serif.pdf",
        "brief-a5-sans.pdf",
    ],
)
def test_eval_on_the_pdf_is_within_002_of_the_text(layout, build_pdf_index, text_scores):
    pdf_scores = scores(build_pdf_index(layout))
    for retriever, metrics in text_scores.items():
        for metric, expected in metrics.items():
            got = pdf_scores[retriever][metric]
            if metric == "mean_passage_tokens":  # a size, not a score: within 2%
                assert abs(got - expected) <= 0.02 * expected, (retriever, metric, got, expected)
            else:
                assert abs(got - expected) <= 0.02, (retriever, metric, got, expected)


def test_done_means_command(pdf_index, monkeypatch):
    name, index_dir = pdf_index
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
    # The page it reports is where PDFium finds the passage's first and last words.
    pages = page_texts(name)
    assert hit["pages"] and hit["pages"] == sorted(hit["pages"])
    assert fold(" ".join(hit["text"].split()[:6])) in pages[hit["pages"][0] - 1]
    assert fold(" ".join(hit["text"].split()[-6:])) in pages[hit["pages"][-1] - 1]
    readable = runner.invoke(app, ["ask", "How did Pakistan help end the Cold War?", "-k", "1"])
    first = passages[0]["pages"]
    label = f"p. {first[0]}" if len(first) == 1 else f"pp. {first[0]}–{first[-1]}"
    assert label in readable.stdout.splitlines()[0]


def test_index_summary_counts_pages_and_parse_time(pdf_index):
    name, index_dir = pdf_index
    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert manifest["counts"]["pages"] == {"brief-a4-serif.pdf": 6, "brief-a5-sans.pdf": 7}[name]
    assert 0 < manifest["parse_seconds"] < manifest["build_seconds"]
    assert manifest["documents"][0]["format"] == "pdf"


def test_answers_from_a_pdf_cite_their_pages(build_pdf_index):
    """The chat Sources list, the terminal and the Open WebUI source metadata carry the page."""
    from api.routes.chat import source_event
    from rag.answering import Answerer
    from rag.engine import open_engine

    engine = open_engine(Settings(index_dir=build_pdf_index(LAYOUTS[0])), auto_build=False)
    answer = Answerer(engine).answer("What did the U.S. commit to higher education in Pakistan?")
    assert answer.found and "$19 million" in answer.body_text
    first = answer.citations[0]
    pages = first.passage.pages
    assert pages and all(p >= 1 for p in pages)
    label = f"p. {pages[0]}" if len(pages) == 1 else f"pp. {pages[0]}–{pages[-1]}"
    assert f"- [1] {first.label} ({label})\n" in answer.text
    # The sentence quoted really is printed on the pages the citation names.
    texts = page_texts(LAYOUTS[0])
    assert any(fold("allocating $19 million") in texts[p - 1] for p in pages)
    metadata = source_event(first)["data"]["metadata"][0]
    assert metadata["pages"] == list(pages) and metadata["page"] == pages[0] - 1
