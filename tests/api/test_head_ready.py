"""``HEAD /ready`` answers as ``GET /ready`` does, without the body: load balancers probe
with ``HEAD`` (it was ``405``)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.helpers import API_KEY


def test_head_ready_is_200_when_ready_with_get_s_headers_and_no_body(
    client: TestClient,
) -> None:
    get, head = client.get("/ready"), client.head("/ready")
    assert get.status_code == head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"] == "application/json"
    assert head.headers["content-length"] == get.headers["content-length"]


def test_head_ready_is_503_until_the_lifespan_has_warmed_the_model(
    make_app: Callable[..., FastAPI],
) -> None:
    app = make_app()
    cold = TestClient(app)  # no `with`: the lifespan has not run
    assert cold.head("/ready").status_code == 503
    assert cold.head("/health").status_code == 200
    with TestClient(app) as warm:
        assert warm.head("/ready").status_code == 200


def test_head_ready_needs_the_key_as_get_does(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(api_key=API_KEY)) as keyed:
        assert keyed.head("/ready").status_code == keyed.get("/ready").status_code == 401
        auth = {"Authorization": f"Bearer {API_KEY}"}
        assert keyed.head("/ready", headers=auth).status_code == 200
        assert keyed.head("/health").status_code == 200  # /health stays open


def test_head_ready_stays_out_of_the_openapi_document(client: TestClient) -> None:
    assert set(client.get("/openapi.json").json()["paths"]["/ready"]) == {"get"}
