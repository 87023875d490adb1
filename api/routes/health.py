"""``GET``/``HEAD /health`` (alive, no auth) and ``GET``/``HEAD /ready`` (model warmed, index
verified)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status

from api.deps import AuthDep
from api.models import AUTH_ERRORS, HealthResponse, ReadyResponse
from rag import __version__

router = APIRouter(tags=["health"])


@router.get("/health", summary="Alive")
@router.head("/health", include_in_schema=False)  # load balancers probe with HEAD
async def health() -> HealthResponse:
    """Answers as soon as the process serves HTTP; needs no API key. Async on purpose: it
    never waits in the thread pool behind searches, so a busy server still says it is up."""
    return HealthResponse()


@router.get("/ready", summary="Ready to search", dependencies=[AuthDep], responses=AUTH_ERRORS)
@router.head("/ready", include_in_schema=False, dependencies=[AuthDep])  # balancers probe with HEAD
async def ready(request: Request) -> ReadyResponse:
    """200 once the model is loaded and warmed and the index verified against its manifest;
    503 before that. Async, like /health, so it never waits behind searches."""
    engine = getattr(request.app.state, "engine", None)
    if engine is None or not getattr(request.app.state, "ready", False):
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "index is still loading")
    manifest = engine.handle.manifest
    return ReadyResponse(
        version=__version__,
        model=manifest.model.id,
        documents=manifest.counts.documents,
        passages=manifest.counts.passages,
        built_at=manifest.created_at,
    )
