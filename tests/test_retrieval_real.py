"""What users see, with the real model and a real FAISS index."""

import pytest

from rag.errors import QueryError

pytestmark = pytest.mark.model


def test_cold_war_question_finds_the_rejoined_sentence(real_engine):
    hits = real_engine.search("How did Pakistan help end the Cold War?", k=5).hits
    top3 = hits[:3]
    match = next(
        h
        for h in top3
        if "Pakistan helped the U.S. reverse the Soviet invasion of Afghanistan" in h.passage.text
    )
    notes = {f.number: f for f in match.passage.footnotes}
    assert notes[2].url == "https://www.jstor.org/stable/4328240"


def test_source_question_finds_the_citing_passage(real_engine):
    hits = real_engine.search("What source reports Pakistan's neutrality on Ukraine?", k=5).hits
    carrying = [h for h in hits if any(f.number == 4 for f in h.passage.footnotes)]
    assert carrying and carrying[0].rank <= 2
    note = next(f for f in carrying[0].passage.footnotes if f.number == 4)
    assert "Voice of America" in note.citation and note.url.startswith("https://www.voanews.com/")


@pytest.mark.parametrize(
    "question", ["Who wrote this brief?", "When was it published?", "Which institute is it from?"]
)
def test_front_matter_questions(real_engine, question):
    assert real_engine.search(question, k=1).hits[0].passage.kind == "front_matter"


def test_editor_question_finds_front_matter(real_engine):
    top = real_engine.search("Who edited the brief?", k=3).hits[0]
    assert top.passage.kind == "front_matter"
    assert "Dr Neelum Nigar" in top.passage.text


@pytest.mark.parametrize("retriever", ["dense", "bm25", "hybrid"])
def test_every_leg_answers_and_scores_are_finite(real_engine, retriever):
    hits = real_engine.search("CENTCOM commander visit", k=5, retriever=retriever).hits
    assert hits and all(h.score == h.score for h in hits)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert any(f.number == 10 for f in hits[0].passage.footnotes)


def test_section_filter(real_engine):
    hits = real_engine.search("cooperation", k=10, section="Way Forward").hits
    assert hits and {h.passage.section.title for h in hits} == {"Way Forward"}
    with pytest.raises(QueryError, match="no section named"):
        real_engine.search("cooperation", section="Nonexistent Section")


def test_order_is_deterministic_for_odd_input(real_engine):
    question = "\u202eمرحبا\u200b 🇵🇰 trade?\x00"
    first = [h.passage.id for h in real_engine.search(question, k=8).hits]
    second = [h.passage.id for h in real_engine.search(question, k=8).hits]
    assert first == second and len(first) == 8


def test_empty_question_is_refused(real_engine):
    with pytest.raises(QueryError, match="empty"):
        real_engine.search("   \n ")
