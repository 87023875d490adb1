"""The API key setting applies to the OpenAI-compatible routes, never to the page."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from rag.config import Settings
from rag.engine import Engine
from tests.chat.helpers import HIGHER_ED_QUESTION


@pytest.mark.model
def test_the_api_key_guards_both_v1_routes_but_not_the_page(real_engine: Engine) -> None:
    app = create_app(Settings(api_key="s3cret"), engine=real_engine)
    body = {"messages": [{"role": "user", "content": HIGHER_ED_QUESTION}]}
    with TestClient(app) as http:
        assert http.get("/v1/models").status_code == 401
        assert http.post("/v1/chat/completions", json=body).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert http.post("/v1/chat/completions", json=body, headers=wrong).status_code == 401
        right = {"Authorization": "Bearer s3cret"}
        assert http.get("/v1/models", headers=right).status_code == 200
        assert http.post("/v1/chat/completions", json=body, headers=right).status_code == 200
        assert http.get("/").status_code == 200
