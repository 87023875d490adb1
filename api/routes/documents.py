"""``GET /documents`` and ``GET /documents/{id}``: the briefs in the index, with what a
client needs to choose among them (the ids that ``documents`` scopes take)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel

from api.deps import AuthDep, EngineDep
from api.models import AUTH_ERRORS, error
from rag.errors import DocumentNotFound
from rag.views import DocumentInfo, document_infos

router = APIRouter(tags=["documents"], dependencies=[AuthDep], responses=AUTH_ERRORS)


class DocumentsResponse(BaseModel):
    documents: list[DocumentInfo]


@router.get("/documents", summary="The indexed briefs")
async def documents(engine: EngineDep) -> DocumentsResponse:
    """Every brief in the index: id, title, subtitle, author, editor, date, the abstract's
    opening, format, pages, sections, passages, footnotes, sha256 and when it was indexed."""
    return DocumentsResponse(documents=document_infos(engine.snapshot().handle))


@router.get(
    "/documents/{document_id}",
    summary="One indexed brief",
    responses={404: error("No indexed brief has this id.")},
)
async def document(document_id: str, engine: EngineDep) -> DocumentInfo:
    """One brief of the index, by the id `GET /documents` lists."""
    infos = {info.id: info for info in document_infos(engine.snapshot().handle)}
    if document_id not in infos:
        detail = str(DocumentNotFound.naming([document_id], infos))
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail)
    return infos[document_id]
