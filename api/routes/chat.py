"""OpenAI-compatible endpoints: ``GET /v1/models`` and ``POST /v1/chat/completions``.

The last user message is the question. The answer comes from the library's answer service
(:class:`rag.answering.Answerer`): extractive by default, generated with
``RAG_LLM_BASE_URL`` set. This module only translates its events into OpenAI's wire
format: ``chat.completion`` objects, or Server-Sent ``chat.completion.chunk`` events with
one Open WebUI ``source`` event per citable passage first.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse

from api.chat_models import (
    MODEL_ID,
    Annotation,
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    Choice,
    ChunkChoice,
    Delta,
    ModelCard,
    ModelList,
    UrlCitation,
    Usage,
)
from api.deps import AdmitDep, AnswererDep, AuthDep, SettingsDep
from api.errors import status_for
from api.models import AUTH_ERRORS, INPUT_ERRORS, QUESTION_ERRORS, error
from rag.answering import (
    Answer,
    Citation,
    Done,
    Event,
    Sources,
    Text,
    UrlAnnotation,
)
from rag.answering.frontends import wants_footer
from rag.answering.render import escape, source_names
from rag.answering.tasks import recognise
from rag.chunking.tokens import count_tokens
from rag.config import Settings
from rag.errors import DeadlineExceeded, GeneratorError

router = APIRouter(prefix="/v1", tags=["chat"], dependencies=[AuthDep], responses=AUTH_ERRORS)

STARTED = int(time.time())
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
# OpenAPI 3.1 reads the schema of an event stream as the schema of each event.
STREAM_DOC = {
    "schema": {
        "type": "object",
        "description": "With `stream: true`: Server-Sent Events, each a `data:` line holding "
        "one `chat.completion.chunk` as JSON; the last is `data: [DONE]`.",
        "properties": {"data": {"type": "string"}},
        "required": ["data"],
    }
}


@router.get("/models", summary="The models this server answers as: the library, and each brief")
def list_models(request: Request) -> ModelList:
    """`brief-rag` (every brief) and `brief-rag/<id>` for each brief, titled, so a chat
    front end's model menu chooses the brief."""
    cards = [ModelCard(created=STARTED, name="brief-rag (all briefs)")]
    engine = getattr(request.app.state, "engine", None)
    if engine is not None:
        for doc in engine.snapshot().handle.documents.values():
            cards.append(
                ModelCard(
                    id=f"{MODEL_ID}/{doc.id}",
                    created=STARTED,
                    name=doc.title,
                    metadata={"document": doc.id, "title": doc.title},
                )
            )
    return ModelList(data=cards)


def scope_of(model: str) -> list[str] | None:
    """The briefs a chat model answers from: `brief-rag/<id>` that one, anything else all."""
    prefix = MODEL_ID + "/"
    return [model.removeprefix(prefix)] if model.startswith(prefix) else None


@dataclass(frozen=True)
class Reply:
    """What every chunk of one completion shares."""

    id: str
    created: int
    prompt_tokens: int
    tokenizer: str

    def usage(self, content: str) -> Usage:
        done = count_tokens(content, self.tokenizer)
        return Usage(
            prompt_tokens=self.prompt_tokens,
            completion_tokens=done,
            total_tokens=self.prompt_tokens + done,
        )

    def chunk(self, delta: Delta | None = None, **fields: Any) -> ChatCompletionChunk:
        choice = ChunkChoice(delta=delta or Delta(), finish_reason=fields.pop("finish", None))
        return ChatCompletionChunk(id=self.id, created=self.created, choices=[choice], **fields)


def _check_length(question: str, limit: int) -> None:
    if len(question) > limit:
        raise RequestValidationError(
            [
                {
                    "type": "string_too_long",
                    "loc": ("body", "messages"),
                    "msg": f"the last user message must be at most {limit} characters "
                    "(RAG_MAX_QUESTION_CHARS)",
                }
            ]
        )


def _annotations(spans: Sequence[UrlAnnotation]) -> list[Annotation]:
    return [
        Annotation(
            url_citation=UrlCitation(url=s.url, title=s.title, start_index=s.start, end_index=s.end)
        )
        for s in spans
    ]


def completion(reply: Reply, answer: Answer) -> ChatCompletion:
    message = AssistantMessage(content=answer.text, annotations=_annotations(answer.annotations))
    return ChatCompletion(
        id=reply.id,
        created=reply.created,
        choices=[Choice(message=message)],
        usage=reply.usage(answer.text),
    )


def source_event(citation: Citation, name: str | None = None) -> dict[str, Any]:
    """An Open WebUI ``source`` event for one passage. ``metadata.source`` is unique per
    passage: Open WebUI groups sources by it, and numbers them in arrival order for ``[n]``.
    The name is short, unnumbered (Open WebUI numbers its list itself) and distinct among
    the answer's sources (``name``, from :func:`rag.answering.render.source_names`); the
    section path and the document title head the passage text its source window shows."""
    name = name or citation.name
    passage = citation.passage
    where = citation.label
    if passage.document.title:
        where = f"{where} — {passage.document.title}"
    metadata: dict[str, Any] = {
        "source": citation.source_id,
        "name": name,
        "citation": citation.number,
        "passage_id": passage.id,
        "document": {"id": passage.document.id, "title": passage.document.title},
        "section": {"title": passage.section.title, "path": list(passage.section.path)},
        "pages": list(passage.pages),  # 1-based, as printed; empty for text briefs
        "footnotes": [
            {"number": f.number, "citation": f.citation, "url": f.url, "title": f.title}
            for f in citation.footnotes
        ],
    }
    if passage.pages:
        # Open WebUI counts pages from 0 (its PDF loader's habit) and shows "page {page + 1}".
        metadata["page"] = passage.pages[0] - 1
    # Open WebUI shows only the name and this text in its source window, as Markdown: the
    # heading is escaped like any quote; text_start says where the passage itself begins.
    heading = f"*{escape(where)}*\n\n"
    metadata["text_start"] = len(heading)
    data: dict[str, Any] = {
        "source": {"id": citation.source_id, "name": name},
        "document": [heading + passage.text],
        "metadata": [metadata],
    }
    if citation.hit.dense_score is not None:
        data["distances"] = [citation.hit.dense_score]
    return {"type": "source", "data": data}


def _frame(reply: Reply, event: Event) -> Iterator[str]:
    if isinstance(event, Sources):
        yield reply.chunk(Delta(role="assistant", content="")).sse()
        names = source_names(event.citations)
        for citation, name in zip(event.citations, names, strict=True):
            yield reply.chunk(event=source_event(citation, name)).sse()
    elif isinstance(event, Text):
        notes = _annotations(event.annotations)
        yield reply.chunk(Delta(content=event.text, annotations=notes or None)).sse()


def _closing(reply: Reply, content: str, include_usage: bool) -> Iterator[str]:
    yield reply.chunk(finish="stop").sse()
    if include_usage:
        usage = reply.usage(content)
        yield ChatCompletionChunk(id=reply.id, created=reply.created, usage=usage).sse()
    yield "data: [DONE]\n\n"


async def stream_frames(
    reply: Reply, first: Event, events: AsyncGenerator[Event, None], include_usage: bool
) -> AsyncIterator[str]:
    """The answer's events as SSE frames; a failure after the headers went out ends the
    stream with an error event, the way OpenAI's streams report one."""
    try:
        for frame in _frame(reply, first):
            yield frame
        async for event in events:
            if isinstance(event, Done):
                for frame in _closing(reply, event.answer.text, include_usage):
                    yield frame
                return
            for frame in _frame(reply, event):
                yield frame
    except (GeneratorError, DeadlineExceeded) as exc:
        yield f"data: {_error_json(str(exc), status_for(exc))}\n\n"
        yield "data: [DONE]\n\n"
    finally:
        await events.aclose()  # also when the client goes away mid-answer


def _error_json(message: str, code: int) -> str:
    import json

    return json.dumps({"error": {"message": message, "type": "server_error", "code": code}})


def _streaming(frames: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(frames, media_type="text/event-stream", headers=SSE_HEADERS)


def _new_reply(body: ChatCompletionRequest, settings: Settings) -> Reply:
    prompt = "\n".join(m.text for m in body.messages)
    return Reply(
        id=f"chatcmpl-{uuid.uuid4().hex}",
        created=int(time.time()),
        prompt_tokens=count_tokens(prompt, settings.tokenizer),
        tokenizer=settings.tokenizer,
    )


@router.post(
    "/chat/completions",
    summary="Answer the last user message, with cited passages",
    response_model=ChatCompletion,
    dependencies=[AdmitDep],
    responses={
        200: {"content": {"text/event-stream": STREAM_DOC}},
        **QUESTION_ERRORS,
        **INPUT_ERRORS,
        413: error("Body too big."),
        502: error("The answer server (RAG_LLM_BASE_URL) failed; generative mode only."),
    },
)
async def chat_completions(
    body: ChatCompletionRequest,
    answerer: AnswererDep,
    settings: SettingsDep,
    request: Request,
) -> Any:
    """OpenAI-compatible chat completion. Unknown fields (temperature, tools, …) are
    ignored; `stream` and `stream_options.include_usage` are honoured."""
    turns = body.user_turns
    task = recognise([(m.role, m.text) for m in body.messages])
    if task is not None:
        # A front end's own request (chat title, tags, follow-ups): no retrieval, and no
        # question-length limit, since the prompt is the front end's, not the user's.
        sent = [{"role": m.role, "content": m.text} for m in body.messages]
        events = answerer.perform(task, sent)
    else:
        _check_length(turns[-1], settings.max_question_chars)
        if settings.log_questions:
            request.state.question = turns[-1]  # read by the request log, only when asked for
        answerer = answerer.scoped(scope_of(body.model))
        findings = await answerer.afind(turns[-1], turns[:-1])
        footer = wants_footer(settings.sources_footer, body.stream, request.headers)
        events = answerer.stream(findings, footer)
    reply = _new_reply(body, settings)
    # The first event waits for a generator's first words: an unreachable answer server is
    # a clean 502 (GeneratorError), not a broken stream.
    first = await anext(events)
    if body.stream:
        return _streaming(stream_frames(reply, first, events, body.include_usage))
    try:
        async for event in events:
            if isinstance(event, Done):
                return completion(reply, event.answer)
    finally:
        await events.aclose()
    raise AssertionError("an answer stream always ends with Done")  # pragma: no cover
