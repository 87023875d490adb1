"""Overload: one deadline per request (RAG_DEADLINE_S) covers retrieval too, so a request
stuck behind the encoder gets a clean 504 naming the setting, on /search and on chat,
streamed or not; and admission refuses questions past RAG_ENCODE_QUEUE with a 503 at once."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rag.encoding.batching import BatchingEncoder
from rag.encoding.protocol import Encoder
from rag.engine import Engine
from tests.api.helpers import QUESTION


class Sluggish:
    """The real encoder, one second late: the encoder of a machine far too busy."""

    def __init__(self, inner: Encoder, delay: float) -> None:
        self.inner = inner
        self.delay = delay

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def encode_with_tokens(self, texts: Sequence[str], *, batch_size: int = 32) -> Any:
        time.sleep(self.delay)
        return self.inner.encode_with_tokens(texts, batch_size=batch_size)


@pytest.fixture
def late(make_app: Callable[..., FastAPI], engine: Engine) -> TestClient:
    slow = BatchingEncoder(Sluggish(engine.encoder, 1.0))  # type: ignore[arg-type]
    return TestClient(make_app(engine_=engine.with_encoder(slow), deadline_s=0.3))


def test_a_search_stuck_behind_the_encoder_is_504(late: TestClient) -> None:
    started = time.monotonic()
    response = late.post("/search", json={"question": QUESTION})
    assert time.monotonic() - started < 1.0  # the deadline, not the encoder's pace
    assert response.status_code == 504
    assert response.json()["detail"] == (
        "waiting for the encoder did not finish within 0.3s (RAG_DEADLINE_S)"
    )


@pytest.mark.parametrize("stream", [False, True])
def test_a_chat_answer_stuck_behind_the_encoder_is_504(late: TestClient, stream: bool) -> None:
    body = {"messages": [{"role": "user", "content": QUESTION}], "stream": stream}
    response = late.post("/v1/chat/completions", json=body)
    assert response.status_code == 504  # retrieval comes before the stream's headers
    assert "RAG_DEADLINE_S" in response.json()["detail"]


def test_a_generous_deadline_changes_nothing(
    make_app: Callable[..., FastAPI], engine: Engine
) -> None:
    with TestClient(make_app(deadline_s=30)) as http:
        assert http.post("/search", json={"question": QUESTION}).status_code == 200


def test_questions_past_the_admission_limit_get_503_at_once(
    make_app: Callable[..., FastAPI], engine: Engine
) -> None:
    """Admission happens before a worker thread is taken: with the limit reached, the next
    question is refused in milliseconds, while /health and /ready still answer."""
    import threading

    slow = BatchingEncoder(Sluggish(engine.encoder, 1.5))  # type: ignore[arg-type]
    app = make_app(engine_=engine.with_encoder(slow), encode_queue=2)
    with TestClient(app) as http:
        busy = [
            threading.Thread(target=http.post, args=("/search",), kwargs={"json": {"question": q}})
            for q in (QUESTION, QUESTION + "?")
        ]
        for thread in busy:
            thread.start()
        time.sleep(0.5)  # both admitted, both waiting for the sluggish encoder
        started = time.monotonic()
        refused = http.post("/search", json={"question": QUESTION})
        took = time.monotonic() - started
        chat = http.post(
            "/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTION}]}
        )
        assert http.get("/ready").status_code == 200
        for thread in busy:
            thread.join(timeout=30)
        after = http.post("/search", json={"question": QUESTION})
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert "the limit is 2, RAG_ENCODE_QUEUE" in refused.json()["detail"]
    assert took < 0.5
    assert chat.status_code == 503
    assert after.status_code == 200  # the count went back down
