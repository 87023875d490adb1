"""GET /passages/{id}, /sections and /footnotes over the real index."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rag.engine import Engine
from tests.api.helpers import QUESTION

DOC = "pakistan-us-relations-2024"


def test_passage_by_id_round_trips_a_search_hit(client: TestClient) -> None:
    hit = client.post("/search", json={"question": QUESTION}).json()["passages"][0]
    response = client.get(f"/passages/{hit['id']}")
    assert response.status_code == 200
    passage = response.json()
    assert passage["rank"] is None and passage["score"] is None
    assert {k: v for k, v in passage.items() if k not in ("rank", "score")} == {
        k: v for k, v in hit.items() if k not in ("rank", "score")
    }


def test_sections_tree_counts_every_passage_once(client: TestClient, engine: Engine) -> None:
    (doc,) = client.get("/sections").json()["documents"]
    assert doc["id"] == DOC and doc["passages"] == len(engine.handle.passages)
    assert sum(node["passages_with_subsections"] for node in doc["sections"]) == doc["passages"]
    parent = next(n for n in doc["sections"] if n["title"] == "Current Pace of Relationship")
    titles = [c["title"] for c in parent["children"]]
    assert "Security Cooperation" in titles
    child_total = sum(c["passages_with_subsections"] for c in parent["children"])
    assert parent["passages_with_subsections"] == parent["passages"] + child_total
    security = next(c for c in parent["children"] if c["title"] == "Security Cooperation")
    assert security["path"] == ["Current Pace of Relationship", "Security Cooperation"]
    in_section = [p for p in engine.handle.passages if p.section.title == "Security Cooperation"]
    assert security["passages"] == len(in_section) > 0


def test_footnote_10_has_its_source_and_citing_passages(client: TestClient) -> None:
    response = client.get("/footnotes/10")
    assert response.status_code == 200
    note = response.json()
    assert note["document"]["id"] == DOC
    assert note["url"].startswith("https://www.centcom.mil/")
    assert note["title"] == "USCENTCOM Commander Visits Pakistan"
    assert note["publisher"] == "U.S. Central Command"
    assert note["date"] == "2024-05-09"
    top = client.post("/search", json={"question": QUESTION}).json()["passages"][0]
    assert top["id"] in note["passages"]
    for passage_id in note["passages"]:
        cited = client.get(f"/passages/{passage_id}").json()["footnotes"]
        assert 10 in {f["number"] for f in cited}


def test_footnote_list_covers_the_manifest(client: TestClient, engine: Engine) -> None:
    notes = client.get("/footnotes").json()["footnotes"]
    assert len(notes) == engine.handle.manifest.counts.footnotes > 10
    assert [n["number"] for n in notes] == sorted(n["number"] for n in notes)
    assert client.get("/footnotes", params={"document": DOC}).json()["footnotes"] == notes


def _with_twin(engine: Engine) -> Engine:
    """The same index plus a second brief with the same footnote numbers (no passages)."""
    handle = engine.handle
    (doc,) = handle.documents.values()
    twin = doc.model_copy(update={"id": "twin-brief", "title": "Twin brief"})
    twin_keys = tuple((twin.id, f.number) for f in twin.footnotes)
    two = dataclasses.replace(
        handle,
        documents={doc.id: doc, twin.id: twin},
        footnote_keys=handle.footnote_keys + twin_keys,
        citing={**handle.citing, **{key: () for key in twin_keys}},
    )
    return Engine(engine.settings, engine.encoder, two)


@pytest.fixture(scope="module")
def two_docs(make_app: Callable[..., FastAPI], engine: Engine) -> TestClient:
    return TestClient(make_app(engine_=_with_twin(engine)))


def test_ambiguous_footnote_number_is_409_naming_the_documents(two_docs: TestClient) -> None:
    response = two_docs.get("/footnotes/10")
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert DOC in detail and "twin-brief" in detail and "?document=" in detail


def test_document_parameter_picks_one(two_docs: TestClient) -> None:
    mine = two_docs.get("/footnotes/10", params={"document": DOC}).json()
    twin = two_docs.get("/footnotes/10", params={"document": "twin-brief"}).json()
    assert mine["document"]["id"] == DOC and mine["passages"]
    assert twin["document"]["id"] == "twin-brief" and twin["passages"] == []
    everything = two_docs.get("/footnotes").json()["footnotes"]
    only_twin = two_docs.get("/footnotes", params={"document": "twin-brief"}).json()["footnotes"]
    assert len(everything) == 2 * len(only_twin)
    assert {n["document"]["id"] for n in only_twin} == {"twin-brief"}


def test_sections_count_each_brief_on_its_own(two_docs: TestClient, client: TestClient) -> None:
    """One pass over the passages' columns counts per brief: the twin, which has no
    passages, counts none, and the brief counts what it counts alone."""
    mine, twin = two_docs.get("/sections").json()["documents"]
    (alone,) = client.get("/sections").json()["documents"]
    assert mine == alone
    assert twin["id"] == "twin-brief" and twin["passages"] == 0 and twin["sections"]
    assert all(node["passages_with_subsections"] == 0 for node in twin["sections"])
