"""The FastAPI application factory.

The model and index load in the lifespan (never at import), off the event loop, and are
warmed with one query so the first user does not pay for it. ``app.state.engine`` is the
one reference a hot reload would replace.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from rag import __version__
from rag.config import Settings
from rag.engine import Engine


def _load_engine(settings: Settings) -> Engine:
    from rag.engine import open_engine

    engine = open_engine(settings)
    engine.search("warm up the encoder", k=1)
    return engine


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """Build the app. Pass ``engine`` to serve an already-loaded index (tests, reloads)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.engine is None:
            app.state.engine = await run_in_threadpool(_load_engine, settings)
        yield

    app = FastAPI(
        title="brief-rag",
        version=__version__,
        summary="Retrieval over policy briefs with section and footnote references.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine

    from api import routes

    routes.install(app, settings)
    return app
