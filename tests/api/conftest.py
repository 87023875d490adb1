"""Fixtures for the HTTP API: the session's real index (real model, real FAISS), and apps
built around it with whatever settings a test needs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.main import create_app
from rag.config import Settings
from rag.engine import Engine
from tests.api.helpers import HTTP_DEFAULTS, Lines


@pytest.fixture(scope="session")
def index_dir(real_index_dir: Path) -> Path:
    """The session's real index of the bundled brief (tests/conftest.py builds it once)."""
    return real_index_dir


@pytest.fixture(scope="session")
def engine(real_engine: Engine) -> Engine:
    return real_engine


@pytest.fixture(scope="session")
def make_app(engine: Engine, index_dir: Path) -> Callable[..., FastAPI]:
    def make(*, engine_: Engine | None = None, **overrides: object) -> FastAPI:
        values = {**HTTP_DEFAULTS, "index_dir": index_dir, **overrides}
        return create_app(Settings(**values), engine=engine_ or engine)  # type: ignore[arg-type]

    return make


@pytest.fixture(scope="session")
def client(make_app: Callable[..., FastAPI]) -> Iterator[TestClient]:
    """Default settings: no API key, no CORS, lifespan run (so /ready is green)."""
    with TestClient(make_app()) as c:
        yield c


@pytest.fixture
def request_log() -> Iterator[Lines]:
    logger = logging.getLogger("api.requests")
    handler = Lines()
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
