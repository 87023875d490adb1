"""Sentence boundaries that keep footnote markers with the sentence they close.

pysbd does the hard part (``U.S.``, ``Gen.``, initials); it sees the text without markers,
because a superscript after a full stop hides the boundary from it. Boundaries are then
mapped back and pushed past any marker, so ``…Cold War.²`` stays one sentence.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import TYPE_CHECKING

from rag.text import MARKER_RE

if TYPE_CHECKING:
    import pysbd

Spans = list[tuple[int, int]]


class SpanMemo:
    """Sentence spans already found, by the sha256 of the text (and of ``version``: a
    memo kept on disk is only valid for the splitter that filled it). ``used`` holds what
    was asked for since it was made, so what is saved is one build's spans, no more.

    Splitting is the slowest step of a build outside the model (pysbd: about 4 ms a
    paragraph), and an index build splits each paragraph twice (to cut passages, then a
    passage's sentence rows), and ``rag index --add`` every brief of the library again:
    a memo carried from the last build (:mod:`rag.store.embedding_cache`) leaves only
    the new text to split.
    """

    def __init__(self, known: dict[str, Spans] | None = None, version: str = "") -> None:
        self.known: dict[str, Spans] = dict(known or {})
        self.used: dict[str, Spans] = {}
        self.version = version
        self.split = 0  # texts split, not answered from the memo

    def key(self, text: str) -> str:
        return hashlib.sha256(f"{self.version}\x00{text}".encode()).hexdigest()

    def spans(self, text: str) -> Spans:
        key = self.key(text)
        found = self.used.get(key)
        if found is None:
            found = self.known.get(key)
        if found is None:
            found = _sentence_spans(text)
            self.split += 1
        self.used[key] = found
        return list(found)


_MEMO: ContextVar[SpanMemo | None] = ContextVar("sentence_span_memo", default=None)


@contextmanager
def remembering(memo: SpanMemo) -> Iterator[SpanMemo]:
    """Within the block (this thread), :func:`sentence_spans` answers from ``memo``."""
    token = _MEMO.set(memo)
    try:
        yield memo
    finally:
        _MEMO.reset(token)


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    import pysbd
    from pysbd.utils import TextSpan

    class Segmenter(pysbd.Segmenter):  # type: ignore[misc]
        r"""pysbd's segmenter with its character-span step done by ``str.find``.

        pysbd locates each sentence by compiling ``re.escape(sentence) + r"\s*"`` and
        scanning the text from the start: one new regex per sentence, which also evicts
        pysbd's own abbreviation patterns from ``re``'s cache. Profiled, that was about
        a third of an index build. This is the same search without a regex: the first
        non-overlapping occurrence (from the text's start) that ends past the previous
        sentence, with its trailing whitespace (``\s`` is ``str.isspace`` for ``str``).
        Tested equal to pysbd's own (tests/test_sentences.py); a 1k-passage build is
        byte-identical with either.
        """

        def sentences_with_char_spans(self, sentences: list[str]) -> list[TextSpan]:
            text: str = self.original_text
            found: list[TextSpan] = []
            prior = 0
            for sentence in sentences:
                if not sentence:  # an empty pattern matches everywhere: pysbd's own rules
                    spans: list[TextSpan] = super().sentences_with_char_spans(sentences)
                    return spans
                span = _next_span(text, sentence, prior)
                if span is not None:
                    found.append(TextSpan(text[span[0] : span[1]], *span))
                    prior = span[1]
            return found

    return Segmenter(language="en", clean=False, char_span=True)


def _next_span(text: str, sentence: str, prior: int) -> tuple[int, int] | None:
    """The first occurrence of ``sentence`` plus trailing whitespace, scanning
    non-overlapping occurrences from the start, that ends after ``prior``."""
    pos = 0
    while (start := text.find(sentence, pos)) >= 0:
        end = start + len(sentence)
        while end < len(text) and text[end].isspace():
            end += 1
        if end > prior:
            return start, end
        pos = end
    return None


# pysbd's cost grows with the square of the text it is given (its abbreviation pass rewrites
# the whole text once per word that may be an abbreviation: 80 KB of prose took 7.5 s, a
# 200 KB line without a full stop 43 s), so it never sees more than this many characters at
# once. Far longer than a brief's paragraph (the bundled brief's longest is 1,124).
WINDOW_CHARS = 2000
_PUNCTUATION = ".,;:!?)]}>…’”"


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """:func:`_sentence_spans`, from the memo in use (:func:`remembering`) if any."""
    memo = _MEMO.get()
    return memo.spans(text) if memo is not None else _sentence_spans(text)


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each sentence in ``text``, trimmed of surrounding space;
    none longer than :data:`WINDOW_CHARS`.

    Text up to that size goes to pysbd whole. Longer text goes in windows of that size:
    the sentences of a window are kept but its last one (which the window may have cut),
    and the next window starts where that one did; a window pysbd finds no boundary in
    (a table row, a run without a full stop) is cut near its end, at a space if it has
    one. So the work is linear in the text, and a sentence shorter than a window keeps the
    boundaries pysbd gives it in the text around it.
    """
    if len(text) <= WINDOW_CHARS:
        return _segment(text)
    spans: list[tuple[int, int]] = []
    pos = 0
    while pos < len(text):
        window = text[pos : pos + WINDOW_CHARS]
        found = _segment(window)
        if pos + len(window) >= len(text):
            spans.extend((pos + s, pos + e) for s, e in found)
            break
        if len(found) > 1:
            spans.extend((pos + s, pos + e) for s, e in found[:-1])
            pos += found[-1][0]
            continue
        cut = cut_point(window)
        start, end = _trim(window, 0, cut)
        if found and end > start:  # none: only spaces and markers, as pysbd would say
            spans.append((pos + start, pos + end))
        pos += cut
    return spans


def cut_point(window: str) -> int:
    """Where to cut a run that has no sentence end: after its last space in the second
    half, else after its last punctuation there, else at its end; never before a
    footnote marker (it stays with what it follows)."""
    half = len(window) // 2
    cut = next((i for i in range(len(window) - 1, half, -1) if window[i].isspace()), 0)
    if not cut:
        cut = next(
            (i + 1 for i in range(len(window) - 1, half, -1) if window[i] in _PUNCTUATION), 0
        )
    cut = cut or len(window)
    while cut < len(window) and MARKER_RE.match(window[cut]):
        cut += 1
    return cut


def short_runs(text: str, size: int = WINDOW_CHARS) -> list[tuple[int, int]]:
    """``text`` cut into trimmed runs of at most ``size`` characters with :func:`cut_point`
    (for text with no sentences to find, such as front-matter lines)."""
    runs: list[tuple[int, int]] = []
    pos = 0
    while pos < len(text):
        window = text[pos : pos + size]
        cut = len(window) if pos + len(window) >= len(text) else cut_point(window)
        start, end = _trim(window, 0, cut)
        if end > start:
            runs.append((pos + start, pos + end))
        pos += cut
    return runs


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _segment(text: str) -> list[tuple[int, int]]:
    """pysbd's sentences of ``text``, with the footnote markers kept with their sentence."""
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
