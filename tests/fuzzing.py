"""Shared set-up of the schemathesis runs: an open and a keyed app over one engine.

The apps are built at import (cheap: nothing loads until a lifespan runs) so their schemas
can parametrize the tests; ``serve`` hands them the session's real engine before the first
request. (``schemathesis.pytest.from_fixture`` would be tidier, but the lazy loader of
schemathesis 4.32 breaks on pytest 9.)
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import schemathesis
from fastapi import FastAPI
from schemathesis import GenerationMode

from api.main import create_app
from rag.config import Settings, bundled_brief
from rag.engine import Engine
from rag.parsing.loader import slug


@dataclass
class FuzzTarget:
    open_app: FastAPI
    keyed_app: FastAPI
    open_schema: Any
    keyed_schema: Any

    @contextmanager
    def serve(self, engine: Engine) -> Iterator[None]:
        for app in (self.open_app, self.keyed_app):
            app.state.engine = engine
        yield
        for app in (self.open_app, self.keyed_app):
            app.state.engine = None


def served_ids_only(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` whose document scopes take only the ids the fuzzed index holds
    (the bundled brief). A schema can say what an id looks like, not which ids an index
    holds, and an unknown one is a 422 by design (issue 21): without this, a well-formed
    made-up id counts as schema-valid data rejected."""
    schema = copy.deepcopy(schema)
    known = [slug(bundled_brief().stem)]
    body = schema["components"]["schemas"].get("SearchRequest", {}).get("properties", {})
    query = schema["paths"].get("/search", {}).get("get", {}).get("parameters", [])
    scopes = [body.get("documents")] + [p["schema"] for p in query if p["name"] == "document"]
    for scope in filter(None, scopes):
        for form in scope.get("anyOf", [scope]):
            if form.get("type") == "array":
                form["items"]["enum"] = known
    return schema


def fuzz_target(pinned: Mapping[str, object], api_key: str, path_regex: str) -> FuzzTarget:
    """Schemas of the operations matching ``path_regex``, without and with an API key."""
    open_app = create_app(Settings(**pinned))  # type: ignore[arg-type]
    keyed_app = create_app(Settings(**{**pinned, "api_key": api_key}))  # type: ignore[arg-type]
    open_schema = schemathesis.openapi.from_dict(served_ids_only(open_app.openapi())).include(
        path_regex=path_regex
    )
    open_schema.app = open_app
    keyed_schema = schemathesis.openapi.from_dict(served_ids_only(keyed_app.openapi())).include(
        path_regex=path_regex
    )
    keyed_schema.app = keyed_app
    # Positive data only: negative cases would "remove" the Authorization header that each
    # call then sends anyway. The open run covers invalid input; the keyed one covers auth.
    keyed_schema.config.generation.update(modes=[GenerationMode.POSITIVE])
    return FuzzTarget(open_app, keyed_app, open_schema, keyed_schema)
