"""What declines a question the briefs do not answer, beyond the threshold: a figure or a
date asked for and not stated, and quoted sentences that share no topic word with it.

(Names and numbers no brief mentions are :mod:`rag.answering.coverage`'s.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rag.answering.expects import FORM_WORDS, PRESCRIPTION_WORDS, TYPE_WORDS, Expected, states
from rag.answering.lexicon import lexicon, terms
from rag.answering.records import Candidate
from rag.text import markers_in

if TYPE_CHECKING:
    from rag.store.index import IndexHandle

# A word in more than half a scope's passages (idf below log 2) is no topic: "Pakistan" in
# a brief on Pakistan.
UBIQUITOUS_IDF = 0.69

# A candidate this close in meaning to the question answers it without sharing a word (a
# paraphrase: "In which direction is the relationship gradually heading?").
TOPIC_FREE_COSINE = 0.5


def stating(
    handle: IndexHandle, found: list[Candidate], text: str, kind: Expected
) -> list[Candidate]:
    """The candidates that can answer a question asking for a figure or a date: those that
    state one and hold a word of the question's topic (not only its ubiquitous words, such
    as the country every sentence names), and the sentences whose footnote states one.
    "How much does Pakistan spend on defence?" is not answered by "$19 million for higher
    education in Pakistan"."""
    words = lexicon(handle)
    (want,) = terms([text])
    topic = {t for t in want - TYPE_WORDS if words.idf.get(t, words.unseen) > UBIQUITOUS_IDF}
    rows = terms([c.text for c in found])
    stating = [
        c for c, have in zip(found, rows, strict=True) if states(c.text, kind) and have & topic
    ]
    dated = {(c.hit.passage.id, c.footnote) for c in stating if c.footnote is not None}
    bearers = [
        c
        for c in found
        if c.footnote is None
        and c not in stating
        and any((c.hit.passage.id, n) in dated for n in markers_in(c.text))
    ]
    return [c for c in found if c in stating or c in bearers]


def topic_words(handle: IndexHandle, text: str) -> frozenset[str]:
    """The words of ``text`` that name a topic: neither asking what should be done nor in
    most of the index's passages."""
    words = lexicon(handle)
    (want,) = terms([text])
    return frozenset(
        t
        for t in want - PRESCRIPTION_WORDS - FORM_WORDS
        if words.idf.get(t, words.unseen) > UBIQUITOUS_IDF
    )


def on_topic(handle: IndexHandle, found: Sequence[Candidate], text: str, threshold: float) -> bool:
    """Whether a candidate past the gate bears on the question's topic: it holds one of
    the question's topic words (:func:`topic_words`; rare in this index, so "Pakistan" in a
    brief on Pakistan does not count), or is close in meaning (``TOPIC_FREE_COSINE``: a
    paraphrase), or is a title-page fact, or the question has no topic words. An index of
    one water brief answered "What did the U.S. commit to higher education in Pakistan?"
    with a groundwater sentence past the threshold: it shares only "Pakistan"."""
    topic = topic_words(handle, text) - TYPE_WORDS
    if not topic:
        return True
    passing = [c for c in found if c.relevance >= threshold]
    for candidate, have in zip(passing, terms([c.text for c in passing]), strict=True):
        if candidate.hit.passage.kind == "front_matter" or candidate.cosine >= TOPIC_FREE_COSINE:
            return True
        if have & topic:
            return True
    return False
