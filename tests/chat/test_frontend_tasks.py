"""Chat front ends' own requests, replayed from the bodies Open WebUI 0.12.4 really sent (and
the LibreChat title request rebuilt from its source): recognised, answered in the format they
ask for, without retrieval and without an error. ``fixtures/`` says where each body comes from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from rag.answering.tasks import Task, recognise, reply, title_of
from rag.config import Settings
from rag.engine import Engine
from tests.chat.helpers import HIGHER_ED_QUESTION

FIXTURES = Path(__file__).parent / "fixtures"
TASKS = {
    "openwebui-title.json": ("title", "open-webui"),
    "openwebui-tags.json": ("tags", "open-webui"),
    "openwebui-follow-ups.json": ("follow_ups", "open-webui"),
    "openwebui-follow-ups-second-turn.json": ("follow_ups", "open-webui"),
    "librechat-title.json": ("title", "librechat"),
}
QUESTIONS = ["openwebui-chat.json", "openwebui-chat-follow-up.json"]


def fixture(name: str) -> dict[str, Any]:
    recorded: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return recorded


def pairs(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in body["messages"]]


def test_every_fixture_says_where_it_comes_from() -> None:
    for path in FIXTURES.glob("*.json"):
        recorded = json.loads(path.read_text(encoding="utf-8"))
        assert recorded["_source"] and recorded["body"]["messages"], path.name
        assert "authorization" not in {h.lower() for h in recorded["headers"]}, path.name
    assert {p.name for p in FIXTURES.glob("*.json")} == {*TASKS, *QUESTIONS}


@pytest.mark.parametrize(("name", "expected"), TASKS.items())
def test_the_real_task_requests_are_recognised(name: str, expected: tuple[str, str]) -> None:
    task = recognise(pairs(fixture(name)["body"]))
    assert task is not None
    assert (task.kind, task.client) == expected
    # Every recorded task is about the higher-education question, asked first in its chat.
    assert task.question == HIGHER_ED_QUESTION or task.question.startswith("Which negotiations")


@pytest.mark.parametrize("name", QUESTIONS)
def test_real_questions_are_not_tasks(name: str) -> None:
    assert recognise(pairs(fixture(name)["body"])) is None


@pytest.mark.parametrize(
    "text",
    [
        "### Task: tell me what the brief says about trade",  # no embedded chat history
        "What title does the author hold?",
        "Provide a concise title for the brief's second section",
    ],
)
def test_questions_that_look_like_tasks_are_still_questions(text: str) -> None:
    assert recognise([("user", text)]) is None


def test_only_the_last_user_message_can_be_a_task() -> None:
    title = fixture("openwebui-title.json")["body"]["messages"][0]["content"]
    assert recognise([("user", title), ("assistant", "{}"), ("user", "Who edited it?")]) is None
    assert recognise([("system", title), ("user", "Who edited it?")]) is None


@pytest.mark.parametrize(
    ("question", "title"),
    [
        (HIGHER_ED_QUESTION, "U.S. Commitment to Higher Education"),
        (
            "Summarise what the brief says about U.S. funding for higher education",
            "U.S. Funding for Higher Education",
        ),
        (
            "Which negotiations did Islamabad help broker, and what did they eventually lead to?",
            "Negotiations Brokered by Islamabad",
        ),
        ("Which talks did Islamabad broker, and why?", "Talks Brokered by Islamabad"),
        ("When did the CENTCOM commander visit Pakistan?", "CENTCOM Commander Visit to Pakistan"),
        ("Who edited the brief?", "Editor of the Brief"),
        ("Who wrote the brief?", "Author of the Brief"),
        ("and how large is bilateral trade?", "Size of Bilateral Trade"),
        ("Tell me about the Strategic Dialogue", "Overview of the Strategic Dialogue"),
        ("What does the brief recommend for the future?", "Recommendations for the Future"),
        ("How has the U.S. invested in Pakistan?", "U.S. Investment in Pakistan"),
        ("Did the U.S. sell F-16 fighter jets to Pakistan?", "Sale of F-16 Fighter Jets"),
        (
            "What is Pakistan's formal alliance status with the US?",
            "Pakistan's Formal Alliance Status",
        ),
        ("What role did Pakistan play in the War on Terror?", "Role in War on Terror"),
        (
            "What is the history of the relationship between the two countries since 1947?",
            "History of the Relationship",
        ),
        ("Why?", "Question About the Briefs"),
        ("", "Question About the Briefs"),
    ],
)
def test_titles_are_noun_phrases_of_the_questions_topic(question: str, title: str) -> None:
    assert title_of(question) == title


QUESTIONS_FOR_TITLES = [
    HIGHER_ED_QUESTION,
    "Which negotiations did Islamabad help broker, and what did they eventually lead to?",
    "Summarise what the brief says about U.S. funding for higher education",
    "What is the history of the relationship between the two countries since 1947?",
    "Which bilateral military exercises did the two countries hold in 2024 and where?",
    "Can you please explain how the U.S.-China competition affects Pakistan?",
    "What does the brief recommend the U.S. should do about Pakistan's security concerns?",
    "hello",
]


@pytest.mark.parametrize("question", QUESTIONS_FOR_TITLES)
def test_a_title_has_three_to_five_words_and_no_question_or_request_words(question: str) -> None:
    words = title_of(question).split()
    assert 3 <= len(words) <= 5, words
    assert words[-1].lower() not in {"of", "the", "between", "and", "to", "for", "in"}
    opening = {"what", "which", "who", "when", "did", "does", "summarise", "tell", "explain"}
    assert not {w.lower() for w in words} & (opening | {"did", "help", "says"}), words


def test_replies_are_the_json_each_task_asks_for() -> None:
    title = Task("title", "open-webui", HIGHER_ED_QUESTION, "title")
    assert json.loads(reply(title)) == {"title": "U.S. Commitment to Higher Education"}
    assert json.loads(reply(Task("tags", "open-webui", "x", "tags"))) == {"tags": []}
    follow = Task("follow_ups", "open-webui", "x", "follow_ups")
    assert json.loads(reply(follow)) == {"follow_ups": []}
    assert json.loads(reply(Task("other", "open-webui", "x", "queries"))) == {}
    assert reply(Task("title", "librechat", HIGHER_ED_QUESTION)) == title_of(HIGHER_ED_QUESTION)


# ------------------------------------------------------------- replayed against the real app


@pytest.fixture(scope="module")
def http(real_engine: Engine) -> TestClient:
    # Pinned: max_question_chars is the default the 422 came from.
    settings = Settings(llm_base_url=None, max_question_chars=2000, api_key=None)
    return TestClient(create_app(settings, engine=real_engine))


def replay(http: TestClient, name: str, **changes: Any) -> Any:
    recorded = fixture(name)
    response = http.post(
        "/v1/chat/completions",
        json={**recorded["body"], **changes},
        headers=recorded["headers"],
    )
    assert response.status_code == 200, response.text
    return response


@pytest.mark.model
def test_open_webui_tasks_get_the_json_they_ask_for(http: TestClient) -> None:
    def content(name: str) -> Any:
        body = replay(http, name).json()
        message = body["choices"][0]["message"]
        assert message["annotations"] == []  # nothing was retrieved, nothing is cited
        return json.loads(message["content"])

    assert content("openwebui-title.json") == {"title": title_of(HIGHER_ED_QUESTION)}
    assert content("openwebui-tags.json") == {"tags": []}
    assert content("openwebui-follow-ups.json") == {"follow_ups": []}
    assert content("openwebui-follow-ups-second-turn.json") == {"follow_ups": []}


@pytest.mark.model
def test_librechat_gets_a_plain_title_streamed_or_not(http: TestClient) -> None:
    plain = replay(http, "librechat-title.json").json()["choices"][0]["message"]["content"]
    prompt = fixture("librechat-title.json")["body"]["messages"][0]["content"]
    question = prompt.split("\nUser: ", 1)[1].split("\nAI: ", 1)[0]
    assert plain == title_of(question) == "Negotiations Brokered by Islamabad"
    streamed = replay(http, "librechat-title.json", stream=True).text
    deltas = [
        json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
        for line in streamed.splitlines()
        if line.startswith("data: {")
    ]
    assert "".join(deltas) == plain
    assert '"event"' not in streamed  # no source events for a task


@pytest.mark.model
def test_a_task_prompt_over_the_question_limit_is_not_a_422(http: TestClient) -> None:
    """The issue's 422: a follow-up task whose history holds a long answer."""
    body = fixture("openwebui-follow-ups.json")["body"]
    prompt = body["messages"][0]["content"]
    answer = prompt.split("ASSISTANT: ", 1)[1].split("\n</chat_history>", 1)[0]
    long = prompt.replace(answer, " ".join([answer] * 12))
    assert len(long) > 2000
    response = http.post(
        "/v1/chat/completions", json={**body, "messages": [{"role": "user", "content": long}]}
    )
    assert response.status_code == 200, response.text
    assert json.loads(response.json()["choices"][0]["message"]["content"]) == {"follow_ups": []}
    # The same length as a question is still refused, with the message that says why.
    question = http.post(
        "/v1/chat/completions", json={"messages": [{"role": "user", "content": "x " * 1001}]}
    )
    assert question.status_code == 422 and "at most 2000 characters" in question.text
