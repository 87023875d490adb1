"""The sentence splitter's span search (str.find instead of one regex per sentence) gives
pysbd's own spans, on the bundled brief and on texts built to trip a span search."""

from __future__ import annotations

from pathlib import Path

import pysbd
import pytest

from rag.chunking.sentences import _segmenter, sentence_spans

TRICKY = [
    "",
    "One sentence.",
    "Same words. Same words. Same words.",  # repeats: each must take the next occurrence
    "It rose.  It rose.\n\nIt rose.   ",  # runs of whitespace, trailing space
    "Gen. Bajwa met U.S. officials in Jan. 2024. They agreed. Mr. Khan did not.",
    "The U.S. said so. The U.S. said so again.",
    "Ends without a full stop",
    "A (parenthesis.) B? C! D... E.",
    "Exports grew by 5%.¹ They fell in 2023.²",
    "a.b.c. d.e.f. a.b.c.",
]


def _stock(text: str) -> list[tuple[str, int, int]]:
    seg = pysbd.Segmenter(language="en", clean=False, char_span=True)
    return [(s.sent, s.start, s.end) for s in seg.segment(text)]


def _ours(text: str) -> list[tuple[str, int, int]]:
    return [(s.sent, s.start, s.end) for s in _segmenter().segment(text)]


@pytest.mark.parametrize("text", TRICKY)
def test_span_search_equals_pysbd_on_tricky_texts(text):
    assert _ours(text) == _stock(text)


def test_span_search_equals_pysbd_on_the_brief(brief_path: Path):
    paragraphs = [p for p in brief_path.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    assert len(paragraphs) > 20
    for paragraph in paragraphs:
        assert _ours(paragraph) == _stock(paragraph)


def test_sentence_spans_keep_markers_with_their_sentence():
    text = "Exports grew by 5%.¹ They fell in 2023.²"
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Exports grew by 5%.¹",
        "They fell in 2023.²",
    ]
