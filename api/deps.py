"""Dependencies handed to routes: settings, the engine, and the API-key check.

All async: none of them blocks, and a plain ``def`` dependency would cost each request a
trip through the thread pool, where under load it queues behind searches.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from rag.answering import Answerer
from rag.config import Settings
from rag.engine import Engine
from rag.errors import Overloaded
from rag.library import Library
from rag.store.reload import Reloader


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> Engine:
    engine: Engine | None = getattr(request.app.state, "engine", None)
    if engine is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "index is still loading")
    return engine


EngineDep = Annotated[Engine, Depends(get_engine)]


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_reloader(request: Request) -> Reloader:
    reloader: Reloader = request.app.state.reloader
    return reloader


ReloaderDep = Annotated[Reloader, Depends(get_reloader)]


async def get_answerer(engine: EngineDep, settings: SettingsDep) -> Answerer:
    # Stateless, so one per request costs nothing; the app's settings (answer server, no-answer
    # threshold) rule, whichever settings loaded the engine.
    return Answerer(engine, settings)


AnswererDep = Annotated[Answerer, Depends(get_answerer)]


# FastAPI's own scheme reads the header and declares it in OpenAPI; auto_error=False lets a
# server without RAG_API_KEY accept requests, and ours say what to send.
bearer = HTTPBearer(scheme_name="apiKey", description="The RAG_API_KEY value.", auto_error=False)


async def require_api_key(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """With ``RAG_API_KEY`` set, every route using this needs ``Authorization: Bearer <key>``.

    Compared in constant time; the key is never logged or echoed.
    """
    if settings.api_key is None:
        return
    expected = settings.api_key.get_secret_value().encode()
    token = credentials.credentials.strip().encode() if credentials else b""
    if not hmac.compare_digest(token, expected):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or wrong API key: send 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )


AuthDep = Depends(require_api_key)

KEY_REQUIRED = (
    "adding and removing briefs over HTTP is turned off: it needs an API key, and none is "
    "configured; set RAG_API_KEY on the server and send 'Authorization: Bearer <key>'"
)


async def require_configured_key(settings: SettingsDep) -> None:
    """Routes that change the library are refused outright on a server without
    ``RAG_API_KEY``: they must never be open (with a key, :data:`AuthDep` checks it)."""
    if settings.api_key is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, KEY_REQUIRED)


KeyRequiredDep = Depends(require_configured_key)


async def get_library(request: Request) -> Library:
    library: Library = request.app.state.library
    return library


LibraryDep = Annotated[Library, Depends(get_library)]


@dataclass
class Admission:
    """The questions this worker is answering now (waiting for the encoder or searching).

    Counted on the event loop before a route takes a worker thread: past ``limit`` the
    answer is 503 at once. Without it the thread pool would be the queue, and an unbounded
    one: requests past its threads wait there, invisibly, for as long as the crowd lasts.
    """

    limit: int
    inflight: int = 0


async def admit(request: Request) -> AsyncIterator[None]:
    gate: Admission = request.app.state.admission
    if gate.inflight >= gate.limit:
        raise Overloaded(
            f"{gate.inflight} questions are already being answered (the limit is "
            f"{gate.limit}, RAG_ENCODE_QUEUE); retry in a moment"
        )
    gate.inflight += 1
    try:
        yield
    finally:
        gate.inflight -= 1


# scope="function": the question leaves the count when the route returns, not when a
# streamed answer ends (a generated answer's stream waits on the answer server, not on us).
AdmitDep = Depends(admit, scope="function")
