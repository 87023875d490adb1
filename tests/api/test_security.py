"""API key, CORS allowlist, the request log, and the encode semaphore."""

from __future__ import annotations

import asyncio
import threading
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


class Counting:
    """The real engine, recording how many searches run at once."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self.active = 0
        self.peak = 0

    @property
    def handle(self):  # type: ignore[no-untyped-def]
        return self._engine.handle

    def search(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        with self._lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            time.sleep(0.15)  # long enough for the other requests to pile up
            return self._engine.search(*args, **kwargs)
        finally:
            with self._lock:
                self.active -= 1


async def _fire(app: FastAPI, n: int) -> list[int]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        calls = [c.post("/search", json={"question": f"{QUESTION} {i}"}) for i in range(n)]
        return [r.status_code for r in await asyncio.gather(*calls)]


@pytest.mark.parametrize("slots", [1, 3])
def test_encoding_is_bounded_by_the_semaphore(
    make_app: Callable[..., FastAPI], engine: Engine, slots: int
) -> None:
    counting = Counting(engine)
    app = make_app(engine_=counting, encode_concurrency=slots)
    assert asyncio.run(_fire(app, 4)) == [200] * 4
    assert counting.peak == slots
