"""Which candidates an extractive answer quotes, and in what order."""

from __future__ import annotations

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


def select(findings: Findings) -> list[Candidate]:
    """Up to three sentences within ``MARGIN`` of the best, each past the gate, in reading
    order: passages in the order of their best sentence, sentences as written."""
    ranked = sorted(findings.candidates, key=lambda c: (-c.score, c.hit.rank, c.order))
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
