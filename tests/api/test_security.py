"""API key, CORS allowlist, the request log, and micro-batching with a bounded queue."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rag.engine import Engine
from tests.api.helpers import API_KEY, QUESTION, Lines

GUARDED = [
    ("post", "/search", {"json": {"question": QUESTION}}),
    ("get", "/search?q=pakistan", {}),
    ("get", "/passages/x", {}),
    ("get", "/sections", {}),
    ("get", "/footnotes", {}),
    ("get", "/footnotes/10", {}),
    ("get", "/ready", {}),
]
ORIGIN = "https://chat.example.org"


@pytest.fixture(scope="module")
def keyed(make_app: Callable[..., FastAPI]) -> Iterator[TestClient]:
    with TestClient(make_app(api_key=API_KEY)) as c:
        yield c


@pytest.mark.parametrize(("method", "path", "kwargs"), GUARDED)
def test_key_required_everywhere_but_health(
    keyed: TestClient, method: str, path: str, kwargs: dict
) -> None:
    call = getattr(keyed, method)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": API_KEY}):
        response = call(path, headers=headers, **kwargs)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"
        assert API_KEY not in response.text
    ok = call(path, headers={"Authorization": f"Bearer {API_KEY}"}, **kwargs)
    assert ok.status_code != 401


def test_health_needs_no_key(keyed: TestClient) -> None:
    assert keyed.get("/health").status_code == 200


def test_no_key_configured_means_open(client: TestClient) -> None:
    for method, path, kwargs in GUARDED:
        assert getattr(client, method)(path, **kwargs).status_code != 401


def test_openapi_declares_bearer_only_when_a_key_is_set(
    keyed: TestClient, client: TestClient
) -> None:
    auth = keyed.get("/openapi.json", headers={"Authorization": f"Bearer {API_KEY}"}).json()
    assert auth["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    assert auth["paths"]["/search"]["post"]["security"] == [{"apiKey": []}]
    assert "security" not in auth["paths"]["/health"]["get"]
    open_ = client.get("/openapi.json").json()
    assert "securitySchemes" not in open_.get("components", {})


def _preflight(c: TestClient, origin: str) -> httpx.Response:
    return c.options(
        "/search",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


def test_cors_allowlist(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(cors_origins=[ORIGIN], api_key=API_KEY)) as c:
        allowed = _preflight(c, ORIGIN)
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == ORIGIN
        assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
        denied = _preflight(c, "https://evil.example.com")
        assert denied.status_code == 400
        assert "access-control-allow-origin" not in denied.headers
        # Error responses carry the header too, so a browser can show the 401.
        rejected = c.post("/search", json={"question": QUESTION}, headers={"Origin": ORIGIN})
        assert rejected.status_code == 401
        assert rejected.headers["access-control-allow-origin"] == ORIGIN
        # A front end on another origin may remove a brief it uploaded.
        removal = c.options(
            "/documents/some-brief",
            headers={"Origin": ORIGIN, "Access-Control-Request-Method": "DELETE"},
        )
        assert (
            removal.status_code == 200
            and "DELETE" in removal.headers["access-control-allow-methods"]
        )


def test_no_cors_by_default(client: TestClient) -> None:
    preflight = _preflight(client, ORIGIN)
    assert preflight.status_code == 405
    assert "access-control-allow-origin" not in preflight.headers
    simple = client.get("/health", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in simple.headers


def test_one_log_line_per_request_without_question_or_key(
    keyed: TestClient, request_log: Lines
) -> None:
    secret_question = "Which secret sauce did the CENTCOM commander taste?"
    keyed.post(
        "/search",
        json={"question": secret_question},
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    keyed.get("/search", params={"q": secret_question}, headers={"Authorization": "Bearer no"})
    assert len(request_log.lines) == 2
    post, get = request_log.lines
    assert post.startswith("POST /search 200 ") and post.endswith("ms")
    assert get.startswith("GET /search 401 ")
    for line in request_log.lines:
        assert "secret" not in line and "sauce" not in line and API_KEY not in line


def test_questions_logged_only_when_asked(
    make_app: Callable[..., FastAPI], request_log: Lines
) -> None:
    with TestClient(make_app(log_questions=True)) as c:
        c.post("/search", json={"question": "debug me\nplease"})
    (line,) = request_log.lines
    assert line.startswith("POST /search 200 ")
    assert "question='debug me\\nplease'" in line  # repr: one line, even with a newline


class SlowEncoder:
    """The real encoder, slowed down so concurrent questions pile up, counting its calls."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.calls: list[int] = []
        for name in (
            "model_id",
            "backend",
            "index_backend",
            "dimension",
            "weights_sha256",
            "vectors_sha256",
            "index_vectors_sha256",
        ):
            setattr(self, name, getattr(inner, name))

    def encode_with_tokens(self, texts, **kw):  # type: ignore[no-untyped-def]
        self.calls.append(len(texts))
        time.sleep(0.2)
        return self.inner.encode_with_tokens(texts, **kw)  # type: ignore[attr-defined]


async def _fire(app: FastAPI, n: int) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        calls = [c.post("/search", json={"question": f"{QUESTION} {i}"}) for i in range(n)]
        return list(await asyncio.gather(*calls))


def test_concurrent_questions_share_encoder_calls(
    make_app: Callable[..., FastAPI], engine: Engine
) -> None:
    from rag.engine import for_serving

    slow = SlowEncoder(engine.encoder)
    served = for_serving(engine.with_encoder(slow))  # type: ignore[arg-type]
    app = make_app(engine_=served)
    responses = asyncio.run(_fire(app, 6))
    assert [r.status_code for r in responses] == [200] * 6
    # Six questions, fewer forward passes: the ones that arrived during a pass shared the next.
    assert sum(slow.calls) == 6 and len(slow.calls) < 6 and max(slow.calls) > 1
    top = {r.json()["passages"][0]["id"] for r in responses}
    assert len(top) == 1  # the same question (numbered) finds the same passage, batched or not


def test_a_full_encoder_queue_is_a_503_with_retry_after(
    make_app: Callable[..., FastAPI], engine: Engine
) -> None:
    from rag.encoding.batching import BatchingEncoder

    slow = SlowEncoder(engine.encoder)
    batching = BatchingEncoder(slow, max_batch=1, max_queue=2)  # type: ignore[arg-type]
    app = make_app(engine_=engine.with_encoder(batching))  # type: ignore[arg-type]
    responses = asyncio.run(_fire(app, 8))
    codes = sorted(r.status_code for r in responses)
    # At least the two the queue holds are answered (three when the worker took the first
    # before the others arrived); the rest are refused at once.
    assert codes.count(200) >= 2 and codes.count(503) >= 1 and set(codes) == {200, 503}
    refused = next(r for r in responses if r.status_code == 503)
    assert refused.headers["retry-after"] == "1"
    assert "retry in a moment" in refused.json()["detail"]
