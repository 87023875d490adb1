"""Locate evidence quotes in the clean text of the documents.

Both sides are compared in :func:`rag.text.match_key` form (markers and escapes removed,
whitespace collapsed, case folded); a map from normalised to original offsets turns each
match back into a span of the document body, which passages are then checked against.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rag.records import Document, Passage
from rag.text import match_key


@dataclass(frozen=True)
class EvidenceSpan:
    doc_id: str
    start: int
    end: int


class EvidenceLocator:
    def __init__(self, documents: Iterable[Document]) -> None:
        self._norm: dict[str, tuple[str, list[int]]] = {
            d.id: _normalise_with_map(d.body) for d in documents
        }

    def locate(self, quote: str) -> list[EvidenceSpan]:
        """Every place the quote occurs, in every document."""
        needle = match_key(quote)
        spans = []
        for doc_id, (norm, offsets) in self._norm.items():
            pos = norm.find(needle)
            while needle and pos != -1:
                end = pos + len(needle) - 1
                spans.append(EvidenceSpan(doc_id, offsets[pos], offsets[end] + 1))
                pos = norm.find(needle, pos + 1)
        return spans


def covers(passage: Passage, spans: Iterable[EvidenceSpan]) -> bool:
    return any(
        s.doc_id == passage.document.id
        and passage.span.start <= s.start
        and s.end <= passage.span.end
        for s in spans
    )


def _normalise_with_map(text: str) -> tuple[str, list[int]]:
    """match_key(text), char by char, remembering where each output char came from."""
    out: list[str] = []
    offsets: list[int] = []
    pending_space = False
    for i, ch in enumerate(text):
        key = match_key(ch) if not ch.isspace() else ""
        if not key:
            pending_space = pending_space or ch.isspace()
            continue
        if pending_space and out:
            out.append(" ")
            offsets.append(i - 1)
        pending_space = False
        for k in key:
            out.append(k)
            offsets.append(i)
    return "".join(out), offsets
