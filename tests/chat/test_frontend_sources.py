"""What a chat front end shows of the sources: one numbered, distinct chip per passage, one
list of sources (no Markdown footer where Open WebUI lists them), and the footnote's date or
publisher when a question asks when or who published. Replayed with Open WebUI's real
request bodies and headers (``fixtures/``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from rag.answering import Answerer
from rag.answering.frontends import lists_sources, wants_footer
from rag.answering.provenance import as_written, asked, note_text
from rag.answering.records import NAME_WIDTH, Citation
from rag.answering.render import source_names
from rag.config import Settings
from rag.engine import Engine
from rag.records import DocumentRef, Footnote, Hit, Passage, SectionRef, Span
from tests.chat.helpers import FOOTNOTE_18_URL, HIGHER_ED_QUESTION
from tests.chat.test_frontend_tasks import fixture

OPEN_WEBUI = fixture("openwebui-chat.json")["headers"]
SDK = {"user-agent": "OpenAI/Python 2.8.1", "content-type": "application/json"}
THREE_SOURCES = (
    "Which negotiations did Islamabad help broker, and what did they eventually lead to?"
)


def citation(number: int, title: str, path: tuple[str, ...] = ()) -> Citation:
    passage = Passage(
        id=f"d-{number}",
        document=DocumentRef(id="d", title="A Brief With a Long Title That Would Be Cut"),
        text="Text.",
        section=SectionRef(title=title, path=path or (title,)),
        span=Span(start=0, end=5),
        tokens=2,
        ordinal=number,
    )
    return Citation(number, Hit(passage=passage, rank=number, score=1.0))


def test_source_names_are_short_unnumbered_and_cut_at_a_word() -> None:
    # Open WebUI numbers its list of sources itself: "1 Security Cooperation", not
    # "1 [1] Security Cooperation".
    assert citation(2, "Security Cooperation", ("Current Pace", "Security Cooperation")).name == (
        "Security Cooperation"
    )
    long = citation(3, "Economic and Trade Cooperation Between the Two").name
    assert long == "Economic and Trade…" and len(long) <= NAME_WIDTH
    unbroken = citation(12, "Counterterrorismcooperationframeworkofthetwo").name
    assert unbroken.startswith("Counterterror") and len(unbroken) == NAME_WIDTH


def passage_citation(number: int, title: str, text: str) -> Citation:
    plain = citation(number, title)
    return Citation(
        number, Hit(passage=plain.passage.model_copy(update={"text": text}), rank=number, score=1.0)
    )


def test_two_sources_of_one_section_get_distinct_names() -> None:
    cited = [
        passage_citation(1, "Introduction", "Second, Pakistan helped the U.S. reverse it.²"),
        passage_citation(2, "Regional and Global Front", "On the global front, a rivalry."),
        passage_citation(3, "Introduction", "Over several decades, the relationship grew."),
    ]
    names = source_names(cited)
    assert names == (
        "Introduction: Pakistan helped…",
        "Regional and Global Front",
        "Introduction: Over several…",
    )
    assert all(len(n) <= NAME_WIDTH and not n.startswith("[") for n in names)
    # Passages that open alike are still told apart.
    same = [passage_citation(n, "Introduction", "The same opening words here.") for n in (1, 2)]
    assert len(set(source_names(same))) == 2


def test_open_webui_is_recognised_by_its_client_or_its_forwarded_headers() -> None:
    assert lists_sources(OPEN_WEBUI)  # the real headers: aiohttp's User-Agent
    assert lists_sources({"User-Agent": "curl/8", "X-OpenWebUI-Chat-Id": "c1"})
    for agent in ("OpenAI/Python 2.8.1", "OpenAI/JS 5.23.2", "curl/8.5.0", "Mozilla/5.0"):
        assert not lists_sources({"user-agent": agent})
    assert not lists_sources({})


def test_the_footer_setting() -> None:
    assert not wants_footer("auto", True, OPEN_WEBUI)
    assert wants_footer("auto", False, OPEN_WEBUI)  # no source events without streaming
    assert wants_footer("auto", True, SDK)
    assert wants_footer("always", True, OPEN_WEBUI)
    assert not wants_footer("never", False, SDK)


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("and when was that?", {"when"}),
        ("What year did the talks start?", {"when"}),
        ("Who published the figure on trade?", {"who"}),
        ("Where does the $19 million figure come from?", {"who"}),
        ("Which source reports the exercises, and when?", {"who", "when"}),
        ("What did the U.S. commit to higher education in Pakistan?", set()),
        ("Which agency's programs deliver the initiative?", set()),
    ],
)
def test_what_a_question_asks_of_a_footnote(question: str, kinds: set[str]) -> None:
    assert asked(question) == kinds


def test_footnote_notes_read_like_the_citation() -> None:
    note = Footnote(
        number=18, citation="…", publisher="U.S. Embassy & Consulate in Pakistan", date="2022-05-12"
    )
    assert note_text(note) == "footnote 18: U.S. Embassy & Consulate in Pakistan, May 12, 2022"
    assert as_written("Winter 1991") == "Winter 1991"
    assert note_text(Footnote(number=3, citation="Plain cite")) == "footnote 3: Plain cite"


# ---------------------------------------------------------------- with the real model and index


@pytest.fixture(scope="module")
def http(real_engine: Engine) -> TestClient:
    settings = Settings(llm_base_url=None, api_key=None, sources_footer="auto")
    return TestClient(create_app(settings, engine=real_engine))


def streamed(http: TestClient, body: dict[str, Any], headers: dict[str, str]) -> list[Any]:
    response = http.post("/v1/chat/completions", json={**body, "stream": True}, headers=headers)
    assert response.status_code == 200, response.text
    return [
        json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: {")
    ]


def content_of(chunks: list[Any]) -> str:
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


@pytest.mark.model
def test_open_webui_gets_distinct_chips_and_one_list_of_sources(http: TestClient) -> None:
    body = {**fixture("openwebui-chat.json")["body"]}
    body["messages"] = [{"role": "user", "content": THREE_SOURCES}]
    chunks = streamed(http, body, OPEN_WEBUI)
    events = [c["event"]["data"] for c in chunks if c.get("event")]
    names = [e["source"]["name"] for e in events]
    assert len(names) >= 3 and len(set(names)) == len(names)
    assert names == [e["metadata"][0]["name"] for e in events]
    for number, (name, event) in enumerate(zip(names, events, strict=True), start=1):
        assert not name.startswith(("[", str(number))) and len(name) <= NAME_WIDTH
        meta = event["metadata"][0]
        # The full path and the document stay in the metadata and head the passage text.
        assert meta["section"]["path"] and meta["document"]["title"]
        heading, passage = (
            event["document"][0][: meta["text_start"]],
            event["document"][0][meta["text_start"] :],
        )
        assert meta["section"]["path"][-1] in heading and meta["document"]["title"] in heading
        assert passage == http.get(f"/passages/{meta['passage_id']}").json()["text"]
    content = content_of(chunks)
    assert "[3]" in content  # the answer cites three passages …
    assert "**Sources**" not in content  # … and Open WebUI lists them, once


@pytest.mark.model
def test_other_clients_keep_the_footer(http: TestClient) -> None:
    body = {"messages": [{"role": "user", "content": HIGHER_ED_QUESTION}]}
    assert "\n\n**Sources**\n\n- [1] " in content_of(streamed(http, body, SDK))
    plain = http.post("/v1/chat/completions", json=body, headers=OPEN_WEBUI).json()
    assert "**Sources**" in plain["choices"][0]["message"]["content"]  # not streamed: no events


@pytest.mark.model
def test_the_open_webui_follow_up_names_the_date_from_footnote_18(http: TestClient) -> None:
    recorded = fixture("openwebui-chat-follow-up.json")
    chunks = streamed(http, recorded["body"], recorded["headers"])
    content = content_of(chunks)
    assert "(footnote 18: U.S. Embassy & Consulate in Pakistan, May 12, 2022)" in content
    assert "**Sources**" not in content
    urls = [
        note["url_citation"]["url"]
        for c in chunks
        if c["choices"]
        for note in c["choices"][0]["delta"].get("annotations") or []
    ]
    assert FOOTNOTE_18_URL in urls  # the sentence's own annotation survives the footer


@pytest.mark.model
def test_a_dated_sentence_gets_no_note_and_neither_does_a_plain_question(
    real_engine: Engine,
) -> None:
    answerer = Answerer(real_engine)
    dated = answerer.answer("When did the CENTCOM commander visit Pakistan?")
    assert "May 2024" in dated.body_text and "(footnote" not in dated.body_text
    plain = answerer.answer(HIGHER_ED_QUESTION)
    assert "(footnote" not in plain.body_text
    who = answerer.answer("Who published the news of the $19 million for higher education?")
    assert "(footnote 18: U.S. Embassy & Consulate in Pakistan" in who.body_text
