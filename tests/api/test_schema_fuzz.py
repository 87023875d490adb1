"""schemathesis against the app's own OpenAPI schema: no 5xx, and every response matches
the documented status codes, content types and schemas. Bounded so the suite stays fast.

The apps are built at import (cheap: nothing loads until a lifespan runs) so their schemas
can parametrize the tests; a fixture hands them the session's real engine before the
first request. (``schemathesis.pytest.from_fixture`` would be tidier, but the lazy loader
of schemathesis 4.32 breaks on pytest 9.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from api.main import create_app
from rag.config import Settings
from rag.engine import Engine
from tests.api.helpers import API_KEY, HTTP_DEFAULTS

# The retrieval API's operations; the chat endpoints have their own owner and tests.
RETRIEVAL = r"^/(search|passages|sections|footnotes|health|ready)\b"
OPEN = create_app(Settings(**HTTP_DEFAULTS))  # type: ignore[arg-type]
KEYED = create_app(Settings(**{**HTTP_DEFAULTS, "api_key": API_KEY}))  # type: ignore[arg-type]
open_schema = schemathesis.openapi.from_dict(OPEN.openapi()).include(path_regex=RETRIEVAL)
open_schema.app = OPEN
keyed_schema = schemathesis.openapi.from_dict(KEYED.openapi()).include(path_regex=RETRIEVAL)
keyed_schema.app = KEYED
# Positive data only: negative cases would "remove" the Authorization header that each
# call then sends anyway. The open run covers invalid input; this one covers auth.
keyed_schema.config.generation.update(modes=[GenerationMode.POSITIVE])
bounded = settings(
    deadline=None, database=None, suppress_health_check=list(HealthCheck), max_examples=50
)


@pytest.fixture(scope="module", autouse=True)
def serve_the_real_index(engine: Engine) -> Iterator[None]:
    for app in (OPEN, KEYED):
        app.state.engine = engine
    yield
    for app in (OPEN, KEYED):
        app.state.engine = None


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
    }
    assert "securitySchemes" in KEYED.openapi()["components"]
