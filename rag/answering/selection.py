"""Which candidates an extractive answer quotes, and in what order."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answering.records import Candidate, Findings
from rag.text import markers_in

MAX_SENTENCES = 3
MARGIN = 0.2  # sentences this close to the best one are quoted too


def _bearer(candidate: Candidate, pool: Sequence[Candidate]) -> Candidate | None:
    """A footnote is quoted through the sentence that carries its marker: the claim it
    backs."""
    if candidate.footnote is None:
        return candidate
    same = [c for c in pool if c.hit.passage.id == candidate.hit.passage.id and c.footnote is None]
    bearers = [c for c in same if candidate.footnote in markers_in(c.text)]
    return max(bearers or same, key=lambda c: c.score, default=None)


def _asked_now(findings: Findings, ranked: list[Candidate]) -> list[Candidate]:
    """The ranked candidates that may answer. For a follow-up, where some of those worth
    quoting (past the gate, within ``MARGIN`` of the best) hold a word of the new turn's
    own, only those: the earlier turn is context for retrieval, its answer is not repeated.
    Otherwise (a question that stands alone, or a follow-up whose own words no close
    candidate holds, such as "met" for "meet") all of them."""
    if not findings.follow_up or not ranked:
        return ranked
    best = ranked[0].score
    own = [
        c
        for c in ranked
        if c.turn_coverage > 0 and c.score >= best - MARGIN and c.relevance >= findings.threshold
    ]
    return own or ranked


def _one_per_brief(findings: Findings) -> list[Candidate]:
    """For a question about the document over several briefs: each brief's best sentence
    past the gate, in the briefs' order."""
    chosen: dict[str, Candidate] = {}
    says = re.compile(findings.per_brief or "")
    ranked = sorted(findings.candidates, key=lambda c: (-c.score, c.hit.rank, c.order))
    for candidate in ranked:
        brief = candidate.hit.passage.document.id
        if brief in chosen or candidate.relevance < findings.threshold:
            continue
        if not says.search(candidate.text):
            continue  # a brief with no editor is not answered with its date
        quoted = _bearer(candidate, findings.candidates)
        if quoted is not None:
            chosen[brief] = quoted
    order = list(dict.fromkeys(h.passage.document.id for h in findings.hits))
    return [chosen[b] for b in order if b in chosen]


def _summary(findings: Findings) -> list[Candidate]:
    """For a summary: one sentence of each gathered passage past the gate, in reading
    order — its best, or for a summary of the whole brief its first (a section's opening
    sentence says what it is about)."""
    chosen: list[Candidate] = []
    for hit in sorted(findings.hits, key=lambda h: (h.passage.document.id, h.passage.ordinal)):
        own = [
            c
            for c in findings.candidates
            if c.hit.passage.id == hit.passage.id
            and c.footnote is None
            and c.relevance >= findings.threshold
        ]
        if own:
            pick = min if findings.summary == "whole" else max
            key = (lambda c: c.order) if findings.summary == "whole" else (lambda c: c.score)
            best = pick(own, key=key)
            if best.text not in {c.text for c in chosen}:
                chosen.append(best)
    return chosen


def select(findings: Findings) -> list[Candidate]:
    """Up to three sentences within ``MARGIN`` of the best, each past the gate, in reading
    order: passages in the order of their best sentence, sentences as written. A follow-up
    is answered by what answers it, not by what answered the turn before."""
    if findings.per_brief is not None:
        return _one_per_brief(findings)
    if findings.summary is not None:
        return _summary(findings)
    ranked = sorted(findings.candidates, key=lambda c: (-c.score, c.hit.rank, c.order))
    ranked = _asked_now(findings, ranked)
    if not ranked:
        return []
    best = ranked[0].score
    chosen: list[Candidate] = []
    for candidate in ranked:
        if candidate.score < best - MARGIN:
            break
        if candidate.relevance < findings.threshold:
            continue
        quoted = _bearer(candidate, findings.candidates)
        if quoted is not None and quoted not in chosen:
            chosen.append(quoted)
        if len(chosen) == MAX_SENTENCES:
            break
    first: dict[str, int] = {}
    for i, candidate in enumerate(chosen):
        first.setdefault(candidate.hit.passage.id, i)
    return sorted(chosen, key=lambda c: (first[c.hit.passage.id], c.order))
