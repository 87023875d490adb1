"""Chat front ends' own background requests: a title, tags or follow-up suggestions for the
chat, sent to the same model as the questions.

Open WebUI sends one request per task after each answer, non-streaming, the rendered
template (``### Task: … <chat_history>USER: …\\nASSISTANT: …</chat_history>``) as the only
user message; LibreChat sends a title request (``Provide a concise, 5-word-or-less title for
the conversation … Conversation:\\nUser: …\\nAI: …``). Searching the briefs for those
prompts quotes passages where a title is wanted, so they are recognised here and answered in
the format they ask for, without retrieval. The templates were taken from the front ends'
source code; ``tests/chat/fixtures/`` keeps the request bodies and where they come from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rag.answering.titles import title_of

__all__ = ["Task", "TaskKind", "recognise", "reply", "title_of"]

TaskKind = Literal["title", "tags", "follow_ups", "other"]

# Open WebUI: every task template opens with "### Task:" and embeds the chat history.
_OWUI_HISTORY_RE = re.compile(r"<chat_history>\n?(.*?)\n?</chat_history>", re.DOTALL)
# Its history lines are "ROLE: content" (open_webui.utils.misc.get_messages_content).
_OWUI_TURN_RE = re.compile(r"^(USER|ASSISTANT|SYSTEM|TOOL|DEVELOPER): ?", re.MULTILINE)
# The JSON key a template asks for: 'JSON format: { "title": … }'.
_JSON_KEY_RE = re.compile(r'JSON format:\s*\{\s*"(\w+)"', re.IGNORECASE)
# LibreChat (@librechat/agents createCompletionTitleRunnable, both wordings seen).
_LIBRECHAT_TITLE_RE = re.compile(r"5-word-or-less title for the conversation", re.IGNORECASE)
_LIBRECHAT_USER_RE = re.compile(r"^User: (.*?)(?=^AI: |\Z)", re.MULTILINE | re.DOTALL)

_KINDS: dict[str, TaskKind] = {"title": "title", "tags": "tags", "follow_ups": "follow_ups"}


@dataclass(frozen=True)
class Task:
    """A front end's background request: what it wants, and in which format."""

    kind: TaskKind
    client: Literal["open-webui", "librechat"]
    question: str  # the first user question of the embedded history ("" when none)
    key: str | None = None  # the JSON key the reply goes under; None for plain text


def recognise(messages: Sequence[tuple[str, str]]) -> Task | None:
    """The task a request carries, from its ``(role, text)`` messages; None for a question.

    Only the last user message is read: front ends send their task prompt as that message.
    """
    prompt = next((text for role, text in reversed(messages) if role == "user"), "").strip()
    if prompt.startswith("### Task:") and (history := _OWUI_HISTORY_RE.search(prompt)):
        found = _JSON_KEY_RE.search(prompt)
        key = found.group(1) if found else None
        kind = _KINDS.get(key or "", "other")
        return Task(kind, "open-webui", _first_owui_question(history.group(1)), key)
    if _LIBRECHAT_TITLE_RE.search(prompt) and "Conversation:" in prompt:
        conversation = prompt.split("Conversation:", 1)[1]
        user = _LIBRECHAT_USER_RE.search(conversation.lstrip("\n"))
        return Task("title", "librechat", user.group(1).strip() if user else "")
    return None


def _first_owui_question(history: str) -> str:
    turns = _OWUI_TURN_RE.split(history)
    # split() with one group gives ["", role, text, role, text, …].
    for role, text in zip(turns[1::2], turns[2::2], strict=True):
        if role == "USER" and text.strip():
            return text.strip()
    return ""


def reply(task: Task) -> str:
    """The extractive reply: a title made from the question; no tags, no follow-ups (an
    extractive server has nothing to suggest that the user did not ask)."""
    if task.client == "librechat":
        return title_of(task.question)
    value: object
    if task.kind == "title":
        value = title_of(task.question)
    elif task.kind in ("tags", "follow_ups"):
        value = []
    else:
        return "{}"  # an unknown task: valid JSON, nothing in it, so the front end moves on
    return json.dumps({task.key: value}, ensure_ascii=False)
