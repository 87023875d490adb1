"""schemathesis against the app's own OpenAPI schema: no 5xx, and every response matches
the documented status codes, content types and schemas. Bounded so the suite stays fast.
See tests/fuzzing.py for how the apps are set up.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from rag.engine import Engine
from tests.api.helpers import API_KEY, HTTP_DEFAULTS
from tests.fuzzing import fuzz_target

# The retrieval API's operations, and a build's status; the chat endpoints have their own
# owner and tests. POST and DELETE /documents are left out on purpose: each accepted call
# queues a build that re-embeds and republishes the library, so fuzzing them would change
# the session's shared index under every other test and queue builds without end. They
# have their own tests against a real server (tests/api/test_uploads_live.py).
RETRIEVAL = r"^/(search|passages|sections|footnotes|health|ready|builds)\b"
TARGET = fuzz_target(HTTP_DEFAULTS, API_KEY, RETRIEVAL)
open_schema, keyed_schema, KEYED = TARGET.open_schema, TARGET.keyed_schema, TARGET.keyed_app
bounded = settings(
    deadline=None, database=None, suppress_health_check=list(HealthCheck), max_examples=50
)


@pytest.fixture(scope="module", autouse=True)
def serve_the_real_index(engine: Engine) -> Iterator[None]:
    with TARGET.serve(engine):
        yield


@open_schema.parametrize()
@bounded
def test_api_keeps_its_schema(case) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate()


@keyed_schema.parametrize()
@settings(bounded, max_examples=15)
def test_keyed_api_enforces_what_it_declares(case) -> None:  # type: ignore[no-untyped-def]
    # With the key sent, the ignored_auth check also replays requests without it and with
    # a wrong one, and fails if either gets through.
    case.call_and_validate(headers={"Authorization": f"Bearer {API_KEY}"})


def test_the_fuzzed_operations_are_the_retrieval_api() -> None:
    fuzzed = {op.ok().label for op in open_schema.get_all_operations()}
    assert fuzzed == {
        "POST /search",
        "GET /search",
        "GET /passages/{passage_id}",
        "GET /sections",
        "GET /footnotes",
        "GET /footnotes/{number}",
        "GET /health",
        "GET /ready",
        "GET /builds/{build_id}",
    }
    assert "securitySchemes" in KEYED.openapi()["components"]
