"""A shelf of briefs: `documents` scopes a search to some of them (library, HTTP, CLI), an
unknown id is refused with the known ones, and the briefs are listed with their facts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.main import create_app
from rag.cli import app
from rag.config import Settings
from rag.engine import Engine, open_engine
from rag.errors import DocumentNotFound, SectionNotFound
from tests.conftest import FakeEncoder

TRADE = """---
title: Trade Brief
author: A. Trader
date: 2024-05-01
---

# Trade Brief

## Exports

Bilateral trade between the two countries grew fast, and textiles led the exports.[^1]

[^1]: Trade statistics, Ministry of Commerce, 2023.
"""
WATER = """# Water Brief

## Rivers

The Indus Waters Treaty shares the rivers' water between the two countries.

## Dams

New dams on the rivers store water for the dry season, and trade in power grew too.
"""


@pytest.fixture
def shelf(tmp_path: Path) -> Engine:
    (tmp_path / "trade.md").write_text(TRADE)
    (tmp_path / "water.md").write_text(WATER)
    settings = Settings(
        index_dir=tmp_path / "index", model="/nonexistent", corpus=[tmp_path], reload_interval_s=0
    )
    return open_engine(settings, encoder=FakeEncoder())


def test_a_scope_keeps_only_its_briefs(shelf: Engine) -> None:
    everywhere = {h.passage.document.id for h in shelf.search("trade grew", k=10).hits}
    assert everywhere == {"trade", "water"}
    scoped = shelf.search("trade grew", k=10, documents=["water"]).hits
    assert scoped and {h.passage.document.id for h in scoped} == {"water"}
    both = shelf.search("trade grew", k=10, documents=["water", "trade"]).hits
    assert {h.passage.document.id for h in both} == {"trade", "water"}


def test_an_unknown_id_is_refused_with_the_known_ones(shelf: Engine) -> None:
    with pytest.raises(DocumentNotFound) as caught:
        shelf.search("trade", documents=["water", "wind"])
    message = str(caught.value)
    assert "'wind'" in message and "trade, water" in message and "\n" not in message


def test_a_section_outside_the_scope_names_the_scopes_sections(shelf: Engine) -> None:
    assert shelf.search("dams", section="Dams", documents=["water"]).hits
    with pytest.raises(SectionNotFound) as caught:
        shelf.search("dams", section="Dams", documents=["trade"])
    assert "Exports" in str(caught.value) and "Rivers" not in str(caught.value)


def test_the_http_scope_and_the_document_list(shelf: Engine) -> None:
    with TestClient(create_app(shelf.settings, engine=shelf)) as http:
        body = {"question": "trade grew", "top_k": 10, "documents": ["water"]}
        hits = http.post("/search", json=body).json()["passages"]
        assert hits and {h["document"]["id"] for h in hits} == {"water"}
        query = [("q", "trade grew"), ("k", "10"), ("document", "trade"), ("document", "water")]
        hits = http.get("/search", params=query).json()["passages"]
        assert {h["document"]["id"] for h in hits} == {"trade", "water"}
        unknown = http.post("/search", json={"question": "trade", "documents": ["wind"]})
        assert unknown.status_code == 422 and "trade, water" in unknown.json()["detail"]
        assert http.get("/search", params={"q": "x", "document": "../etc"}).status_code == 422
        listed = http.get("/documents").json()["documents"]
        assert [d["id"] for d in listed] == ["trade", "water"]
        trade = http.get("/documents/trade").json()
        assert trade["title"] == "Trade Brief" and trade["footnotes"] == 1
        assert trade["passages"] >= 1 and len(trade["sha256"]) == 64 and trade["indexed_at"]
        missing = http.get("/documents/wind")
        assert missing.status_code == 404 and "trade, water" in missing.json()["detail"]


SUBTITLED = """---
title: Rivers Brief
subtitle: Glaciers, Dams and a Cold Peace
author: Amina Rahman
abstract: >
  {abstract}
---

# Introduction

The Indus Waters Treaty shares the rivers' water between the two countries.
"""
LONG_ABSTRACT = " ".join(["The treaty has outlasted three wars and many crises."] * 6)


@pytest.fixture
def subtitled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """An index (fake encoder) of a brief with a subtitle and a long abstract, and one with
    neither; `rag` commands get the fake encoder too."""
    import rag.engine

    monkeypatch.setattr(rag.engine, "make_encoder", lambda *args, **kwargs: FakeEncoder())
    (tmp_path / "rivers.md").write_text(SUBTITLED.format(abstract=LONG_ABSTRACT))
    (tmp_path / "water.md").write_text(WATER)
    return Settings(
        index_dir=tmp_path / "index", model="/nonexistent", corpus=[tmp_path], reload_interval_s=0
    )


FIELDS = [
    "id", "title", "subtitle", "author", "editor", "date", "abstract", "format", "source",
    "pages", "sections", "passages", "footnotes", "sha256", "indexed_at",
]  # fmt: skip


def _check_listing(rivers: dict, water: dict) -> None:
    assert list(rivers) == list(water) == FIELDS
    assert rivers["subtitle"] == "Glaciers, Dams and a Cold Peace"
    assert water["subtitle"] is None and water["abstract"] is None
    opening = rivers["abstract"]
    assert opening.endswith("…") and len(opening) <= 200
    # Its first words, cut between two of them.
    assert LONG_ABSTRACT.startswith(opening[:-1]) and LONG_ABSTRACT[len(opening) - 1] == " "


def test_the_subtitle_and_the_abstract_are_listed(subtitled: Settings) -> None:
    engine = open_engine(subtitled)
    with TestClient(create_app(subtitled, engine=engine)) as http:
        listed = http.get("/documents").json()["documents"]
        assert [d["id"] for d in listed] == ["rivers", "water"]
        _check_listing(*listed)
        assert http.get("/documents/rivers").json() == listed[0]
    env = {"RAG_INDEX_DIR": str(subtitled.index_dir), "RAG_MODEL": str(subtitled.model)}
    done = CliRunner().invoke(app, ["documents", "--json"], env=env)
    assert done.exit_code == 0, done.output
    _check_listing(*json.loads(done.stdout)["documents"])
    shown = CliRunner().invoke(app, ["documents"], env=env)
    assert shown.exit_code == 0, shown.output
    rivers, water = shown.stdout.split("\nwater\n")
    assert "Rivers Brief — Amina Rahman" in rivers
    assert "   Glaciers, Dams and a Cold Peace\n" in rivers
    assert "   Abstract: The treaty has outlasted three wars" in rivers
    assert "Abstract" not in water and "Glaciers" not in water


def test_the_cli_lists_briefs_and_scopes_a_question(real_index_dir: Path) -> None:
    env = {"RAG_INDEX_DIR": str(real_index_dir)}
    listed = CliRunner().invoke(app, ["documents", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    assert '"id": "pakistan-us-relations-2024"' in listed.output
    assert '"editor": "Dr Neelum Nigar"' in listed.output
    unknown = CliRunner().invoke(app, ["ask", "Who edited it?", "--document", "nope"], env=env)
    assert unknown.exit_code == 2 and "pakistan-us-relations-2024" in unknown.output
    scoped = CliRunner().invoke(
        app,
        ["ask", "Who edited it?", "--json", "--document", "pakistan-us-relations-2024"],
        env=env,
    )
    assert scoped.exit_code == 0 and "Neelum Nigar" in scoped.output


def test_eval_scoped_to_the_brief_scores_the_same_alone(real_index_dir: Path) -> None:
    """`rag eval --document` on a one-brief index is the plain evaluation; an unknown id is
    exit 2 with the known ones."""
    env = {"RAG_INDEX_DIR": str(real_index_dir)}
    plain = CliRunner().invoke(app, ["eval", "--json"], env=env)
    scoped = CliRunner().invoke(
        app, ["eval", "--json", "--document", "pakistan-us-relations-2024"], env=env
    )
    assert plain.exit_code == scoped.exit_code == 0, scoped.output
    assert plain.stdout == scoped.stdout
    unknown = CliRunner().invoke(app, ["eval", "--document", "nope"], env=env)
    assert unknown.exit_code == 2 and "pakistan-us-relations-2024" in unknown.output


def test_one_chat_model_per_brief(shelf: Engine) -> None:
    """`/v1/models` lists the library and each brief, titled; a chat with `brief-rag/<id>`
    retrieves and cites only that brief; an unknown one is a 422 naming the known ids."""
    with TestClient(create_app(shelf.settings, engine=shelf)) as http:
        models = http.get("/v1/models").json()["data"]
        assert [m["id"] for m in models] == ["brief-rag", "brief-rag/trade", "brief-rag/water"]
        assert models[1]["name"] == "Trade Brief"
        assert models[1]["metadata"] == {"document": "trade", "title": "Trade Brief"}

        def ask(model: str) -> dict[str, object]:
            body = {"model": model, "messages": [{"role": "user", "content": "Did trade grow?"}]}
            response = http.post("/v1/chat/completions", json=body)
            assert response.status_code == 200, response.text
            return response.json()

        water = ask("brief-rag/water")["choices"][0]["message"]  # type: ignore[index]
        assert "Trade Brief" not in water["content"] and "textiles" not in water["content"]
        everywhere = ask("brief-rag")["choices"][0]["message"]  # type: ignore[index]
        assert "textiles" in everywhere["content"]
        body = {"model": "brief-rag/wind", "messages": [{"role": "user", "content": "Trade?"}]}
        unknown = http.post("/v1/chat/completions", json=body)
        assert unknown.status_code == 422 and "trade, water" in unknown.json()["detail"]


def test_answer_and_chat_take_a_document(real_index_dir: Path) -> None:
    env = {"RAG_INDEX_DIR": str(real_index_dir)}
    scoped = CliRunner().invoke(
        app,
        ["answer", "Who edited the brief?", "--document", "pakistan-us-relations-2024"],
        env=env,
    )
    assert scoped.exit_code == 0 and "Neelum Nigar" in scoped.output
    unknown = CliRunner().invoke(app, ["chat", "--document", "nope"], input="hi\n", env=env)
    assert unknown.exit_code == 2 and "pakistan-us-relations-2024" in unknown.output


def test_eval_per_document_in_a_library(shelf: Engine, tmp_path: Path) -> None:
    """Records may name their brief: `--scoped` searches each question's own brief only,
    and the report has metrics per brief."""
    from rag.evaluation.dataset import load_qa
    from rag.evaluation.runner import run

    dataset = tmp_path / "qa.jsonl"
    dataset.write_text(
        '{"id": "t1", "question": "What led the exports?", "document": "trade", '
        '"evidence": ["textiles led the exports"]}\n'
        '{"id": "w1", "question": "What do the new dams store?", "document": "water", '
        '"evidence": ["New dams on the rivers store water"]}\n'
        '{"id": "w2", "question": "What does the treaty share?", "document": "water", '
        '"evidence": ["The Indus Waters Treaty shares the rivers"]}\n'
    )
    items = load_qa(dataset)
    report = run(shelf.retriever, items, dataset, retrievers=("hybrid",), scoped=True)["hybrid"]
    assert set(report.by_document) == {"trade", "water"}
    assert set(report.by_document["water"]) >= {"recall@1", "recall@5", "mrr@10"}
    for item in items:
        assert all(pid.startswith(f"{item.document}-") for pid in report.runs[item.id])
    plain = run(shelf.retriever, items, dataset, retrievers=("hybrid",))["hybrid"]
    assert plain.by_document.keys() == report.by_document.keys()


def test_a_scoped_search_ranks_as_the_brief_alone(shelf: Engine, tmp_path: Path) -> None:
    """BM25 weighs terms by the scope's own briefs: scoped inside a library, a brief's
    lexical ranking is the one an index of that brief alone gives (ids and scores)."""
    alone_dir = tmp_path / "alone"
    alone_dir.mkdir()
    (alone_dir / "water.md").write_text(WATER)
    settings = Settings(index_dir=alone_dir / "index", model="/nonexistent", reload_interval_s=0)
    alone = open_engine(settings.model_copy(update={"corpus": [alone_dir]}), encoder=FakeEncoder())
    for question in ("water in the rivers", "dams store water for trade", "treaty"):
        scoped = shelf.search(question, k=5, retriever="bm25", documents=["water"]).hits
        own = alone.search(question, k=5, retriever="bm25").hits
        assert [(h.passage.id, h.score) for h in scoped] == [(h.passage.id, h.score) for h in own]
