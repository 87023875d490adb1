"""Sentence boundaries that keep footnote markers with the sentence they close.

pysbd does the hard part (``U.S.``, ``Gen.``, initials); it sees the text without markers,
because a superscript after a full stop hides the boundary from it. Boundaries are then
mapped back and pushed past any marker, so ``…Cold War.²`` stays one sentence.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from rag.text import MARKER_RE

if TYPE_CHECKING:
    import pysbd


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each sentence in ``text``, trimmed of surrounding space."""
    keep = [i for i, ch in enumerate(text) if not MARKER_RE.match(ch)]
    stripped = "".join(text[i] for i in keep)
    if not stripped.strip():
        return []
    ends = []
    for seg in _segmenter().segment(stripped):
        end = seg.end
        while end > seg.start and stripped[end - 1].isspace():
            end -= 1
        if end > seg.start:
            ends.append(end)
    spans: list[tuple[int, int]] = []
    start = 0
    for end in ends:
        stop = keep[end - 1] + 1
        while stop < len(text) and MARKER_RE.match(text[stop]):
            stop += 1  # the marker belongs to the sentence it follows
        while start < stop and text[start].isspace():
            start += 1
        if stop > start:
            spans.append((start, stop))
        start = stop
    if start < len(text) and text[start:].strip():
        tail_start = start + (len(text[start:]) - len(text[start:].lstrip()))
        spans.append((tail_start, len(text.rstrip())))
    return spans
