"""Request and response models of the HTTP API (separate from the library's records).

Passages reuse :class:`rag.views.PassageView`, the shape ``rag ask --json`` prints, so a
client parses one format whichever shell it talks to.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from rag.config import RetrieverName
from rag.text import VISIBLE, has_visible_text
from rag.views import DocumentView, PassageView

if TYPE_CHECKING:
    from rag.library import BuildRecord

EXAMPLE_QUESTION = "When did the CENTCOM commander visit Pakistan?"
# The blank rule, once: the schema's pattern is the one the server applies.
NOT_BLANK = VISIBLE


def usable_text(value: str) -> str:
    # Lone surrogates never get here: pydantic rejects them as invalid Unicode.
    if not has_visible_text(value):
        raise PydanticCustomError(
            "blank_string", "must contain a visible character (not only spaces or invisible ones)"
        )
    return value


def json_integer(value: object) -> object:
    # A JSON Schema integer includes 40.0 but not true or "5"; pydantic's lax mode takes
    # all three, strict mode none of the floats.
    if isinstance(value, bool | str):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


UsableText = Annotated[str, AfterValidator(usable_text)]
JsonInt = Annotated[int, BeforeValidator(json_integer)]

QUESTION_HELP = (
    "A question about the briefs. At most RAG_MAX_QUESTION_CHARS characters (2,000 by "
    "default); blank questions are rejected."
)
SECTION_HELP = (
    "Only passages of this section: a title or any part of its path, case-insensitive "
    "(see GET /sections)."
)
DOCUMENTS_HELP = (
    "Only passages of these briefs: their ids, as `GET /documents` lists them (default: every "
    "brief). An unknown id is a 422 that lists the known ones."
)
# A document id as the indexer makes it (a slug of the file name).
DocumentId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[a-z0-9][a-z0-9-]*$")]
RETRIEVER_HELP = "hybrid (dense + BM25 + footnotes), dense or bm25; default RAG_RETRIEVER."


class SearchRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"question": EXAMPLE_QUESTION},
                {"question": "Which exercises did U.S. and Pakistani forces hold?", "top_k": 3},
                {
                    "question": "joint military exercises",
                    "top_k": 2,
                    "retriever": "bm25",
                    "section": "Security Cooperation",
                },
            ]
        },
    )

    question: UsableText = Field(
        min_length=1,
        description=QUESTION_HELP,
        examples=[EXAMPLE_QUESTION],
        json_schema_extra={"pattern": NOT_BLANK},
    )
    top_k: JsonInt = Field(default=5, ge=1, le=50, description="Passages to return.")
    retriever: RetrieverName | None = Field(default=None, description=RETRIEVER_HELP)
    section: UsableText | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description=SECTION_HELP,
        examples=["Security Cooperation"],
        json_schema_extra={"pattern": NOT_BLANK},
    )
    documents: list[DocumentId] | None = Field(
        default=None,
        max_length=100,
        description=DOCUMENTS_HELP,
        examples=[["pakistan-us-relations-2024"]],
    )


class SearchResponse(BaseModel):
    question: str
    passages: list[PassageView]
    took_ms: float = Field(description="Time spent retrieving, in milliseconds.")


class SectionNode(BaseModel):
    title: str
    path: list[str]
    passages: int = Field(description="Passages cut from this section itself.")
    passages_with_subsections: int
    children: list[SectionNode] = Field(default_factory=list)


class DocumentSections(BaseModel):
    id: str
    title: str
    passages: int
    sections: list[SectionNode]


class SectionsResponse(BaseModel):
    documents: list[DocumentSections]


class FootnoteOut(BaseModel):
    document: DocumentView
    number: int
    citation: str
    url: str | None = None
    title: str | None = None
    publisher: str | None = None
    date: str | None = Field(default=None, description="ISO date when parseable.")
    passages: list[str] = Field(description="Ids of the passages that cite this footnote.")


class FootnotesResponse(BaseModel):
    footnotes: list[FootnoteOut]


class HealthResponse(BaseModel):
    status: Literal["ok"] = "ok"


class ReadyResponse(BaseModel):
    status: Literal["ready"] = "ready"
    version: str
    model: str
    documents: int
    passages: int
    built_at: str = Field(description="When the index was built (ISO 8601, UTC).")


class FieldError(BaseModel):
    field: str = Field(description="The offending field, parameter or 'body'.")
    location: str = Field(description="body, query, path or header.")
    message: str
    type: str


class ErrorBody(BaseModel):
    detail: str
    errors: list[FieldError] = Field(
        default_factory=list, description="One entry per invalid field (422 only)."
    )


def error(description: str) -> dict[str, object]:
    """An OpenAPI ``responses`` entry for an error answered with :class:`ErrorBody`."""
    return {"model": ErrorBody, "description": description}


AUTH_ERRORS: dict[int | str, dict[str, object]] = {
    401: error("API key missing or wrong (only when RAG_API_KEY is set)."),
    503: error("The index or model is not loaded yet, or unusable."),
}
QUESTION_ERRORS: dict[int | str, dict[str, object]] = {
    503: error(
        "Not loaded yet or unusable; or too many questions in flight (RAG_ENCODE_QUEUE): "
        "then with `Retry-After: 1`."
    ),
    504: error("The request did not finish within RAG_DEADLINE_S."),
}
INPUT_ERRORS: dict[int | str, dict[str, object]] = {
    422: error("Invalid input; `errors` names each field."),
}


class BuildView(BaseModel):
    """A library build (an upload or a removal) as `GET /builds/{id}` reports it."""

    id: str = Field(description="Random and opaque; kept by the server for its last 200 builds.")
    status: Literal["queued", "running", "succeeded", "failed"]
    action: Literal["add", "remove"] = Field(description="add also replaces a brief of that id.")
    document: str = Field(description="The id of the brief added, replaced or removed.")
    added: list[str] = Field(default_factory=list, description="Ids new to the library.")
    replaced: list[str] = Field(default_factory=list, description="Ids whose brief changed.")
    removed: list[str] = Field(default_factory=list, description="Ids no longer in it.")
    unchanged: bool = Field(
        default=False, description="The library already had these bytes: nothing was built."
    )
    documents: int | None = Field(default=None, description="Briefs in the library after it.")
    passages: int | None = Field(default=None, description="Passages in the library after it.")
    queued_at: str = Field(description="ISO 8601, UTC.")
    started_at: str | None = None
    finished_at: str | None = None
    queued_seconds: float | None = Field(default=None, description="Time spent waiting.")
    build_seconds: float | None = Field(default=None, description="Time spent building.")
    error: str | None = Field(
        default=None, description="Why it failed, in one line; the served index is unchanged."
    )
    warnings: list[str] = Field(
        default_factory=list, description="What reading the brief warned of (skipped content)."
    )
    notes: list[str] = Field(
        default_factory=list,
        description="How the brief was read where it was ambiguous (a Markdown first heading "
        "read as the title or as a section).",
    )

    @classmethod
    def of(cls, record: BuildRecord) -> BuildView:
        outcome = record.outcome
        # The brief's own: the library's other briefs were reported when they were built.
        own = f"{record.document}."
        return cls(
            id=record.id,
            status=record.status,
            action=record.action,
            document=record.document,
            added=list(outcome.added) if outcome else [],
            replaced=list(outcome.replaced) if outcome else [],
            removed=list(outcome.removed) if outcome else [],
            unchanged=outcome is not None and not outcome.changed,
            documents=outcome.documents if outcome else None,
            passages=outcome.passages if outcome else None,
            queued_at=record.queued_at.isoformat(timespec="milliseconds"),
            started_at=_iso(record.started_at),
            finished_at=_iso(record.finished_at),
            queued_seconds=record.queued_seconds,
            build_seconds=record.build_seconds,
            error=record.error,
            warnings=[w for w in (outcome.warnings if outcome else ()) if w.startswith(own)],
            notes=[n for n in (outcome.notes if outcome else ()) if n.startswith(own)],
        )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="milliseconds") if moment else None
