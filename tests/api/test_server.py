"""Against a real ``rag serve`` (uvicorn on a free loopback port) with httpx.

The server runs with an API key and a CORS allowlist, so auth, preflight and the request
log are checked as deployed, over real sockets and real chunked uploads.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rag.engine import Engine
from tests.api.helpers import API_KEY, QUESTION
from tests.servers import RagServer as Server
from tests.servers import rag_serve

pytestmark = pytest.mark.server
ORIGIN = "https://chat.example.org"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture(scope="module")
def server(
    engine: Engine, index_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """``rag serve`` over the session's index (``engine`` guarantees it is built)."""
    env = {
        "RAG_INDEX_DIR": str(index_dir),
        "RAG_API_KEY": API_KEY,
        "RAG_CORS_ORIGINS": ORIGIN,
    }
    with rag_serve(tmp_path_factory.mktemp("server"), env, headers=AUTH) as running:
        yield running


def test_prints_one_line_with_the_url(server: Server) -> None:
    assert f"serving on {server.url}" in server.stdout.read_text(encoding="utf-8")


def test_done_means_over_http(server: Server) -> None:
    response = httpx.post(
        f"{server.url}/search",
        content=f'{{"question":"{QUESTION}"}}',
        headers={"content-type": "application/json", **AUTH},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["took_ms"] > 0
    top = body["passages"][0]
    assert top["section"]["title"] == "Security Cooperation"
    note = next(f for f in top["footnotes"] if f["number"] == 10)
    assert "centcom.mil" in note["url"]


def test_health_open_everything_else_keyed(server: Server) -> None:
    assert httpx.get(f"{server.url}/health").status_code == 200
    assert httpx.get(f"{server.url}/ready").status_code == 401
    assert httpx.get(f"{server.url}/search", params={"q": "x"}).status_code == 401
    ready = httpx.get(f"{server.url}/ready", headers=AUTH).json()
    assert ready["status"] == "ready" and ready["passages"] > 0 and ready["built_at"]


def test_bad_input_is_4xx_over_http(server: Server) -> None:
    post = f"{server.url}/search"
    headers = {"content-type": "application/json", **AUTH}
    assert httpx.post(post, content=b'{"question": ', headers=headers).status_code == 422
    assert httpx.post(post, json={"question": "  "}, headers=AUTH).status_code == 422
    assert httpx.get(f"{server.url}/passages/nope", headers=AUTH).status_code == 404


def test_413_with_and_without_content_length(server: Server) -> None:
    headers = {"content-type": "application/json", **AUTH}
    big = b'{"question": "' + b"x" * 70_000 + b'"}'
    sized = httpx.post(f"{server.url}/search", content=big, headers=headers)
    assert sized.status_code == 413

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 8192):
            yield big[start : start + 8192]

    streamed = httpx.post(f"{server.url}/search", content=chunks(), headers=headers)
    assert "content-length" not in streamed.request.headers
    assert streamed.request.headers["transfer-encoding"] == "chunked"
    assert streamed.status_code == 413
    assert "RAG_MAX_BODY_BYTES" in streamed.json()["detail"]


def test_cors_preflight_allowed_and_denied(server: Server) -> None:
    ask = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    allowed = httpx.options(f"{server.url}/search", headers={"Origin": ORIGIN, **ask})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    denied = httpx.options(f"{server.url}/search", headers={"Origin": "https://x.test", **ask})
    assert denied.status_code == 400
    assert "access-control-allow-origin" not in denied.headers


def test_log_has_a_line_per_request_but_no_question_or_key(server: Server) -> None:
    question = "Tell me about the unmistakable-marker-7781 please"
    httpx.post(f"{server.url}/search", json={"question": question}, headers=AUTH)
    httpx.get(f"{server.url}/search", params={"q": question}, headers=AUTH)
    deadline = time.monotonic() + 5
    while "GET /search 200" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = server.log()
    assert "POST /search 200" in log and "GET /search 200" in log
    assert "unmistakable-marker-7781" not in log
    assert API_KEY not in log
