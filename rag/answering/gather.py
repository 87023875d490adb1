"""Which passages a question's intent gathers, and how it ranks their sentences: a brief's
recommendations from its conclusion sections (:mod:`rag.answering.conclusions`), and a
summary from the section about its topic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from rag.answering.conclusions import conclusions
from rag.answering.expects import FORM_WORDS, prescriptive
from rag.answering.lexicon import terms
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
    where, table = conclusions(handle), handle.passages
    per: dict[str, list[Hit]] = {}
    for row in table.rows_of(scope).tolist():
        doc = table.document_of(row).id
        if where.holds(doc, table.section_of(row).path):
            found = per.setdefault(doc, [])
            if len(found) < k:
                found.append(Hit(passage=table[row], rank=0, score=0.0))
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


# The stemmed words of naming the document itself ("Summarise the brief").
DOCUMENT_TERMS = frozenset(
    {"brief", "paper", "report", "document", "whole", "entir", "overal", "main", "point"}
    | {"it", "this", "section", "part", "chapter"}
)
# A summary quotes at most this many passages' sentences, one each.
SUMMARY_PASSAGES = 5
# Share of a summary topic's words a heading must hold to be the section asked for.
TITLE_MATCH = 0.5


def _body_sections(
    handle: IndexHandle, scope: Sequence[str]
) -> dict[tuple[str, tuple[str, ...]], list[int]]:
    """The rows of the body passages of each section of the briefs in ``scope``, in reading
    order (rows, not passages: a summary quotes five of them)."""
    table = handle.passages
    sections: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for row in table.rows_of(scope).tolist():
        path = table.section_of(row).path
        if table.kind_of(row) != "front_matter" and path:
            sections.setdefault((table.document_of(row).id, path), []).append(row)
    return sections


def _ranked(handle: IndexHandle, rows: Sequence[int]) -> tuple[Hit, ...]:
    return tuple(
        Hit(passage=handle.passages[row], rank=i, score=0.0)
        for i, row in enumerate(rows[:SUMMARY_PASSAGES], start=1)
    )


def summary_hits(
    handle: IndexHandle, scope: Sequence[str], topic: str, hits: Sequence[Hit]
) -> tuple[tuple[Hit, ...], bool]:
    """The passages a summary of ``topic`` quotes, and whether they were chosen by their
    heading (then they are the answer whatever their cosine; otherwise the gate applies).

    - A topic naming only the brief ("Summarise the brief"): the first passage of each
      section, in reading order.
    - A topic a heading holds ("the section on security cooperation"): that section and
      its subsections.
    - Any other ("what the brief says about Afghanistan"): the section whose passages
      retrieval ranked best, summed."""
    sections = _body_sections(handle, scope)
    (want,) = terms([topic])
    want = frozenset(want - FORM_WORDS - DOCUMENT_TERMS)
    if not want:
        firsts: dict[tuple[str, str], int] = {}
        for (doc, path), rows in sections.items():
            firsts.setdefault((doc, path[0]), rows[0])
        return _ranked(handle, list(firsts.values())), True
    best: tuple[float, int, tuple[str, tuple[str, ...]]] | None = None
    for key, heading in zip(sections, terms([" ".join(p) for _, p in sections]), strict=True):
        share = len(want & heading) / len(want)
        if share >= TITLE_MATCH and (best is None or (share, -len(key[1])) > best[:2]):
            best = (share, -len(key[1]), key)
    if best is not None:
        doc, path = best[2]
        chosen = [
            row
            for (d, sub), rows in sections.items()
            if d == doc and sub[: len(path)] == path
            for row in rows
        ]
        return _ranked(handle, chosen), True
    weight: dict[tuple[str, str], float] = {}
    for hit in hits:
        if hit.passage.kind != "front_matter" and hit.passage.section.path:
            top_key = (hit.passage.document.id, hit.passage.section.path[0])
            weight[top_key] = weight.get(top_key, 0.0) + 1.0 / hit.rank
    if not weight:
        return tuple(hits), False
    doc, top = max(weight, key=lambda k: weight[k])
    chosen = [
        row for (d, path), rows in sections.items() if d == doc and path[0] == top for row in rows
    ]
    return _ranked(handle, chosen), False
