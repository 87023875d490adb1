"""Glyphs → text lines.

A glyph starts a new line when it does not continue the current one to the right on about
the same baseline. Within a line, digits clearly smaller than the line's text and raised
above its baseline are footnote markers: they become superscript digits (``¹⁸``), the form
the text parser and the chunker already read. Word spaces are measured from the gaps
between glyphs, because PDFs do not reliably contain space characters.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace

from rag.parsing.pdf.glyphs import Glyph
from rag.text import SUPERSCRIPTS, to_superscript

# A raised glyph smaller than this share of the line's size is a superscript.
SUPERSCRIPT_SIZE = 0.85
# ... and its baseline at least this share of the line's size above the line's baseline.
SUPERSCRIPT_RISE = 0.12
# A call printed in brackets, ``[¹]``: the marker is the raised number alone.
_BRACKETED_RE = re.compile(f"\\[([{SUPERSCRIPTS}]+)\\]")
# A gap wider than this share of the font size is a word space.
SPACE_GAP = 0.17


@dataclass(frozen=True)
class Line:
    page: int
    text: str  # markers as superscript digits, words separated by single spaces
    marked: str  # the same with italic runs wrapped in *…* (read by the footnote parser)
    x0: float
    x1: float
    top: float
    bottom: float
    baseline: float
    size: float  # the size of most of its glyphs
    bold: bool
    italic: bool

    @property
    def style(self) -> tuple[float, bool, bool]:
        return (round(self.size * 2) / 2, self.bold, self.italic)


def _continues(line: list[Glyph], glyph: Glyph) -> bool:
    last = line[-1]
    tall = max(last.size, glyph.size)
    # Ligature parts share one box, so "to the right" is measured from the glyph's start.
    return glyph.x0 > last.x0 - 0.1 * tall and abs(glyph.baseline - last.baseline) < 0.6 * tall


def group_lines(glyphs: tuple[Glyph, ...]) -> list[list[Glyph]]:
    """Runs of glyphs in content order that read left to right on one baseline."""
    lines: list[list[Glyph]] = []
    for glyph in glyphs:
        if lines and _continues(lines[-1], glyph):
            lines[-1].append(glyph)
        else:
            lines.append([glyph])
    return lines


def _main_size(glyphs: list[Glyph]) -> float:
    counts = Counter(round(g.size, 1) for g in glyphs if g.text.isalpha())
    if not counts:
        counts = Counter(round(g.size, 1) for g in glyphs)
    return counts.most_common(1)[0][0]


def make_line(page: int, glyphs: list[Glyph]) -> Line:
    size = _main_size(glyphs)
    normal = [g for g in glyphs if g.size >= SUPERSCRIPT_SIZE * size] or glyphs
    baseline = Counter(round(g.baseline, 1) for g in normal).most_common(1)[0][0]

    def raised(g: Glyph) -> bool:
        return (
            g.text.isdigit()
            and g.size < SUPERSCRIPT_SIZE * size
            and baseline - g.baseline > SUPERSCRIPT_RISE * size
        )

    plain: list[str] = []
    marked: list[str] = []
    in_italic = False
    previous: Glyph | None = None
    for g in glyphs:
        if previous is not None and (
            g.space_before or g.x0 - previous.x1 > SPACE_GAP * min(g.size, previous.size)
        ):
            if in_italic:
                marked.append("*")
                in_italic = False
            plain.append(" ")
            marked.append(" ")
        text = to_superscript(int(g.text)) if raised(g) else g.text
        italic = g.italic and text.strip() != ""
        if italic != in_italic:
            marked.append("*")
            in_italic = italic
        plain.append(text)
        marked.append(text)
        previous = g
    if in_italic:
        marked.append("*")
    letters = [g for g in normal if g.text.isalpha()] or normal
    return Line(
        page=page,
        text=_BRACKETED_RE.sub(r"\1", "".join(plain)),
        marked=_BRACKETED_RE.sub(r"\1", "".join(marked).replace("* *", " ")),
        x0=min(g.x0 for g in glyphs),
        x1=max(g.x1 for g in glyphs),
        top=min(g.top for g in glyphs),
        bottom=max(g.bottom for g in glyphs),
        baseline=baseline,
        size=size,
        bold=sum(g.bold for g in letters) * 2 > len(letters),
        italic=sum(g.italic for g in letters) * 2 > len(letters),
    )


def _stray_marker(previous: list[Glyph], run: list[Glyph]) -> bool:
    """A footnote call pushed alone onto the next line (the line above was full)."""
    size = _main_size(previous)
    drop = run[0].baseline - previous[-1].baseline
    return (
        all(g.text.isdigit() for g in run)
        and max(g.size for g in run) < SUPERSCRIPT_SIZE * size
        and 0 < drop < 1.6 * size
    )


def page_lines(page: int, glyphs: tuple[Glyph, ...]) -> list[Line]:
    """The lines of one page, top to bottom."""
    runs: list[list[Glyph]] = []
    for run in group_lines(glyphs):
        if runs and _stray_marker(runs[-1], run):
            # Put it back where it belongs: raised, right after the text it marks.
            last, rise = runs[-1][-1], 0.35 * _main_size(runs[-1])
            runs[-1].extend(
                replace(g, x0=last.x1 + g.x0 - run[0].x0, x1=last.x1 + g.x1 - run[0].x0,
                        baseline=last.baseline - rise, space_before=False)
                for g in run
            )  # fmt: skip
        else:
            runs.append(run)
    lines = [make_line(page, run) for run in runs]
    return sorted(lines, key=lambda line: (round(line.baseline, 0), line.x0))
