"""The FastAPI application factory.

The model and index load in the lifespan (never at import), off the event loop, and are
warmed with one query so the first user does not pay for it. ``app.state.engine`` is the
one reference a hot reload would replace; ``app.state.ready`` turns /ready green.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from api.memory import keep_releasing, settle
from rag import __version__
from rag.config import Settings, load_settings
from rag.engine import Engine
from rag.library import Library
from rag.store.handle import IndexHandle
from rag.store.reload import Reloader


def _load_engine(settings: Settings) -> Engine:
    from rag.engine import for_serving, open_engine

    return for_serving(open_engine(settings, serving=True))


def _warm(engine: Engine) -> None:
    # One answer loads the model and builds the per-index term tables, so the first user
    # does not pay for either.
    from rag.answering import Answerer, prepare

    Answerer(engine).find("warm up the encoder")
    prepare(engine.handle)


async def _watch(app: FastAPI, interval: float) -> None:
    """Every worker process polls the index link and reloads a new build by itself (a
    reload request reaches only one worker). A bad build is logged once, not every poll."""
    from rag.errors import RagError

    log = logging.getLogger("api.reload")
    refused: set[object] = set()
    while True:
        await asyncio.sleep(interval)
        engine = app.state.engine
        if not isinstance(engine, Engine):  # a stand-in engine (tests) has nothing to watch
            continue
        try:
            target = engine.settings.index_dir.resolve()
            if target in refused:
                continue
            await app.state.reloader.reload(engine)
        except RagError as exc:
            refused.add(target)
            log.warning("new index not served, the previous one still is: %s", exc)
        except Exception:  # the watcher must outlive anything one poll runs into
            log.exception("index watcher")


def _engine(app: FastAPI) -> Engine:
    engine: Engine = app.state.engine
    return engine


def _swapped(handle: IndexHandle) -> None:
    """After each reload, once (in the reload's thread): build what answers derive from
    it, freeze the new build, say so."""
    from api.memory import resettle
    from rag.answering import prepare

    prepare(handle)
    resettle()
    logging.getLogger("api.reload").warning(
        "now serving the index built %s (%d passages)",
        handle.manifest.created_at,
        handle.manifest.counts.passages,
    )


def _limit_question(schema: dict[str, Any], limit: int) -> None:
    """The question limit is a setting: write the one this server enforces into every
    schema that takes a question."""
    schemas = schema.get("components", {}).get("schemas", {})
    body = schemas.get("SearchRequest", {})
    if "question" in body.get("properties", {}):
        body["properties"]["question"]["maxLength"] = limit
    query = schema.get("paths", {}).get("/search", {}).get("get", {})
    for param in query.get("parameters", []):
        if param.get("name") == "q":
            param["schema"]["maxLength"] = limit
    chat = schemas.get("ChatCompletionRequest", {}).get("properties", {}).get("messages", {})
    content = chat.get("contains", {}).get("properties", {}).get("content", {})
    for form in content.get("anyOf", []):
        text = form.get("contains", {}).get("properties", {}).get("text", form)
        if "maxLength" in text:
            text["maxLength"] = limit


def _open_access(schema: dict[str, Any]) -> None:
    # HTTPBearer declares itself on every guarded route; without RAG_API_KEY nothing is
    # guarded, and the schema should not ask clients for a key.
    schema.get("components", {}).pop("securitySchemes", None)
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            operation.pop("security", None)


def _document_settings(app: FastAPI, settings: Settings) -> Callable[[], dict[str, Any]]:
    """Put this server's question limit and API key requirement into its OpenAPI schema,
    so clients, /docs and fuzzers see the limits actually enforced."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()  # caches itself in app.openapi_schema
            _limit_question(schema, settings.max_question_chars)
            if settings.api_key is None:
                _open_access(schema)
        return app.openapi_schema or {}

    return openapi


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """Build the app. Pass ``engine`` to serve an already-loaded index (tests, reloads)."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.engine is None:
            app.state.engine = await run_in_threadpool(_load_engine, settings)
        await run_in_threadpool(_warm, app.state.engine)
        settle()  # what every request shares is never scanned by the collector again
        # Every admitted question gets a worker thread at once: the only queue is the
        # encoder's, bounded by the admission count (api/deps.py).
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = max(limiter.total_tokens, settings.encode_queue + 16)
        app.state.ready = True
        chores = [asyncio.create_task(keep_releasing())]
        if settings.reload_interval_s > 0:
            chores.append(asyncio.create_task(_watch(app, settings.reload_interval_s)))
        try:
            yield
        finally:
            for chore in chores:
                chore.cancel()

    app = FastAPI(
        title="brief-rag",
        version=__version__,
        summary="Retrieval over policy briefs with section and footnote references.",
        lifespan=lifespan,
        # No trailing-slash redirects: Starlette builds their Location from the Host
        # header, which a client controls ("GET /search/" would point at any host).
        redirect_slashes=False,
        # /docs and /redoc are served offline by api/routes/apidocs.py (FastAPI's own pages
        # load their scripts from a CDN).
        docs_url=None,
        redoc_url=None,
    )
    from api import errors, middleware, routes
    from api.deps import Admission

    app.state.settings = settings
    app.state.engine = engine
    app.state.ready = False
    app.state.admission = Admission(settings.encode_queue)
    app.state.reloader = Reloader(_swapped)
    app.state.library = Library(settings, lambda: _engine(app), app.state.reloader)

    routes.install(app, settings)
    errors.install(app)
    middleware.install(app, settings)
    app.openapi = _document_settings(app, settings)  # type: ignore[method-assign]
    return app
