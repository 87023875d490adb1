"""The extractive answers of the answer service (rag.answering) with the real model and the
real index."""

from __future__ import annotations

import re

import pytest

from rag.answering import NOT_FOUND, Answer, Answerer, quote, resolve_query
from rag.engine import Engine
from rag.text import match_key, unescape_markdown
from tests.chat.helpers import FOOTNOTE_18_URL, HIGHER_ED_QUESTION

CITATION_RE = re.compile(r" \[(\d+)\]$")


def answer(engine: Engine, turns: list[str]) -> Answer:
    return Answerer(engine).answer(turns[-1], turns[:-1])


def body_of(text: str) -> str:
    return text.split("\n\n**Sources**", 1)[0]


def test_follow_ups_borrow_the_previous_question() -> None:
    first = "When did the CENTCOM commander visit Pakistan?"
    assert resolve_query([first]) == first
    assert resolve_query([first, "and who did he meet?"]) == f"{first} and who did he meet?"
    assert resolve_query([first, "When was that?"]) == f"{first} When was that?"
    # A complete new question stands alone, pronoun-free or long.
    assert resolve_query([first, "What is the capital of France?"]) == (
        "What is the capital of France?"
    )
    long = "Which bilateral military exercises did the two countries hold in 2024 and where?"
    assert resolve_query([first, long]) == long
    assert resolve_query(["  ", "   "]) == ""


def test_quoted_text_cannot_become_markup() -> None:
    assert quote("Moreover, a <script>x</script> [1] *b*") == (
        r"A \<script\>x\</script\> \[1\] \*b\*"
    )
    assert unescape_markdown(quote("plain [text]")) == "Plain [text]"


@pytest.mark.model
def test_the_higher_education_question_gets_the_19_million_usaid_programme(
    real_engine: Engine,
) -> None:
    result = answer(real_engine, [HIGHER_ED_QUESTION])
    assert result.found
    body = body_of(result.text)
    assert "$19 million" in body and "USAID" in body
    first = result.citations[0]
    assert "[1]" in body and first.number == 1
    assert FOOTNOTE_18_URL in [note.url for note in first.footnotes]
    footer = result.text[len(body) :]
    assert footer.startswith("\n\n**Sources**\n\n- [1] Current Pace of Relationship")
    assert "Footnote 18: " in footer and f"<{FOOTNOTE_18_URL}>" in footer


@pytest.mark.model
@pytest.mark.parametrize(
    "question", ["What is the capital of France?", "How do I bake sourdough bread?", "hello"]
)
def test_off_topic_questions_get_a_plain_not_found(real_engine: Engine, question: str) -> None:
    result = answer(real_engine, [question])
    assert not result.found
    assert result.text.startswith(NOT_FOUND)
    assert not result.citations and not result.annotations
    assert "**Sources**" not in result.text and "[1]" not in result.text


@pytest.mark.model
def test_a_follow_up_is_answered_from_the_earlier_question(real_engine: Engine) -> None:
    follow_up = "and when was that?"
    alone = answer(real_engine, [follow_up])
    resolved = answer(real_engine, [HIGHER_ED_QUESTION, follow_up])
    assert resolved.query == f"{HIGHER_ED_QUESTION} {follow_up}"
    cited_urls = {n.url for c in resolved.citations for n in c.footnotes}
    assert FOOTNOTE_18_URL in cited_urls
    assert "May 12, 2022" in resolved.text  # the date lives in footnote 18
    assert FOOTNOTE_18_URL not in {n.url for c in alone.citations for n in c.footnotes}


@pytest.mark.model
@pytest.mark.parametrize(
    "question",
    [
        "When did the CENTCOM commander visit Pakistan?",
        "Which exercises did U.S. and Pakistani forces hold?",
        "How large is bilateral trade between Pakistan and the U.S.?",
        "Who edited the brief?",
    ],
)
def test_every_sentence_is_quoted_from_the_passage_it_cites(
    real_engine: Engine, question: str
) -> None:
    result = answer(real_engine, [question])
    assert result.found
    by_number = {c.number: c for c in result.citations}
    pieces = [p for p in result.parts if CITATION_RE.search(p.rstrip())]
    assert pieces, result.text
    for piece in pieces:
        number = int(CITATION_RE.search(piece.rstrip()).group(1))
        sentence = unescape_markdown(CITATION_RE.sub("", piece.rstrip()))
        passage = by_number[number].passage
        if passage.kind == "front_matter":
            # Title-page facts are spelled out; each names a value from the title page
            # (not just a label such as "By" or "Edited by").
            values = [line for line in passage.text.split("\n") if len(line) > 10]
            assert any(match_key(value) in match_key(sentence) for value in values), sentence
        else:
            # Verbatim, up to a dropped leading "Moreover," and its capital letter.
            assert match_key(sentence)[1:] in match_key(passage.text), (sentence, passage.text)


@pytest.mark.model
def test_annotations_span_the_text_their_url_supports(real_engine: Engine) -> None:
    result = answer(real_engine, ["When did the CENTCOM commander visit Pakistan?"])
    content = result.text
    assert result.annotations
    for note in result.annotations:
        assert 0 <= note.start < note.end <= len(content)
        span = content[note.start : note.end]
        # Either a quoted sentence ending in its citation, or the footnote's line in Sources.
        assert CITATION_RE.search(span) or span.endswith(f"<{note.url}>"), span
    assert any("centcom.mil" in note.url for note in result.annotations)
