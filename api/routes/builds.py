"""``GET /builds/{id}``: how a library change (``POST``/``DELETE /documents``) is going."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Path, status

from api.deps import AuthDep, KeyRequiredDep, LibraryDep
from api.models import AUTH_ERRORS, BuildView, error
from rag.library.builds import HISTORY

router = APIRouter(
    tags=["documents"], dependencies=[AuthDep, KeyRequiredDep], responses=AUTH_ERRORS
)


@router.get(
    "/builds/{build_id}",
    summary="A library build's status",
    responses={
        403: error("No API key is configured (RAG_API_KEY): there are no builds."),
        404: error("This server process has no build with this id."),
    },
)
async def build(
    library: LibraryDep, build_id: str = Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
) -> BuildView:
    """Queued, running, succeeded or failed; the ids added, replaced and removed, the
    library's size after it, timings, and on failure the reason in one line (the index
    served before it still is). Builds are kept in memory by the server process that
    accepted them, the last 200 of them."""
    record = library.build(build_id)
    if record is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"no build has the id {build_id!r} here; builds are kept in memory by the server "
            f"process that took the change (its last {HISTORY}), and forgotten on a restart",
        )
    return BuildView.of(record)
