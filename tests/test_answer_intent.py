"""Question intent before ranking, and a decline that knows what the brief covers.

Fast tests read the question forms and the coverage lookups; model tests ask a second brief
whose recommendations sit under "Policy Options" (not this project's "Way Forward"), on an
index holding it alone, and the bundled brief the questions users asked.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag.answering import Answerer
from rag.answering.coverage import Coverage, _forms, distinctive, missing, unasserted
from rag.answering.expects import (
    counted,
    defined,
    expected,
    prescriptive,
    states,
    wants_prescription,
    without_document_words,
)
from rag.config import Settings, bundled_brief
from rag.engine import Engine, build, open_engine

GROUNDWATER = """---
title: Groundwater in the Indus Basin
author: Sara Malik
date: 2022-05-10
---

# Background

Groundwater supplies more than half of the irrigation water in the Indus basin. Farmers
pump it with over one million tube wells, most of them run on diesel or subsidised power.
The Indus Waters Treaty was signed in 1960 and divides the rivers, not the aquifers.

# Current Situation

Water tables in Punjab fall by up to one metre a year in the worst districts. Salinity
spreads where canals leak and drainage is poor. Cities draw on the same aquifers as farms,
and no agency measures how much each takes.

# Policy Options

Provinces must meter every large tube well and publish the readings each season. Power
subsidies for pumping should be replaced with payments per unit of water saved. It is
imperative that canal lining is funded before new wells are licensed. Cities need to
recharge aquifers with stormwater instead of discharging it to rivers.

# Looking Ahead

A basin authority should in time manage rivers and aquifers as one system. Without it the
aquifers will keep falling, whatever the rivers carry.
"""


# ----------------------------------------------------------------------- question forms


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How much did the U.S. allocate for higher education?", "figure"),
        ("How many public universities benefit?", "figure"),
        ("When was the brief published?", "date"),
        ("and when was it published?", "date"),
        ("In what year was the treaty signed?", "date"),
        ("Who wrote the brief?", None),
        ("What does the brief recommend?", None),
    ],
)
def test_the_form_of_a_question_says_what_fact_it_wants(question: str, kind: str | None) -> None:
    assert expected(question) == kind


def test_a_year_is_a_date_but_not_a_figure() -> None:
    assert states("The treaty was signed in 1960.", "date")
    assert not states("The treaty was signed in 1960.", "figure")
    assert states("It allocated $19 million in 2023.", "figure")
    assert states("Trade could double within a decade.", "figure")
    assert not states("Trade grew.", "date")


def test_what_a_figure_question_counts_and_what_a_definition_asks() -> None:
    assert counted("How much military aid did the U.S. give?") == ("military", "aid")
    assert counted("How much money has the U.S. allotted?") == ()  # a unit, not a topic
    assert counted("By how much could trade grow?") == ()
    assert defined("What was the nuclear deal between India and the US?") == ("nuclear", "deal")
    assert defined("What is the status of the treaty?") == ()  # an attribute of the topic


def test_recommendation_questions_and_sentences_are_recognised() -> None:
    for question in (
        "What does the brief recommend for the future?",
        "What are the brief's recommendations?",
        "What should the U.S. do according to the brief?",
        "What is the way forward?",
    ):
        assert wants_prescription(question), question
    assert not wants_prescription("Who wrote the brief?")
    assert prescriptive("It is imperative that canal lining is funded.")
    assert prescriptive("Cities need to recharge aquifers.")
    assert not prescriptive("Water tables fall by one metre a year.")


def test_document_words_leave_a_content_question() -> None:
    assert (
        without_document_words("What are the brief's recommendations?")
        == "What are recommendations?"
    )
    assert (
        without_document_words("What should the U.S. do according to the brief?")
        == "What should the U.S. do?"
    )
    # The author is a person the title page names: kept.
    assert "author" in without_document_words("What position does the author hold?")
    assert without_document_words("the brief") == "the brief"  # nothing left: kept


# --------------------------------------------------------------------------- coverage


@pytest.fixture(scope="module")
def covered() -> Coverage:
    text = (
        "The U.S.-Pakistan Trade and Investment Framework Agreement (TIFA) met in 2023. "
        "The Center for Strategic and International Studies hosted it. Pakistani exports "
        "grew 5.5 percent; American firms invested."
    )
    return Coverage.of([("brief", _forms(text))])


def test_distinctive_terms_are_names_acronyms_numbers_and_designations() -> None:
    assert distinctive("Did the U.S. sell F-16 fighter jets to Pakistan?") == [
        "U.S",
        "F-16",
        "Pakistan",
    ]
    assert distinctive("What did the Kerry-Lugar-Berman Act give?") == [
        "Kerry",
        "Lugar",
        "Berman",
        "Act",
    ]
    # A capital at the start is grammar, and "the Brief" is the document.
    assert distinctive("Gwadar is what? Ask the Brief") == ["Ask"]


def test_coverage_allows_endings_initials_and_joined_names(covered: Coverage) -> None:
    holds = lambda term: covered.holds(term, ["brief"])  # noqa: E731
    assert holds("U.S.") and holds("US") and holds("TIFA") and holds("CSIS")
    assert holds("Pakistan") and holds("America") and holds("2023") and holds("5.5")
    assert not holds("F-16") and not holds("IMF") and not holds("1991") and not holds("16")
    assert missing("Did the IMF lend to Pakistan in 1991?", covered, ["brief"]) == ("IMF", "1991")
    assert missing("Did the IMF lend?", covered, ["other"]) == ("IMF",)  # out of scope


def test_a_yes_no_claim_mostly_absent_is_unasserted(covered: Coverage) -> None:
    assert unasserted("Did Pakistan sanction ballistic missile programs?", covered, ["brief"])
    assert not unasserted("Did Pakistani exports grow?", covered, ["brief"])
    assert not unasserted("What sanctions did Pakistan face?", covered, ["brief"])  # not yes/no


# ----------------------------------------------------------------------- real model


@pytest.fixture(scope="module")
def groundwater(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    folder = tmp_path_factory.mktemp("groundwater")
    brief = folder / "groundwater.md"
    brief.write_text(GROUNDWATER)
    settings = Settings(index_dir=folder / "index")
    build(settings, [brief])
    return open_engine(settings, auto_build=False)


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    settings = Settings(index_dir=tmp_path_factory.mktemp("bundled") / "index")
    build(settings, [bundled_brief()])
    return open_engine(settings, auto_build=False)


def _sections(answer_citations: tuple) -> set[str]:  # type: ignore[type-arg]
    return {c.passage.section.title for c in answer_citations}


@pytest.mark.model
@pytest.mark.parametrize(
    "question",
    [
        "What does the brief recommend?",
        "What are the brief's recommendations?",
        "What should be done according to the paper?",
    ],
)
def test_recommendations_come_from_where_a_brief_makes_them(
    groundwater: Engine, question: str
) -> None:
    answer = Answerer(groundwater).answer(question)
    assert answer.found, answer.text
    # Learned from the sentences, not from the heading's name.
    assert _sections(answer.citations) <= {"Policy Options", "Looking Ahead"}, answer.text
    assert "must meter" in answer.body_text or "imperative" in answer.body_text


@pytest.mark.model
def test_a_near_topic_question_on_another_brief_is_declined(groundwater: Engine) -> None:
    answerer = Answerer(groundwater)
    education = answerer.answer("What did the U.S. commit to higher education in Pakistan?")
    assert not education.found, education.text
    jets = answerer.answer("Did the U.S. sell F-16 fighter jets to Pakistan?")
    assert not jets.found and "does not mention" in jets.text and "F-16" in jets.text
    # What the brief does say is still answered, a date by a sentence that dates.
    treaty = answerer.answer("When was the Indus Waters Treaty signed?")
    assert treaty.found and "1960" in treaty.body_text, treaty.text
    wells = answerer.answer("How many tube wells pump groundwater?")
    assert wells.found and "one million" in wells.body_text, wells.text


@pytest.mark.model
@pytest.mark.parametrize(
    "question",
    [
        "What does the brief recommend for the future?",
        "What are the brief's recommendations?",
        "What should the U.S. do according to the brief?",
    ],
)
def test_the_bundled_briefs_recommendations_are_not_its_title_page(
    bundled: Engine, question: str
) -> None:
    answer = Answerer(bundled).answer(question)
    assert answer.found, answer.text
    assert "Front Matter" not in _sections(answer.citations), answer.text
    quoted = [s for s in re.split(r"\s*\[\d+\]\s*", answer.body_text) if s.strip()]
    assert quoted and all(prescriptive(s) for s in quoted), answer.text


@pytest.mark.model
@pytest.mark.parametrize(
    ("question", "said"),
    [
        ("Did the U.S. sell F-16 fighter jets to Pakistan?", "does not mention F-16"),
        ("What was the nuclear deal between India and the US?", "nuclear"),
        ("How much wheat does Pakistan import from the United States?", "wheat"),
        ("How much does Pakistan spend on defence each year?", "no figure"),
        ("When did Imran Khan visit the White House?", "Imran or White House"),
    ],
)
def test_near_topic_questions_are_declined_saying_what_is_missing(
    bundled: Engine, question: str, said: str
) -> None:
    answer = Answerer(bundled).answer(question)
    assert not answer.found and said in answer.text, answer.text


@pytest.mark.model
def test_the_decline_is_the_same_with_an_answer_server(bundled: Engine, tmp_path: Path) -> None:
    # Nothing listens here: a declined question must never reach the server.
    settings = bundled.settings.model_copy(update={"llm_base_url": "http://127.0.0.1:9/v1"})
    answer = Answerer(bundled, settings).answer("Did the U.S. sell F-16 fighter jets to Pakistan?")
    assert not answer.found and not answer.generated and "F-16" in answer.text


@pytest.mark.model
def test_the_trade_off_shows_what_declining_costs(bundled: Engine) -> None:
    from rag.evaluation import dataset as ds
    from rag.evaluation.answers import GateSetting, trade_off

    folder = bundled.settings.eval_dir
    rows = trade_off(
        Answerer(bundled),
        ds.load_qa(folder / "qa.jsonl")[:20],
        ds.load_off_topic(folder / "offtopic.jsonl")[:5],
        ds.load_qa(folder / "nonfactoid.jsonl")[:5],
        ds.load_off_topic(folder / "unanswerable.jsonl"),
        (GateSetting(0.37), GateSetting(0.37, coverage=False), GateSetting(2.0)),
    )
    gated, open_, strict = rows
    assert gated["setting"] == "0.37" and "without coverage" in str(open_["setting"])
    # The coverage checks decline the near-topic questions the threshold lets through...
    assert (
        float(gated["declines_unanswerable"] or 0)
        >= 0.9
        > float(open_["declines_unanswerable"] or 0)
    )
    # ...and a threshold raised high declines everything, answers included.
    assert strict["answered"] == 0.0 and strict["declines_off_topic"] == 1.0


def test_a_request_for_a_summary_names_its_topic() -> None:
    from rag.answering.expects import summarised

    assert summarised("Summarise what the brief says about Afghanistan") == "Afghanistan"
    assert summarised("Summarize the section on security cooperation") == "security cooperation"
    assert summarised("Give me an overview of the trade relationship.") == "the trade relationship"
    assert summarised("What does the brief say about climate change?") == "climate change"
    assert summarised("What is the summary?") is None and summarised("Who wrote it?") is None


@pytest.mark.model
def test_a_summary_gathers_the_section_about_its_topic(groundwater: Engine) -> None:
    answerer = Answerer(groundwater)
    named = answerer.answer("Summarize the section on policy options")
    assert named.found and _sections(named.citations) == {"Policy Options"}, named.text
    about = answerer.answer("Summarise what the brief says about salinity and water tables")
    assert about.found and _sections(about.citations) == {"Current Situation"}, about.text
    whole = answerer.answer("Summarise the brief")
    assert whole.found and len(_sections(whole.citations)) >= 3, whole.text
    absent = answerer.answer("Summarise what the brief says about Gwadar")
    assert not absent.found and "Gwadar" in absent.text


def test_what_a_build_derives_is_made_once_and_freed_with_it() -> None:
    import gc
    import weakref

    from rag.store.derived import per_build

    made: list[object] = []

    class Build:  # stands in for an IndexHandle: hashable, weakly referenced
        pass

    @per_build
    def derive(handle: Build) -> list[int]:  # type: ignore[type-var]
        made.append(handle)
        return [len(made)]

    one = Build()
    first = derive(one)  # type: ignore[arg-type]
    assert derive(one) is first and len(made) == 1  # type: ignore[arg-type]
    made.clear()
    gone = weakref.ref(one)
    del one
    gc.collect()
    assert gone() is None  # the cache does not keep a replaced build alive
