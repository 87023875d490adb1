"""``POST /admin/reload``: serve a newly published index now (the watcher does it within
``RAG_RELOAD_INTERVAL_S`` anyway, in every worker)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import AuthDep, EngineDep
from api.memory import resettle
from api.models import AUTH_ERRORS, error
from rag.reload import reload_published

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
def reload(engine: EngineDep) -> ReloadResponse:
    """Load and verify the index `rag index` last published and serve it from the next
    request on (requests in flight finish on the old one). With `RAG_API_KEY` set, needs it.
    """
    handle = reload_published(engine)
    if handle is not None:
        resettle()
    manifest = (handle or engine.snapshot().handle).manifest
    return ReloadResponse(
        reloaded=handle is not None,
        documents=manifest.counts.documents,
        passages=manifest.counts.passages,
        built_at=manifest.created_at,
    )
