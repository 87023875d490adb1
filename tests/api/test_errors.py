"""Bad input gets a clear JSON 4xx that names the problem, never a 500."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.models import NOT_BLANK
from rag.engine import Engine
from rag.errors import IndexCorrupt, QueryError, RagError
from tests.api.helpers import QUESTION

JSON = {"content-type": "application/json"}


def assert_names_field(response, status: int, field: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert field in {e["field"] for e in body["errors"]}
    assert body["detail"].startswith(f"{field}: ") or f"; {field}: " in body["detail"]


@pytest.mark.parametrize("question", ["", " ", "\t\n ", "\u3000\u2003"])
def test_blank_question_is_422_naming_the_field(client: TestClient, question: str) -> None:
    assert_names_field(client.post("/search", json={"question": question}), 422, "question")
    assert_names_field(client.get("/search", params={"q": question}), 422, "q")


def test_missing_question_is_422(client: TestClient) -> None:
    assert_names_field(client.post("/search", json={"top_k": 3}), 422, "question")
    assert_names_field(client.get("/search"), 422, "q")


def test_question_over_the_limit_is_422(client: TestClient) -> None:
    assert client.post("/search", json={"question": "x" * 2000}).status_code == 200
    response = client.post("/search", json={"question": "x" * 2001})
    assert_names_field(response, 422, "question")
    assert "2000" in response.json()["detail"]
    assert_names_field(client.get("/search", params={"q": "y" * 2001}), 422, "q")


def test_question_limit_follows_the_setting(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(max_question_chars=10)) as small:
        assert small.post("/search", json={"question": "ten chars!"}).status_code == 200
        assert_names_field(small.post("/search", json={"question": "eleven char"}), 422, "question")
        schema = small.get("/openapi.json").json()
        assert (
            schema["components"]["schemas"]["SearchRequest"]["properties"]["question"]["maxLength"]
            == 10
        )


@pytest.mark.parametrize("top_k", [0, -1, 51, 10**20, "five", 2.5, None, True])
def test_top_k_outside_1_to_50_is_422(client: TestClient, top_k: object) -> None:
    assert_names_field(
        client.post("/search", json={"question": QUESTION, "top_k": top_k}), 422, "top_k"
    )


@pytest.mark.parametrize("k", ["0", "51", "x", ""])
def test_k_outside_1_to_50_is_422(client: TestClient, k: str) -> None:
    assert_names_field(client.get("/search", params={"q": QUESTION, "k": k}), 422, "k")


@pytest.mark.parametrize(
    "raw",
    [b'{"question": ', b"{'question': 'x'}", b"not json", b"\xff\xfe\x00", b'{"question": "x"}}'],
)
def test_malformed_json_is_422(client: TestClient, raw: bytes) -> None:
    response = client.post("/search", content=raw, headers=JSON)
    assert response.status_code == 422
    assert response.json()["errors"][0]["location"] == "body"


@pytest.mark.parametrize(
    "body",
    [
        [QUESTION],
        QUESTION,
        {"question": 42},
        {"question": ["a"]},
        {"question": QUESTION, "retriever": "tfidf"},
        {"question": QUESTION, "k": 3},  # a typo of top_k is an error, not ignored
        {"question": QUESTION, "section": "  "},
    ],
)
def test_wrong_shapes_are_422(client: TestClient, body: object) -> None:
    response = client.post("/search", json=body)
    assert response.status_code == 422
    assert response.json()["errors"]


def test_lone_surrogate_is_rejected_cleanly(client: TestClient) -> None:
    for raw in (b'{"question": "\\ud800"}', b'{"question": "a", "\\udfff": 1}'):
        response = client.post("/search", content=raw, headers=JSON)
        assert response.status_code == 422
        assert response.json()["errors"]


def test_input_is_not_echoed_in_validation_errors(client: TestClient) -> None:
    secret = "do-not-echo-" + "z" * 2001
    assert secret not in client.post("/search", json={"question": secret}).text


def test_unknown_section_is_404_listing_the_sections(client: TestClient) -> None:
    response = client.post("/search", json={"question": QUESTION, "section": "Nuclear Policy"})
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert "Nuclear Policy" in detail and "Security Cooperation" in detail
    assert client.get("/search", params={"q": QUESTION, "section": "nope"}).status_code == 404


def test_unknown_passage_is_404_json(client: TestClient) -> None:
    response = client.get("/passages/no-such-passage")
    assert response.status_code == 404
    assert "no-such-passage" in response.json()["detail"]
    assert client.get("/passages/" + "p" * 201).status_code == 422
    assert client.get("/passages/..%2F..%2Fetc%2Fpasswd").status_code == 404


@pytest.mark.parametrize("path", ["/footnotes/999", "/footnotes/10?document=other"])
def test_unknown_footnote_or_document_is_404_json(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["detail"]


@pytest.mark.parametrize("path", ["/footnotes/0", "/footnotes/-3", "/footnotes/ten"])
def test_bad_footnote_number_is_422(client: TestClient, path: str) -> None:
    assert_names_field(client.get(path), 422, "number")


def test_oversized_body_with_content_length_is_413(client: TestClient) -> None:
    body = b'{"question": "' + b"x" * (64 * 1024) + b'"}'
    response = client.post("/search", content=body, headers=JSON)
    assert response.status_code == 413
    assert "65536" in response.json()["detail"]


def test_oversized_streamed_body_without_content_length_is_413(client: TestClient) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"question": "'
        for _ in range(5):
            yield b"x" * 16 * 1024
        yield b'"}'

    response = client.post("/search", content=chunks(), headers=JSON)
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert "65536" in response.json()["detail"]


def test_body_at_the_limit_is_not_413(make_app: Callable[..., FastAPI]) -> None:
    body = b'{"question": "' + b"x" * 100 + b'"}'
    with TestClient(make_app(max_body_bytes=len(body))) as tight:
        assert tight.post("/search", content=body, headers=JSON).status_code == 200
        assert tight.post("/search", content=body + b" ", headers=JSON).status_code == 413


def test_absurdly_nested_json_is_422(client: TestClient) -> None:
    response = client.post("/search", content=b"[" * 60_000, headers=JSON)
    assert response.status_code == 422


def test_body_without_json_content_type_says_what_to_send(client: TestClient) -> None:
    response = client.post("/search", content=b'{"question": "x"}')  # curl -d without -H
    assert response.status_code == 422
    assert "Content-Type: application/json" in response.json()["detail"]
    ok = client.post("/search", content=b'{"question": "x"}', headers=JSON)
    assert ok.status_code == 200


def test_wrong_method_names_every_allowed_one(client: TestClient) -> None:
    response = client.put("/search", json={"question": "x"})
    assert response.status_code == 405
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["allow"].split(",")}


class Broken:
    """An engine whose index turns out damaged (or whose retriever refuses) mid-request."""

    def __init__(self, engine: Engine, error: Exception) -> None:
        self.handle = engine.handle
        self.error = error

    def search(self, *args: object, **kwargs: object) -> None:
        raise self.error

    async def asearch(self, *args: object, **kwargs: object) -> None:
        raise self.error


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (IndexCorrupt("index file dense.faiss does not match; run `rag index`"), 503),
        (QueryError("the question is empty; ask something about the brief"), 422),
        (RagError("something the user can fix"), 400),
    ],
)
def test_library_errors_become_json_with_their_message(
    make_app: Callable[..., FastAPI], engine: Engine, error: Exception, status: int
) -> None:
    app = make_app(engine_=Broken(engine, error))
    response = TestClient(app).post("/search", json={"question": QUESTION})
    assert response.status_code == status
    assert response.json()["detail"] == str(error)


def test_schema_pattern_for_blank_is_whitespace_control_and_format_characters() -> None:
    """The pattern the schema carries is derived from Unicode itself: in the Basic
    Multilingual Plane, blank means what str.strip() removes, control characters, and
    format characters (zero-width spaces and joiners, bidi marks, the BOM)."""
    pattern = re.compile(NOT_BLANK)
    disagree = [
        hex(code)
        for code in range(0x10000)
        if (pattern.search(chr(code)) is None)
        != (chr(code).isspace() or unicodedata.category(chr(code)) in ("Cc", "Cf"))
    ]
    assert disagree == []


@pytest.mark.parametrize(
    "question",
    ["\x1e", "\x85 \x1c", "\ufeff", "\ufeff\u200b", "\u200b\u200c\u200d\u2060", "a\u200b"],
)
def test_schema_and_server_agree_on_blank(client: TestClient, question: str) -> None:
    response = client.post("/search", json={"question": question})
    assert (response.status_code == 200) == bool(re.search(NOT_BLANK, question))
    if response.status_code != 200:
        assert response.status_code == 422


def test_a_question_of_zero_width_characters_is_refused_everywhere(
    client: TestClient, engine: Engine
) -> None:
    invisible = "\u200b\u200d\u2060\ufeff\u200e"
    assert client.get("/search", params={"q": invisible}).status_code == 422
    chat = {"model": "brief-rag", "messages": [{"role": "user", "content": invisible}]}
    assert client.post("/v1/chat/completions", json=chat).status_code == 422
    with pytest.raises(QueryError, match="the question is empty"):
        engine.search(invisible)


def test_chat_routes_have_their_own_larger_limit(make_app: Callable[..., FastAPI]) -> None:
    # A long conversation resent by a chat front end is bigger than any search request.
    history = [{"role": "user", "content": "earlier turn " * 400}] * 20  # ~100 KB
    messages = [*history, {"role": "user", "content": "Who edited the brief?"}]
    with TestClient(make_app(max_chat_body_bytes=200_000)) as app:
        ok = app.post("/v1/chat/completions", json={"model": "brief-rag", "messages": messages})
        assert ok.status_code == 200, ok.text
        big = app.post(
            "/v1/chat/completions", json={"model": "brief-rag", "messages": messages * 3}
        )
        assert big.status_code == 413
        assert "RAG_MAX_CHAT_BODY_BYTES" in big.json()["detail"]
        search = app.post("/search", json={"question": "x" * 70_000})
        assert search.status_code == 413 and "RAG_MAX_BODY_BYTES" in search.json()["detail"]
