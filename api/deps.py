"""Dependencies handed to routes: settings, the engine, and the API-key check."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from rag.answering import Answerer
from rag.config import Settings
from rag.engine import Engine


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine | None = getattr(request.app.state, "engine", None)
    if engine is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "index is still loading")
    return engine


EngineDep = Annotated[Engine, Depends(get_engine)]


def get_answerer(engine: EngineDep, request: Request) -> Answerer:
    # Stateless, so one per request costs nothing; the app's settings (answer server, no-answer
    # threshold) rule, whichever settings loaded the engine.
    return Answerer(engine, get_settings(request))


SettingsDep = Annotated[Settings, Depends(get_settings)]
AnswererDep = Annotated[Answerer, Depends(get_answerer)]


# FastAPI's own scheme reads the header and declares it in OpenAPI; auto_error=False lets a
# server without RAG_API_KEY accept requests, and ours say what to send.
bearer = HTTPBearer(scheme_name="apiKey", description="The RAG_API_KEY value.", auto_error=False)


def require_api_key(
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
