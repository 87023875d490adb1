"""``/documents``: the briefs in the index, with what a client needs to choose among them
(the ids that ``documents`` scopes take); and, with an API key, adding and removing them
(``POST``, ``DELETE``), each answered at once with a build that ``GET /builds/{id}`` follows.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import AuthDep, EngineDep, KeyRequiredDep, LibraryDep
from api.models import AUTH_ERRORS, BuildView, error
from rag.errors import DocumentNotFound
from rag.library.uploads import ID_MAX, is_document_id
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


CHANGE_ERRORS: dict[int | str, dict[str, object]] = {
    202: {
        "description": "Queued; `Location` is the build's `/builds/{id}`.",
        "headers": {"Location": {"schema": {"type": "string"}, "description": "/builds/{id}"}},
    },
    403: error("No API key is configured (RAG_API_KEY): changing the library is turned off."),
    429: error("RAG_MAX_QUEUED_BUILDS changes are already waiting; with `Retry-After`."),
}
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "The brief: its format is told by its content.",
                        },
                        "id": {
                            "type": "string",
                            "pattern": "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$",
                            "maxLength": ID_MAX,
                            "description": "Its id (replacing the brief that has it); default "
                            "a slug of the file's name, else `brief-<sha256 prefix>`.",
                        },
                    },
                }
            }
        },
    }
}


def _queued(build: BuildView, response: Response) -> BuildView:
    response.headers["Location"] = f"/builds/{build.id}"
    return build


async def _read_form(request: Request) -> tuple[bytes, str | None, str | None]:
    """The brief's bytes, the file name the client gave and the id asked for; read after
    the key was checked (a route's declared form would be read before its dependencies)."""
    try:
        form = await request.form(max_files=1, max_fields=1)
    except StarletteHTTPException as exc:
        if exc.status_code != status.HTTP_400_BAD_REQUEST:
            raise  # a body over its limit (413), cut off while streaming
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"the body is not a multipart/form-data form with one file ({exc.detail}); send "
            "the brief as the file field 'file'",
        ) from None
    try:
        file, doc_id = form.get("file"), form.get("id")
        if not isinstance(file, UploadFile):
            raise _invalid("file", "send the brief as a multipart/form-data file field 'file'")
        if doc_id is not None and not (isinstance(doc_id, str) and is_document_id(doc_id)):
            raise _invalid(
                "id",
                "a document id is lowercase letters, digits and inner hyphens, at most "
                f"{ID_MAX} characters",
            )
        return await file.read(), file.filename, doc_id
    finally:
        await form.close()


def _invalid(field: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", field), "msg": message, "type": "value_error"}])


@router.post(
    "/documents",
    summary="Add or replace a brief",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[KeyRequiredDep],
    openapi_extra=UPLOAD_BODY,
    responses={
        **CHANGE_ERRORS,
        400: error("The body is not a multipart form with one file."),
        413: error("Over RAG_MAX_UPLOAD_BYTES (or RAG_MAX_FILE_BYTES for a text format)."),
        415: error("Not in a format any reader reads; the message lists them."),
        422: error("No `file` field, or an `id` that is not a document id."),
    },
)
async def add_document(
    request: Request, response: Response, engine: EngineDep, library: LibraryDep
) -> BuildView:
    """Upload a brief (.txt, .md, .pdf, .docx or .html: the format is told by its content)
    as the multipart field `file`, with an optional `id`. Checked for size and format
    before anything is written; then built into the library in turn, off the request, and
    served as soon as it is published. Answers at once with the build (`Location:
    /builds/{id}`). Bytes the library already has change nothing (unless another `id` is
    asked for); another brief under an existing id replaces that brief. Needs the API key,
    and is refused on a server without one."""
    data, filename, doc_id = await _read_form(request)
    served = engine.handle.manifest.documents
    record = await asyncio.to_thread(library.upload, data, filename, doc_id, served)
    return _queued(BuildView.of(record), response)


@router.delete(
    "/documents/{document_id}",
    summary="Remove a brief",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[KeyRequiredDep],
    responses={
        **CHANGE_ERRORS,
        404: error("No indexed brief has this id; the message lists those that do."),
        422: error("It is the only brief: the library cannot be left empty."),
    },
)
async def remove_document(
    document_id: str, response: Response, engine: EngineDep, library: LibraryDep
) -> BuildView:
    """Remove a brief from the library by a new build, like `rag index --remove`; its file
    is deleted only if it was uploaded (a file of the server's own upload folder). Answers
    at once with the build (`Location: /builds/{id}`). Needs the API key, and is refused on
    a server without one."""
    served = [source.id for source in engine.handle.manifest.documents]
    try:
        record = library.remove(document_id, served)
    except DocumentNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    return _queued(BuildView.of(record), response)
