"""Which passages a question's intent gathers, and how it ranks their sentences: a brief's
recommendations from its conclusion sections (:mod:`rag.answering.conclusions`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from rag.answering.conclusions import conclusions
from rag.answering.expects import prescriptive
from rag.answering.records import Candidate
from rag.records import Hit

if TYPE_CHECKING:
    from rag.store.index import IndexHandle

# For a question asking what should be done: what a sentence that says so gains in rank,
# and what it gains more in a section where its brief says so (measured on
# eval/nonfactoid.jsonl; docs/evaluation.md).
PRESCRIPTIVE_BONUS = 0.1
CONCLUSION_BONUS = 0.1


def conclusion_hits(handle: IndexHandle, scope: Sequence[str], k: int) -> tuple[Hit, ...]:
    """The passages of the conclusion sections of the briefs in ``scope``, in reading
    order, at most ``k`` per brief."""
    where = conclusions(handle)
    per: dict[str, list[Hit]] = {}
    for passage in handle.passages:
        doc = passage.document.id
        if doc in scope and where.holds(doc, passage.section.path):
            found = per.setdefault(doc, [])
            if len(found) < k:
                found.append(Hit(passage=passage, rank=0, score=0.0))
    ordered = [h for doc in scope for h in per.get(doc, [])]
    return tuple(h.model_copy(update={"rank": i}) for i, h in enumerate(ordered, start=1))


def prescribed(handle: IndexHandle, found: list[Candidate]) -> list[Candidate]:
    """The candidates for a question asking what should be done, sentences that say so
    ranked up, more in the sections where their brief says so."""
    where = conclusions(handle)
    out = []
    for c in found:
        bonus = 0.0
        if c.footnote is None and prescriptive(c.text):
            bonus = PRESCRIPTIVE_BONUS
            if where.holds(c.hit.passage.document.id, c.hit.passage.section.path):
                bonus += CONCLUSION_BONUS
        out.append(replace(c, bonus=bonus) if bonus else c)
    return out
