"""/health, /ready, the OpenAPI document and /docs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.main import create_app
from rag.config import Settings
from rag.engine import Engine
from tests.api.helpers import HTTP_DEFAULTS


def test_health_is_alive(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_ready_summarises_the_manifest(client: TestClient, engine: Engine) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    body = response.json()
    manifest = engine.handle.manifest
    assert body["status"] == "ready"
    assert body["model"] == manifest.model.id == "all-MiniLM-L6-v2"
    assert body["passages"] == manifest.counts.passages == len(engine.handle.passages)
    assert body["built_at"] == manifest.created_at


def test_ready_is_503_until_the_lifespan_has_warmed_the_model(
    make_app: Callable[..., FastAPI],
) -> None:
    app = make_app()
    cold = TestClient(app)  # no `with`: the lifespan has not run
    response = cold.get("/ready")
    assert response.status_code == 503 and response.json()["detail"]
    assert cold.get("/health").status_code == 200
    with TestClient(app) as warm:
        assert warm.get("/ready").status_code == 200


def test_search_is_503_while_no_engine_is_loaded(index_dir: Path) -> None:
    settings = Settings(**{**HTTP_DEFAULTS, "index_dir": index_dir})  # type: ignore[arg-type]
    app = create_app(settings)  # no engine, and no lifespan to load one
    response = TestClient(app).post("/search", json={"question": "anything"})
    assert response.status_code == 503
    assert "loading" in response.json()["detail"]


def test_openapi_lists_every_endpoint_with_examples(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in ("/search", "/passages/{passage_id}", "/sections", "/footnotes"):
        assert path in paths
    assert {"/footnotes/{number}", "/health", "/ready"} <= set(paths)
    assert set(paths["/search"]) >= {"get", "post"}
    request = schema["components"]["schemas"]["SearchRequest"]
    assert request["examples"][0]["question"]
    assert request["properties"]["question"]["examples"]
    assert "422" in paths["/search"]["post"]["responses"]


def test_docs_page_is_served(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert "swagger" in response.text.lower()


def test_head_health_and_no_redirect_built_from_host(client: TestClient) -> None:
    assert client.head("/health").status_code == 200
    response = client.get(
        "/search/?q=trade", headers={"host": "evil.example"}, follow_redirects=False
    )
    assert response.status_code == 404 and "location" not in response.headers
