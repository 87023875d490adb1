"""Exception handlers: library errors and invalid input become JSON 4xx/503, never a 500.

SectionNotFound                   404  a section filter that names no section
QueryError                        422  an unusable question or parameter
DeadlineExceeded                  504  the request did not finish within RAG_DEADLINE_S
GeneratorError                    502  the answer server (RAG_LLM_BASE_URL) failed
Overloaded                        503  the encoder's queue is full; with ``Retry-After: 1``
UploadTooLarge                    413  an uploaded brief over its budget
UploadUnreadable                  415  an uploaded brief in no readable format
BuildsBusy                        429  too many library builds waiting; with ``Retry-After``
IndexError_, ModelError,
CorpusError, ConfigError          503  the server's index, model or settings are unusable
other RagError                    400
RequestValidationError            422  ``errors`` names each offending field
undecodable or too deeply nested  422  FastAPI says 400, but it is malformed JSON too
405                               with an ``Allow`` header naming every method of the path
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from api.models import ErrorBody, FieldError
from rag.errors import (
    BuildsBusy,
    ConfigError,
    CorpusError,
    DeadlineExceeded,
    GeneratorError,
    IndexError_,
    ModelError,
    Overloaded,
    QueryError,
    RagError,
    SectionNotFound,
    UploadTooLarge,
    UploadUnreadable,
)

_STATUS: tuple[tuple[type[RagError], int], ...] = (
    (SectionNotFound, status.HTTP_404_NOT_FOUND),  # before QueryError, its parent
    (QueryError, status.HTTP_422_UNPROCESSABLE_CONTENT),
    (IndexError_, status.HTTP_503_SERVICE_UNAVAILABLE),
    (ModelError, status.HTTP_503_SERVICE_UNAVAILABLE),
    (CorpusError, status.HTTP_503_SERVICE_UNAVAILABLE),
    (ConfigError, status.HTTP_503_SERVICE_UNAVAILABLE),
    (DeadlineExceeded, status.HTTP_504_GATEWAY_TIMEOUT),
    (GeneratorError, status.HTTP_502_BAD_GATEWAY),
    (Overloaded, status.HTTP_503_SERVICE_UNAVAILABLE),
    (UploadTooLarge, status.HTTP_413_CONTENT_TOO_LARGE),
    (UploadUnreadable, status.HTTP_415_UNSUPPORTED_MEDIA_TYPE),
    (BuildsBusy, status.HTTP_429_TOO_MANY_REQUESTS),
)
# How long a client should wait before retrying: a full encoder queue drains in well under
# a second, a queue of builds in a few seconds per build.
_RETRY_AFTER: tuple[tuple[type[RagError], str], ...] = ((Overloaded, "1"), (BuildsBusy, "10"))


# What FastAPI's body parsing raises (status 400) for anything but a JSONDecodeError.
FASTAPI_BODY_ERROR = "There was an error parsing the body"


def printable(text: object) -> str:
    # A lone surrogate from a JSON escape would make the error response itself unencodable.
    return str(text).encode("utf-8", "backslashreplace").decode("utf-8")


def status_for(exc: RagError) -> int:
    return next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)


async def rag_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RagError)
    body = ErrorBody(detail=printable(exc))
    retry = next((after for kind, after in _RETRY_AFTER if isinstance(exc, kind)), None)
    headers = {"Retry-After": retry} if retry else None
    return JSONResponse(body.model_dump(), status_code=status_for(exc), headers=headers)


def _message(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "")
        where = error["loc"][-1] if len(error["loc"]) > 1 else "?"
        return f"malformed JSON at character {where}: {reason}".rstrip(": ")
    return str(error.get("msg", "invalid value"))


def field_error(error: dict[str, Any]) -> FieldError:
    loc: Sequence[object] = error.get("loc") or ("body",)
    names = [str(part) for part in loc[1:] if isinstance(part, str)]
    return FieldError(
        field=printable(".".join(names) or loc[0]),
        location=printable(loc[0]),
        message=printable(_message(error)),
        type=printable(error.get("type", "value_error")),
    )


def _sent_json(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 naming each field. The offending input is never echoed back."""
    assert isinstance(exc, RequestValidationError)
    errors = [field_error(e) for e in exc.errors()]
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or "invalid request"
    if any(e.field == "body" for e in errors) and not _sent_json(request):
        detail += " (send the body as JSON with 'Content-Type: application/json')"
    body = ErrorBody(detail=detail, errors=errors)
    return JSONResponse(body.model_dump(), status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def _why(cause: BaseException) -> str:
    if isinstance(cause, UnicodeDecodeError):
        return "malformed JSON: the body is not valid UTF-8"
    if isinstance(cause, RecursionError):
        return "malformed JSON: nested too deeply"
    return "malformed JSON: the body cannot be parsed"


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    # FastAPI turns a body json.loads cannot even decode (bad UTF-8, absurd nesting) into a
    # bare 400; the client sent malformed JSON, which everywhere else is a 422 on the body.
    if exc.detail == FASTAPI_BODY_ERROR and isinstance(exc.__cause__, ValueError | RecursionError):
        error = FieldError(
            field="body", location="body", message=_why(exc.__cause__), type="json_invalid"
        )
        body = ErrorBody(detail=f"body: {error.message}", errors=[error])
        return JSONResponse(body.model_dump(), status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    if exc.status_code == 405 and (allowed := _allowed_methods(request)):
        exc.headers = {**(exc.headers or {}), "Allow": allowed}
    return await http_exception_handler(request, exc)


def _allowed_methods(request: Request) -> str | None:
    # Starlette names only the first route matching the path, and /search has two; the
    # OpenAPI paths know every documented method of a path.
    path = request.scope.get("path", "")
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            methods |= {method.upper() for method in operations}
    if "GET" in methods:
        methods.add("HEAD")  # Starlette answers HEAD wherever it answers GET
    return ", ".join(sorted(methods)) or None


def install(app: FastAPI) -> None:
    app.add_exception_handler(RagError, rag_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
