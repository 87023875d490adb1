"""``POST /search`` and ``GET /search``: passages with section and footnote references.

``async`` endpoints: the question waits for the encoder on the event loop, never in a
thread (:meth:`rag.engine.Engine.asearch`); concurrent questions share encoder calls (the
server's batching encoder, ``rag.engine.for_serving``), whose bounded queue answers 503
when full.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError

from api.deps import AdmitDep, AuthDep, EngineDep, SettingsDep
from api.models import (
    AUTH_ERRORS,
    DOCUMENTS_HELP,
    EXAMPLE_QUESTION,
    INPUT_ERRORS,
    NOT_BLANK,
    QUESTION_ERRORS,
    QUESTION_HELP,
    RETRIEVER_HELP,
    SECTION_HELP,
    DocumentId,
    SearchRequest,
    SearchResponse,
    UsableText,
    error,
)
from rag.config import RetrieverName
from rag.engine import Engine
from rag.views import PassageView

router = APIRouter(
    tags=["search"],
    dependencies=[AuthDep, AdmitDep],
    responses={
        **AUTH_ERRORS,
        **QUESTION_ERRORS,
        **INPUT_ERRORS,
        404: error("No section matches the `section` filter."),
        422: error(
            "Invalid input, or a `documents` id no indexed brief has (the known ids are listed)."
        ),
    },
)


def _check_length(question: str, limit: int, loc: tuple[str, str]) -> None:
    # The limit is a setting, so it is checked here rather than frozen into the model.
    if len(question) > limit:
        raise RequestValidationError(
            [
                {
                    "type": "string_too_long",
                    "loc": loc,
                    "msg": f"must be at most {limit} characters (RAG_MAX_QUESTION_CHARS)",
                }
            ]
        )


async def run_search(
    request: Request,
    engine: Engine,
    question: str,
    *,
    k: int,
    retriever: RetrieverName | None,
    section: str | None,
    documents: list[str] | None = None,
) -> SearchResponse:
    if request.app.state.settings.log_questions:
        request.state.question = question  # read by the request log, only when asked for
    # Concurrent questions share encoder calls (the engine's batching encoder), so no lock.
    result = await engine.asearch(
        question, k=k, retriever=retriever, section=section, documents=documents
    )
    return SearchResponse(
        question=question,
        passages=[PassageView.of_hit(hit) for hit in result.hits],
        took_ms=result.took_ms,
    )


@router.post("/search", summary="Search with a JSON body", responses={413: error("Body too big.")})
async def search(
    body: SearchRequest,
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
) -> SearchResponse:
    """The passages that best answer `question`, best first, each with its section and
    the footnotes it cites."""
    _check_length(body.question, settings.max_question_chars, ("body", "question"))
    return await run_search(
        request,
        engine,
        body.question,
        k=body.top_k,
        retriever=body.retriever,
        section=body.section,
        documents=body.documents,
    )


@router.get("/search", summary="Search from a URL")
async def search_get(
    q: Annotated[
        UsableText,
        Query(
            min_length=1,
            description=QUESTION_HELP,
            examples=[EXAMPLE_QUESTION],
            json_schema_extra={"pattern": NOT_BLANK},
        ),
    ],
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    k: Annotated[int, Query(ge=1, le=50, description="Passages to return.")] = 5,
    retriever: Annotated[RetrieverName | None, Query(description=RETRIEVER_HELP)] = None,
    section: Annotated[
        UsableText | None,
        Query(
            min_length=1,
            max_length=200,
            description=SECTION_HELP,
            json_schema_extra={"pattern": NOT_BLANK},
        ),
    ] = None,
    document: Annotated[
        list[DocumentId] | None,
        Query(max_length=100, description=DOCUMENTS_HELP + " Repeat for several."),
    ] = None,
) -> SearchResponse:
    """The same search for a browser or curl: `/search?q=...&k=5&document=<id>`."""
    _check_length(q, settings.max_question_chars, ("query", "q"))
    return await run_search(
        request, engine, q, k=k, retriever=retriever, section=section, documents=document
    )
