"""Page layout: what on each page is furniture, footnote area or body, and the body's blocks.

- Running headers, footers and page numbers: the first and last lines of a page whose text,
  digits aside, repeats at the same height on other pages, or that are only a page number
  ("3", "Page 3 of 7").
- The footnote area: the run of lines at the foot of a page set smaller than the body text,
  opening with a footnote number.
- Blocks: body lines split where the style changes, at a vertical gap wider than the line
  pitch, at a first-line indent, or after a short line that ends a sentence.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections import Counter
from dataclasses import dataclass

from rag.parsing.pdf.lines import Line
from rag.text import SUPERSCRIPTS

_PAGE_NUMBER_RE = re.compile(r"(?:page\s*)?\d+(?:\s*(?:of|/)\s*\d+)?|[ivxlc]+", re.I)
_SENTENCE_END_RE = re.compile(f"[.!?…:][\"'’”)\\]]*[{SUPERSCRIPTS}]*$")
# A footnote's number as the notes print it: raised (``¹``), ``1``, ``1.``, ``1)``, ``[1]``,
# the raised ones also with a dot or parenthesis (``¹.``); one of the groups holds the digits.
NOTE_START_RE = re.compile(
    f"^(?:\\[\\s*(\\d{{1,3}}|[{SUPERSCRIPTS}]+)\\s*\\]|([{SUPERSCRIPTS}]+)[.)]?"
    f"|(\\d{{1,3}})(?:[.)](?!\\d)\\s*(?=\\S)|\\s))\\s*"
)
# Footnotes are set smaller than the body: below this share of the body size.
NOTE_SIZE = 0.92


@dataclass(frozen=True)
class Column:
    """Where body text runs: its left and right edges and its line pitch."""

    left: float
    right: float
    pitch: float
    size: float  # body text size

    def indented(self, line: Line) -> bool:
        return line.x0 > self.left + 0.8 * line.size

    def full(self, line: Line) -> bool:
        """The line reaches the right edge: the text goes on after it."""
        return line.x1 >= self.right - 1.2 * line.size

    def wraps(self, line: Line, following: Line) -> bool:
        """``following``'s first word would not have fitted at the end of ``line``."""
        word = following.text.split(" ", 1)[0]
        width = (following.x1 - following.x0) * len(word) / max(len(following.text), 1)
        return line.x1 - line.x0 + width + 0.3 * line.size > self.right - self.left


def _key(line: Line) -> tuple[str, int]:
    # Running heads sit at the same height on every page; digits aside, same words.
    return re.sub(r"\d+", "#", line.text.casefold()), round(line.baseline / 4)


def strip_furniture(pages: list[list[Line]]) -> list[list[Line]]:
    """Drop running headers, footers and page numbers from the top and bottom of pages."""
    counts = Counter(
        key for lines in pages for key in {_key(line) for line in lines[:2] + lines[-2:]}
    )
    repeated = {key for key, n in counts.items() if n >= 2 and len(pages) >= 2}

    def furniture(line: Line) -> bool:
        return _key(line) in repeated or bool(_PAGE_NUMBER_RE.fullmatch(line.text.strip()))

    out = []
    for lines in pages:
        lines = list(lines)
        for _ in range(2):  # a header and a page number may both sit at one edge
            if lines and furniture(lines[0]):
                lines.pop(0)
            if lines and furniture(lines[-1]):
                lines.pop()
        out.append(lines)
    return out


def body_size(pages: list[list[Line]]) -> float:
    """The size most of the text is set in."""
    weights: Counter[float] = Counter()
    for lines in pages:
        for line in lines:
            weights[line.style[0]] += len(line.text)
    return weights.most_common(1)[0][0] if weights else 10.0


def split_notes(lines: list[Line], size: float) -> tuple[list[Line], list[Line]]:
    """(body, footnote area) of one page."""
    start = len(lines)
    while start > 0 and lines[start - 1].size < NOTE_SIZE * size:
        start -= 1
    # Skip small lines above the first numbered one (a caption, a continued footnote is
    # still kept: it sits below the body and above the first number).
    area = lines[start:]
    if not any(NOTE_START_RE.match(line.text) for line in area):
        return lines, []
    return lines[:start], area


def measure_column(pages: list[list[Line]], size: float) -> Column:
    body = [line for lines in pages for line in lines if line.style[0] == size]
    if not body:
        return Column(left=0.0, right=1.0, pitch=size * 1.2, size=size)
    lefts = sorted(line.x0 for line in body)
    rights = sorted(line.x1 for line in body)
    gaps = [
        b.baseline - a.baseline
        for lines in pages
        for a, b in itertools.pairwise(lines)
        if a.style[0] == b.style[0] == size and 0 < b.baseline - a.baseline < 2.5 * size
    ]
    return Column(
        left=lefts[len(lefts) // 10],
        right=rights[int(len(rights) * 0.9)],
        pitch=statistics.median(gaps) if gaps else size * 1.2,
        size=size,
    )


def starts_block(previous: Line, line: Line, column: Column) -> bool:
    if previous.style != line.style:
        return True
    pitch = column.pitch * line.size / column.size
    if line.baseline - previous.baseline > 1.3 * pitch:
        return True
    if column.indented(line):
        return True
    short = previous.x1 < column.right - 1.5 * previous.size
    return short and bool(_SENTENCE_END_RE.search(previous.text))


def blocks(lines: list[Line], column: Column) -> list[list[Line]]:
    out: list[list[Line]] = []
    for line in lines:
        if out and not starts_block(out[-1][-1], line, column):
            out[-1].append(line)
        else:
            out.append([line])
    return out
