"""A question about the document itself over a library ("Who wrote the brief?") is
answered once per brief, each from its own title page, never with one brief's picked at
random nor with another fact (a date) where a brief has no such role; questions about what
the briefs say, scoped questions and one-brief indexes are answered as before."""

from __future__ import annotations

import pytest

from rag.answering import Answerer
from rag.answering.intent import answer_must_say, asks_about_the_document
from rag.config import Settings, bundled_brief
from rag.engine import Engine, build, open_engine

WATER = """---
title: Indus Waters Brief
author: Ayesha Rahman
date: 2023-03-01
---

# The Treaty

The Indus Waters Treaty of 1960 divides the six rivers of the Indus basin between the two
countries. The World Bank brokered the treaty and keeps a role in its disputes.
"""


@pytest.mark.parametrize(
    ("question", "about"),
    [
        ("Who wrote the brief?", True),
        ("Who is the author of this paper?", True),
        ("When was it published?", True),
        ("Who edited the brief?", True),
        ("What is the title of the report?", True),
        ("Who published the trade figures?", False),
        ("When was the treaty signed?", False),
        ("What did the U.S. commit to higher education in Pakistan?", False),
    ],
)
def test_questions_about_the_document_are_told_apart(question: str, about: bool) -> None:
    assert asks_about_the_document(question) is about


def test_each_role_names_what_its_answer_says() -> None:
    assert answer_must_say("Who edited the brief?") == r"\bedit"
    assert "writ" in answer_must_say("Who wrote it?")
    assert "publish" in answer_must_say("When was it published?")


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    folder = tmp_path_factory.mktemp("library")
    water = folder / "water.md"
    water.write_text(WATER)
    settings = Settings(index_dir=folder / "index")
    build(settings, [bundled_brief(), water])
    return open_engine(settings, auto_build=False)


@pytest.mark.model
def test_who_wrote_the_brief_answers_for_every_brief(library: Engine) -> None:
    answer = Answerer(library).answer("Who wrote the brief?")
    assert "Mahrukh Khan" in answer.text and "Ayesha Rahman" in answer.text
    briefs = {c.passage.document.id for c in answer.citations}
    assert briefs == {"pakistan-us-relations-2024", "water"}


@pytest.mark.model
def test_a_brief_without_the_role_is_not_answered_with_another_fact(library: Engine) -> None:
    answer = Answerer(library).answer("Who edited the brief?")
    assert "Neelum Nigar" in answer.text and "2023" not in answer.text


@pytest.mark.model
def test_scoped_and_content_questions_are_answered_as_before(library: Engine) -> None:
    scoped = Answerer(library, documents=["water"]).answer("Who wrote the brief?")
    assert "Ayesha Rahman" in scoped.text and "Mahrukh Khan" not in scoped.text
    content = Answerer(library).answer("Who brokered the Indus Waters Treaty?")
    assert "Indus Waters Treaty" in content.text and "Mahrukh" not in content.text
    assert [c.passage.section.title for c in content.citations] == ["The Treaty"]
