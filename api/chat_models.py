"""OpenAI chat-completions shapes: the request we accept and the objects we send back.

Requests ignore fields they do not use (``temperature``, ``max_tokens``, ``tools``, …) instead
of rejecting them: chat front ends send them all the time. Responses follow OpenAI's
``chat.completion`` and ``chat.completion.chunk`` objects, with ``url_citation`` annotations.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, field_validator
from pydantic_core import PydanticCustomError

from rag.text import VISIBLE, has_visible_text

MODEL_ID = "brief-rag"
EXAMPLE_QUESTION = "What did the U.S. commit to higher education in Pakistan?"


NOT_BLANK = VISIBLE  # the blank rule the validator below applies (rag.text)
# What the validator below insists on, said in JSON Schema so clients and fuzzers know it:
# at least one user message with some text, as a string or as a text part. The maxLength
# is the default of RAG_MAX_QUESTION_CHARS; the server writes its own limit in at runtime.
HAS_QUESTION: dict[str, Any] = {
    "type": "object",
    "required": ["role", "content"],
    "properties": {
        "role": {"const": "user"},
        "content": {
            "anyOf": [
                {"type": "string", "pattern": NOT_BLANK, "maxLength": 2000},
                {
                    "type": "array",
                    "contains": {
                        "type": "object",
                        "required": ["type", "text"],
                        "properties": {
                            "type": {"const": "text"},
                            "text": {"type": "string", "pattern": NOT_BLANK, "maxLength": 2000},
                        },
                    },
                },
            ]
        },
    },
}


class Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


def _unicode(value: str) -> str:
    # JSON may escape a lone surrogate ("\udfff"); no tokenizer can read one, so it is a 422
    # here, as /search answers, instead of a failure deep in the encoder.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError(
            "string_unicode", "is not valid Unicode (a lone surrogate); send UTF-8 text"
        ) from None
    return value


MessageText = Annotated[str, AfterValidator(_unicode)]


class ContentPart(Lenient):
    """One part of a multi-part message; only ``text`` parts carry a question."""

    type: str = Field(description="Only `text` parts are read.")
    text: MessageText | None = None


class ChatMessage(Lenient):
    role: str = Field(description="system, developer, user, assistant or tool.")
    content: MessageText | list[ContentPart] | None = None

    @property
    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text for p in self.content if p.type == "text" and p.text)
        return self.content or ""


class StreamOptions(Lenient):
    include_usage: StrictBool = False


class ChatCompletionRequest(Lenient):
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {"model": MODEL_ID, "messages": [{"role": "user", "content": EXAMPLE_QUESTION}]},
                {
                    "model": MODEL_ID,
                    "stream": True,
                    "stream_options": {"include_usage": True},
                    "messages": [
                        {"role": "user", "content": EXAMPLE_QUESTION},
                        {"role": "assistant", "content": "…"},
                        {"role": "user", "content": "And when was that announced?"},
                    ],
                },
            ]
        },
    )

    model: str = Field(
        default=MODEL_ID,
        description=f"`{MODEL_ID}/<id>` answers from that brief alone (ids as `GET /v1/models` "
        "or `GET /documents` list them); any other value answers from every brief.",
    )
    messages: list[ChatMessage] = Field(
        description="The conversation; the last user message with text is the question "
        "(at most RAG_MAX_QUESTION_CHARS characters, 2,000 by default).",
        json_schema_extra={"minItems": 1, "contains": HAS_QUESTION},
    )
    # Strict: a JSON schema boolean is true or false, not 0 or "yes".
    stream: StrictBool = False
    stream_options: StreamOptions | None = None

    @field_validator("messages")
    @classmethod
    def _has_question(cls, messages: list[ChatMessage]) -> list[ChatMessage]:
        if not messages:
            raise PydanticCustomError(
                "no_messages",
                "is empty: send at least one {'role': 'user', 'content': '<question>'}",
            )
        users = [m for m in messages if m.role == "user"]
        if not users:
            raise PydanticCustomError(
                "no_user_message",
                "has no message with role 'user': the last user message is the question",
            )
        if not any(has_visible_text(m.text) for m in users):
            raise PydanticCustomError(
                "blank_question", "has no user message with text: ask something about the brief"
            )
        return messages

    @property
    def user_turns(self) -> list[str]:
        """Text of the user messages that have any, oldest first: the last is the question."""
        return [
            text
            for m in self.messages
            if m.role == "user"
            if has_visible_text(text := m.text.strip())
        ]

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)


# --------------------------------------------------------------------------- responses


class UrlCitation(BaseModel):
    url: str
    title: str
    start_index: int
    end_index: int


class Annotation(BaseModel):
    type: Literal["url_citation"] = "url_citation"
    url_citation: UrlCitation


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    refusal: str | None = None
    annotations: list[Annotation] = Field(default_factory=list)


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    logprobs: None = None
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int = Field(description="Unix time in seconds.")
    model: str = MODEL_ID
    choices: list[Choice]
    usage: Usage


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None
    annotations: list[Annotation] | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta = Field(default_factory=Delta)
    logprobs: None = None
    finish_reason: Literal["stop"] | None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str = MODEL_ID
    choices: list[ChunkChoice] = Field(default_factory=list)
    usage: Usage | None = None
    # Open WebUI reads a top-level "event" from the stream and emits it to its UI; a source
    # event there becomes one numbered citation.
    event: dict[str, Any] | None = None

    def sse(self) -> str:
        """One Server-Sent Event. Empty fields are dropped, except ``finish_reason``, which
        OpenAI sends as null until the last chunk."""
        data = self.model_dump(exclude_none=True)
        for choice in data["choices"]:
            choice.setdefault("finish_reason", None)
        return f"data: {_json(data)}\n\n"


class ModelCard(BaseModel):
    """One model of `GET /v1/models`: `brief-rag` answers from every brief, and
    `brief-rag/<id>` from that brief alone (a front end's model menu picks a brief)."""

    id: str = MODEL_ID
    object: Literal["model"] = "model"
    created: int
    owned_by: str = MODEL_ID
    name: str | None = Field(default=None, description="What a front end's menu shows.")
    metadata: dict[str, str] | None = Field(
        default=None, description="For `brief-rag/<id>`: the brief's `document` id and `title`."
    )


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


def _json(data: object) -> str:
    import json

    # Compact, and UTF-8 as is: SSE is UTF-8 text, escaping every non-ASCII char only bloats.
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
