"""POST and GET /search against the real index: what a user asks and gets back."""

from __future__ import annotations

import math

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import QUESTION

PASSAGE_KEYS = {
    "id", "rank", "score", "text", "section", "footnotes", "span", "tokens", "document", "pages"
}  # fmt: skip


def test_done_means_centcom_visit_in_security_cooperation(client: TestClient) -> None:
    response = client.post("/search", json={"question": QUESTION})
    assert response.status_code == 200
    body = response.json()
    assert body["question"] == QUESTION
    assert body["took_ms"] > 0
    top = body["passages"][0]
    assert top["section"]["title"] == "Security Cooperation"
    assert top["section"]["path"] == ["Current Pace of Relationship", "Security Cooperation"]
    note = next(f for f in top["footnotes"] if f["number"] == 10)
    assert note["url"].startswith("https://www.centcom.mil/")
    assert "USCENTCOM Commander Visits Pakistan" in note["citation"]


def test_passages_have_the_cli_json_shape(client: TestClient) -> None:
    passages = client.post("/search", json={"question": QUESTION, "top_k": 7}).json()["passages"]
    assert len(passages) == 7
    assert [p["rank"] for p in passages] == list(range(1, 8))
    for p in passages:
        assert set(p) == PASSAGE_KEYS
        assert set(p["span"]) == {"start", "end"} and p["span"]["start"] < p["span"]["end"]
        assert set(p["document"]) == {"id", "title"}
    scores = [p["score"] for p in passages]
    assert scores == sorted(scores, reverse=True)


def test_get_search_matches_post(client: TestClient) -> None:
    got = client.get("/search", params={"q": QUESTION, "k": 3}).json()
    posted = client.post("/search", json={"question": QUESTION, "top_k": 3}).json()
    assert [p["id"] for p in got["passages"]] == [p["id"] for p in posted["passages"]]
    assert got["took_ms"] > 0


@pytest.mark.parametrize("retriever", ["hybrid", "dense", "bm25"])
def test_each_retriever_answers(client: TestClient, retriever: str) -> None:
    body = {"question": QUESTION, "top_k": 3, "retriever": retriever}
    passages = client.post("/search", json=body).json()["passages"]
    assert len(passages) == 3
    assert passages[0]["section"]["title"] == "Security Cooperation"


def test_section_filter_keeps_only_that_section(client: TestClient) -> None:
    body = {"question": "trade and investment", "top_k": 50, "section": "security cooperation"}
    passages = client.post("/search", json=body).json()["passages"]
    assert passages
    assert {p["section"]["title"] for p in passages} == {"Security Cooperation"}


def test_parent_section_filter_includes_subsections(client: TestClient) -> None:
    params = {"q": "cooperation", "k": 50, "section": "Current Pace of Relationship"}
    passages = client.get("/search", params=params).json()["passages"]
    assert len({p["section"]["title"] for p in passages}) > 1
    assert all(p["section"]["path"][0] == "Current Pace of Relationship" for p in passages)


ODD = [
    "\u202eCENTCOM\u202c visit",  # right-to-left override
    "\u05de\u05ea\u05d9 \u05d1\u05d9\u05e7\u05e8 CENTCOM",  # Hebrew, RTL script
    "zero\u200bwidth\u200d\ufeff",
    "🇵🇰🤝🇺🇸 relations 😀",
    "a\x00b NUL inside",
    "e\u0301\u0300\u0302 combining marks",
    "\x01\x02\x7f A",  # control characters beside a letter
    "\U0010ffff\ufffe\uffff",  # noncharacters
    "😀" * 2000,  # at the length limit, far past the model's 256 tokens
]


@pytest.mark.parametrize("question", ODD)
def test_odd_unicode_gives_finite_scores_in_a_stable_order(
    client: TestClient, question: str
) -> None:
    first = client.post("/search", json={"question": question, "top_k": 10})
    again = client.get("/search", params={"q": question, "k": 10})
    assert first.status_code == again.status_code == 200
    passages = first.json()["passages"]
    assert passages and all(math.isfinite(p["score"]) for p in passages)
    assert [p["id"] for p in passages] == [p["id"] for p in again.json()["passages"]]
    assert first.json()["question"] == question


@pytest.mark.parametrize("question", ["\u200b", "\x00", "\x01\x02\x7f", "\u200b\u2060\ufeff"])
def test_a_question_of_invisible_characters_only_is_blank(
    client: TestClient, question: str
) -> None:
    """Nothing but zero-width, control or format characters says nothing: 422, as blank."""
    assert client.post("/search", json={"question": question}).status_code == 422
    assert client.get("/search", params={"q": question}).status_code == 422


def test_retrieved_text_is_returned_as_json_data(client: TestClient) -> None:
    response = client.post("/search", json={"question": "<script>alert(1)</script>"})
    assert response.headers["content-type"] == "application/json"
    assert response.json()["question"] == "<script>alert(1)</script>"
