"""``GET /footnotes`` and ``GET /footnotes/{number}``: sources, and who cites them.

Footnote numbers restart in every brief, so with several documents a number alone can
be ambiguous; ``?document=ID`` picks one, and a 409 says so when it is needed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status

from api.deps import AuthDep, EngineDep
from api.models import AUTH_ERRORS, INPUT_ERRORS, FootnoteOut, FootnotesResponse, error
from rag.store.index import IndexHandle
from rag.views import DocumentView

router = APIRouter(
    tags=["footnotes"],
    dependencies=[AuthDep],
    responses={**AUTH_ERRORS, **INPUT_ERRORS, 404: error("No such document or footnote.")},
)

DocumentParam = Annotated[
    str | None,
    Query(
        max_length=200,
        description="Only this document's footnotes (ids as in GET /sections).",
        examples=["pakistan-us-relations-2024"],
    ),
]


def _documents(handle: IndexHandle, document: str | None) -> list[str]:
    if document is None:
        return list(handle.documents)
    if document not in handle.documents:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"no document {document!r}; documents: {', '.join(handle.documents)}",
        )
    return [document]


def footnote_out(handle: IndexHandle, doc_id: str, number: int) -> FootnoteOut:
    doc = handle.documents[doc_id]
    note = doc.footnote(number)
    assert note is not None
    citing = handle.citing.get((doc_id, number), ())
    return FootnoteOut(
        document=DocumentView(id=doc.id, title=doc.title),
        **note.model_dump(),
        passages=[handle.passages.ids[i] for i in citing],
    )


@router.get("/footnotes", summary="All footnotes")
def footnotes(engine: EngineDep, document: DocumentParam = None) -> FootnotesResponse:
    """Every footnote: citation, URL, title, publisher, date and the citing passages."""
    handle = engine.handle
    wanted = set(_documents(handle, document))
    return FootnotesResponse(
        footnotes=[footnote_out(handle, d, n) for d, n in handle.footnote_keys if d in wanted]
    )


@router.get(
    "/footnotes/{number}",
    summary="One footnote",
    responses={409: error("The number exists in several documents; add ?document=ID.")},
)
def footnote(
    number: Annotated[int, Path(ge=1, le=100_000, description="The footnote number.")],
    engine: EngineDep,
    document: DocumentParam = None,
) -> FootnoteOut:
    """One footnote by number, with the ids of the passages that cite it."""
    handle = engine.handle
    owners = [d for d in _documents(handle, document) if handle.documents[d].footnote(number)]
    if not owners:
        where = f"document {document!r}" if document else "any document"
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"no footnote {number} in {where}; list them with GET /footnotes",
        )
    if len(owners) > 1:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"footnote {number} exists in {len(owners)} documents ({', '.join(owners)}); "
            "choose one with ?document=ID",
        )
    return footnote_out(handle, owners[0], number)
