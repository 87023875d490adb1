"""Answering: turn retrieved passages into a cited answer, extractive or generated.

One concept per module: :mod:`.followup` (which question a turn asks), :mod:`.lexicon` (term
statistics per index build, held as term ids by :mod:`.termsets`), :mod:`.scoring`
(candidates and their relevance), :mod:`.selection` (what to quote), :mod:`.provenance`
(what a cited footnote adds to a "when" or "who published" question), :mod:`.render` (text,
Sources footer, annotations), :mod:`.generate` (the optional answer server), :mod:`.tasks`
(chat front ends' own title, tags and follow-up requests), :mod:`.titles` (a chat's title
from its question), :mod:`.frontends` (whether a client lists the sources itself),
:mod:`.expects` (what a question's form asks for), :mod:`.intent` (questions about the
document itself), :mod:`.gather` (the passages an intent gathers), :mod:`.coverage` and
:mod:`.gate` (what declines a question the briefs do not answer), :mod:`.conclusions` (where
each brief says what should be done) and :mod:`.service` (the flow).
"""

from rag.answering.followup import resolve_query
from rag.answering.records import (
    Answer,
    Candidate,
    Citation,
    Done,
    Event,
    Findings,
    Sources,
    Text,
    UrlAnnotation,
)
from rag.answering.render import NOT_FOUND, quote
from rag.answering.service import Answerer, prepare

__all__ = [
    "NOT_FOUND",
    "Answer",
    "Answerer",
    "Candidate",
    "Citation",
    "Done",
    "Event",
    "Findings",
    "Sources",
    "Text",
    "UrlAnnotation",
    "prepare",
    "quote",
    "resolve_query",
]
