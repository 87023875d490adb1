"""schemathesis against the chat routes' own OpenAPI schema: no 5xx, valid requests
accepted, invalid ones rejected, and every response as documented. Bounded: each accepted
request runs the real model over the real index."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from rag.engine import Engine
from tests.fuzzing import fuzz_target

CHAT = r"^/(v1/|$)"
API_KEY = "chat-fuzz-key-7Q"
# Pinned, so a RAG_* variable in the shell cannot change what is under test.
PINNED: dict[str, object] = {"api_key": None, "max_question_chars": 2000, "llm_base_url": None}
TARGET = fuzz_target(PINNED, API_KEY, CHAT)
open_schema, keyed_schema = TARGET.open_schema, TARGET.keyed_schema
bounded = settings(
    deadline=None, database=None, suppress_health_check=list(HealthCheck), max_examples=25
)

pytestmark = pytest.mark.model


@pytest.fixture(scope="module", autouse=True)
def serve_the_real_index(real_engine: Engine) -> Iterator[None]:
    with TARGET.serve(real_engine):
        yield


@open_schema.parametrize()
@bounded
def test_chat_routes_keep_their_schema(case) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate()


@keyed_schema.parametrize()
@settings(bounded, max_examples=8)
def test_keyed_chat_routes_enforce_the_key(case) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(headers={"Authorization": f"Bearer {API_KEY}"})


def test_the_fuzzed_operations_are_the_chat_routes() -> None:
    fuzzed = {op.ok().label for op in open_schema.get_all_operations()}
    assert fuzzed == {"GET /v1/models", "POST /v1/chat/completions", "GET /"}


@pytest.mark.parametrize(
    "content",
    [
        '"hello \\udfff there"',
        '[{"type": "text", "text": "about \\ud800 trade"}]',
    ],
)
def test_a_lone_surrogate_is_a_422_not_a_500(real_engine: Engine, content: str) -> None:
    from fastapi.testclient import TestClient

    from api.main import create_app
    from rag.config import Settings

    body = '{"messages": [{"role": "user", "content": ' + content + "}]}"
    app = create_app(Settings(), engine=real_engine)
    with TestClient(app, raise_server_exceptions=False) as c:
        response = c.post(
            "/v1/chat/completions", content=body, headers={"content-type": "application/json"}
        )
    assert response.status_code == 422, response.text
    assert "not valid Unicode" in response.json()["detail"]
