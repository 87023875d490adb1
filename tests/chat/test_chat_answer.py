"""The extractive answers of the answer service (rag.answering) with the real model and the
real index."""

from __future__ import annotations

import re

import pytest

from rag.answering import NOT_FOUND, Answer, Answerer, quote, resolve_query
from rag.answering.followup import own_words
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


@pytest.mark.parametrize(
    ("sentence", "quoted"),
    [
        # Additive, enumerating, comparing and contrasting connectives tie a sentence to the
        # one before it, which the answer does not quote: dropped, one rule for all.
        ("Moreover, the U.S. has commenced a programme.", "The U.S. has commenced a programme."),
        ("In addition, both countries are working.", "Both countries are working."),
        ("Further, Washington must show sensitivity.", "Washington must show sensitivity."),
        ("Second, Pakistan helped the U.S.", "Pakistan helped the U.S."),
        ("Secondly, Pakistan helped the U.S.", "Pakistan helped the U.S."),
        ("Thirdly, Pakistan became an ally.", "Pakistan became an ally."),
        ("Finally, the talks ended.", "The talks ended."),
        ("Similarly, more than 80 U.S. firms registered.", "More than 80 U.S. firms registered."),
        ("Likewise, the U.S. must have a policy.", "The U.S. must have a policy."),
        ("However, the fallout remains important.", "The fallout remains important."),
        # Openings that say something of their own (a time, a scope) stay as written.
        (
            "Most recently, Pakistan facilitated talks.",
            "Most recently, Pakistan facilitated talks.",
        ),
        ("In 2023, the two held meetings.", "In 2023, the two held meetings."),
        ("Today, the relationship stands.", "Today, the relationship stands."),
        ("On the global front, competition grows.", "On the global front, competition grows."),
        # Only a whole leading word followed by its comma: not "Secondary", not "Also the".
        ("Secondary schools were funded.", "Secondary schools were funded."),
        ("Also the U.S. funded schools.", "Also the U.S. funded schools."),
    ],
)
def test_one_rule_for_leading_connectives(sentence: str, quoted: str) -> None:
    assert unescape_markdown(quote(sentence)) == quoted


@pytest.mark.model
@pytest.mark.parametrize(
    "question",
    [
        "How did Pakistan help the U.S. end the Cold War?",
        "What role did Pakistan play in the War on Terror?",
        "What is the U.S. investing in Pakistan?",
        "What are the two countries doing about energy?",
        HIGHER_ED_QUESTION,
    ],
)
def test_no_answer_opens_a_sentence_with_a_dropped_connective(
    real_engine: Engine, question: str
) -> None:
    result = answer(real_engine, [question])
    assert result.found
    for piece in result.body:
        sentence = unescape_markdown(piece).strip()
        assert not re.match(
            r"(?:Second|Secondly|Third|Thirdly|Moreover|In addition|Similarly|Further),",
            sentence,
        ), result.text
        assert "Second," not in sentence and "Thirdly," not in sentence, result.text


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
    ("first", "follow_up", "wanted", "not_again"),
    [
        ("Who edited the brief?", "and when was it published?", "September 16, 2024", "Nigar"),
        ("Who wrote the brief?", "and who edited it?", "Neelum Nigar", "written by"),
        ("Who edited the brief?", "and when was it published", "September 16, 2024", "edited"),
    ],
)
def test_a_follow_up_answers_the_new_question_only(
    real_engine: Engine, first: str, follow_up: str, wanted: str, not_again: str
) -> None:
    """The earlier turn is context for retrieval only; its answer is not repeated."""
    earlier = answer(real_engine, [first])
    assert earlier.found
    result = answer(real_engine, [first, follow_up])
    assert result.query == f"{first} {follow_up}"
    body = body_of(result.text)
    assert wanted in body, result.text
    assert not_again not in body, result.text


def test_a_follow_ups_own_words_leave_out_what_points_back() -> None:
    assert own_words("and when was it published?") == "when published"
    assert own_words("And who did he meet?") == "who meet"
    assert own_words("and when was that?") == "when"


@pytest.mark.model
def test_a_follow_up_whose_words_no_sentence_holds_is_answered_from_both_turns(
    real_engine: Engine,
) -> None:
    """ "meet" is in no sentence worth quoting ("met with" is): the answer is the one the
    joined question finds, not a sentence about "meetings" elsewhere."""
    first = "When did the CENTCOM commander visit Pakistan?"
    result = answer(real_engine, [first, "and who did he meet?"])
    assert "Syed Asim Munir" in body_of(result.text), result.text


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
