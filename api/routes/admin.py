"""``POST /admin/reload``: serve a newly published index now (the watcher does it within
``RAG_RELOAD_INTERVAL_S`` anyway, in every worker)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import AuthDep, EngineDep, ReloaderDep
from api.models import AUTH_ERRORS, error

router = APIRouter(tags=["admin"], dependencies=[AuthDep], responses=AUTH_ERRORS)


class ReloadResponse(BaseModel):
    reloaded: bool = Field(description="False when the published index is the one served.")
    documents: int
    passages: int
    built_at: str


@router.post(
    "/admin/reload",
    summary="Serve the newly published index",
    responses={503: error("The new build failed verification; the old one still serves.")},
)
async def reload(engine: EngineDep, reloader: ReloaderDep) -> ReloadResponse:
    """Load and verify the index `rag index` last published and serve it from the next
    request on (requests in flight finish on the old one). One load at a time: requests
    that arrive while one runs wait for it and get its result. With `RAG_API_KEY` set,
    needs it.
    """
    handle = await reloader.reload(engine)
    manifest = (handle or engine.snapshot().handle).manifest
    return ReloadResponse(
        reloaded=handle is not None,
        documents=manifest.counts.documents,
        passages=manifest.counts.passages,
        built_at=manifest.created_at,
    )
