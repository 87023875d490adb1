"""The OpenAI-compatible endpoints of a real ``rag serve`` on loopback, through the official
``openai`` client and through raw bytes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from rag.answering import NOT_FOUND
from tests.chat.helpers import FOOTNOTE_18_URL, HIGHER_ED_QUESTION

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def client(chat_server: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        base_url=f"{chat_server}/v1", api_key="x", max_retries=0, timeout=120
    ) as client:
        yield client


def ask(question: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}]


def test_models_lists_brief_rag_and_each_brief(client: openai.OpenAI) -> None:
    models = client.models.list()
    assert [m.id for m in models.data] == ["brief-rag", "brief-rag/pakistan-us-relations-2024"]
    assert models.data[0].owned_by == "brief-rag" and models.data[0].created > 1_700_000_000
    brief = models.data[1].model_dump()
    assert brief["name"].startswith("Pakistan-U.S. Relations")
    # The official client reads a per-brief model and chats with it.
    completion = client.chat.completions.create(
        model=models.data[1].id, messages=ask(HIGHER_ED_QUESTION)
    )
    assert "$19 million" in (completion.choices[0].message.content or "")


def test_the_done_means_question_non_streaming(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model="brief-rag", messages=ask(HIGHER_ED_QUESTION))
    assert completion.object == "chat.completion" and completion.model == "brief-rag"
    choice = completion.choices[0]
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    content = choice.message.content or ""
    assert "$19 million" in content and "USAID" in content and "[1]" in content
    # The citation's source carries footnote 18's URL, in the annotations and the footer.
    urls = [a.url_citation.url for a in choice.message.annotations or []]
    assert FOOTNOTE_18_URL in urls
    assert all(a.type == "url_citation" for a in choice.message.annotations or [])
    footer = content.split("\n\n**Sources**\n\n", 1)[1]
    assert footer.startswith("- [1] ") and "Footnote 18: " in footer and FOOTNOTE_18_URL in footer
    for note in choice.message.annotations or []:
        span = content[note.url_citation.start_index : note.url_citation.end_index]
        assert span.endswith(("[1]", f"<{note.url_citation.url}>")), span
    usage = completion.usage
    assert usage is not None and usage.prompt_tokens > 5 and usage.completion_tokens > 20
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_the_done_means_question_streaming(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="brief-rag",
        messages=ask(HIGHER_ED_QUESTION),
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert {c.id for c in chunks} == {chunks[0].id} and len({c.created for c in chunks}) == 1
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    *answer_chunks, usage_chunk = chunks
    assert usage_chunk.choices == [] and usage_chunk.usage is not None
    assert [c.choices[0].finish_reason for c in answer_chunks][-1] == "stop"
    assert all(c.choices[0].finish_reason is None for c in answer_chunks[:-1])
    assert answer_chunks[0].choices[0].delta.role == "assistant"
    content = "".join(c.choices[0].delta.content or "" for c in answer_chunks)
    assert "$19 million" in content and "USAID" in content
    assert usage_chunk.usage.completion_tokens > 20

    annotations = [
        note
        for c in answer_chunks
        for note in (c.choices[0].delta.model_extra or {}).get("annotations") or []
    ]
    assert FOOTNOTE_18_URL in [n["url_citation"]["url"] for n in annotations]
    for note in annotations:
        cite = note["url_citation"]
        assert content[cite["start_index"] : cite["end_index"]].endswith(("]", ">"))

    sources = [(c.model_extra or {}).get("event") for c in answer_chunks]
    sources = [s for s in sources if s]
    assert sources and all(s["type"] == "source" for s in sources)
    ids = [s["data"]["metadata"][0]["source"] for s in sources]
    assert len(ids) == len(set(ids))  # one source per passage, never collapsed
    first = sources[0]["data"]
    assert first["metadata"][0]["citation"] == 1
    assert FOOTNOTE_18_URL in [f["url"] for f in first["metadata"][0]["footnotes"]]
    assert "$19 million" in first["document"][0]


def test_sse_framing_byte_for_byte(chat_server: str) -> None:
    body = {"model": "brief-rag", "messages": ask(HIGHER_ED_QUESTION), "stream": True}
    with httpx.stream(
        "POST", f"{chat_server}/v1/chat/completions", json=body, timeout=120
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = b"".join(response.iter_bytes())
    assert raw.endswith(b"data: [DONE]\n\n")
    events = raw.split(b"\n\n")
    assert events[-1] == b""  # every event, the last one included, ends with a blank line
    events = events[:-1]
    assert all(e.startswith(b"data: ") and b"\n" not in e for e in events)
    assert events.count(b"data: [DONE]") == 1 and events[-1] == b"data: [DONE]"
    chunks = [json.loads(e[len(b"data: ") :]) for e in events[:-1]]
    assert {c["id"] for c in chunks} == {chunks[0]["id"]}
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert "usage" not in chunks[-1]  # only sent when stream_options.include_usage asks


def test_unknown_fields_are_accepted_and_ignored(chat_server: str) -> None:
    body: dict[str, Any] = {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": [{"type": "text", "text": HIGHER_ED_QUESTION}]},
        ],
        "temperature": 0.2,
        "top_p": 0.9,
        "max_tokens": 16,
        "n": 1,
        "seed": 7,
        "user": "someone",
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
        "tool_choice": "auto",
        "response_format": {"type": "text"},
        "logit_bias": {"50256": -100},
        "metadata": {"chat_id": "abc"},
    }
    response = httpx.post(f"{chat_server}/v1/chat/completions", json=body, timeout=120)
    assert response.status_code == 200, response.text
    assert "$19 million" in response.json()["choices"][0]["message"]["content"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"model": "brief-rag", "messages": []}, "messages: is empty"),
        ({"messages": [{"role": "system", "content": "Be brief."}]}, "no message with role 'user'"),
        ({"messages": [{"role": "user", "content": "   "}]}, "no user message with text"),
        ({"model": "brief-rag"}, "messages: Field required"),
        ({"messages": [{"role": "user", "content": "x" * 2001}]}, "at most 2000 characters"),
    ],
)
def test_unusable_requests_get_422_with_a_clear_message(
    chat_server: str, body: dict[str, Any], says: str
) -> None:
    response = httpx.post(f"{chat_server}/v1/chat/completions", json=body, timeout=60)
    assert response.status_code == 422
    assert says in response.json()["detail"]


def test_an_off_topic_question_gets_the_plain_not_found(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="brief-rag", messages=ask("What is the capital of France?")
    )
    message = completion.choices[0].message
    assert (message.content or "").startswith(NOT_FOUND)
    assert not message.annotations and "**Sources**" not in (message.content or "")


def test_a_follow_up_uses_the_earlier_turns(client: openai.OpenAI) -> None:
    first = client.chat.completions.create(model="brief-rag", messages=ask(HIGHER_ED_QUESTION))
    history = [
        *ask(HIGHER_ED_QUESTION),
        {"role": "assistant", "content": first.choices[0].message.content or ""},
        {"role": "user", "content": "and when was that?"},
    ]
    follow_up = client.chat.completions.create(model="brief-rag", messages=history)
    content = follow_up.choices[0].message.content or ""
    assert "May 12, 2022" in content and FOOTNOTE_18_URL in content


def test_a_follow_up_answers_the_new_question_only(client: openai.OpenAI) -> None:
    """The earlier turn is context for retrieval only: its fact is not repeated."""
    first = client.chat.completions.create(model="brief-rag", messages=ask("Who edited the brief?"))
    said = first.choices[0].message.content or ""
    assert "Neelum Nigar" in said
    history = [
        *ask("Who edited the brief?"),
        {"role": "assistant", "content": said},
        {"role": "user", "content": "and when was it published?"},
    ]
    follow_up = client.chat.completions.create(model="brief-rag", messages=history)
    content = follow_up.choices[0].message.content or ""
    assert "September 16, 2024" in content
    assert "Neelum Nigar" not in content and "edited" not in content.split("**Sources**")[0]
