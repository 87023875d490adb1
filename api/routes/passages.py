"""``GET /passages/{id}``: one passage by the id a search returned."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status

from api.deps import AuthDep, EngineDep
from api.models import AUTH_ERRORS, INPUT_ERRORS, error
from rag.views import PassageView

router = APIRouter(
    tags=["passages"],
    dependencies=[AuthDep],
    responses={**AUTH_ERRORS, **INPUT_ERRORS, 404: error("No passage with that id.")},
)


@router.get("/passages/{passage_id}", summary="One passage")
def passage(
    passage_id: Annotated[
        str,
        Path(
            max_length=200,
            description="A passage id from a search result.",
            examples=["pakistan-us-relations-2024-b50cbf016b"],
        ),
    ],
    engine: EngineDep,
) -> PassageView:
    """The passage with its section, footnotes and span; `rank` and `score` are null."""
    found = engine.handle.passage(passage_id)
    if found is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"no passage with id {passage_id!r}; ids come from /search results "
            "and change when the index is rebuilt",
        )
    return PassageView.of(found)
