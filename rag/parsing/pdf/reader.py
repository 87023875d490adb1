"""Blocks of a laid-out PDF → a :class:`~rag.parsing.structure.Draft`.

The same Draft the text parser makes, plus the page of every heading, paragraph piece and
footnote. Paragraphs cut by a page break (and that page's footnotes) are rejoined, as the
text parser does for the bundled brief: the next page's first block continues the last one
unless it opens with an indent, or the last one ended a sentence on a short line.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

from rag.errors import CorpusFormatError
from rag.parsing.pdf.glyphs import read_pages
from rag.parsing.pdf.info import info_fields
from rag.parsing.pdf.layout import (
    NOTE_START_RE,
    Column,
    blocks,
    body_size,
    measure_column,
    split_notes,
    strip_furniture,
)
from rag.parsing.pdf.lines import Line, page_lines
from rag.parsing.pdf.scan import scan
from rag.parsing.pdf.title_page import (
    PROSE_WORDS,
    largest_line,
    title_page,
    title_page_blocks,
    with_info_author,
)
from rag.parsing.readers import ReadOptions
from rag.parsing.structure import Draft, Heading, Para, nest
from rag.records import FrontMatter, SectionRef
from rag.text import MARKER_RE, SUPERSCRIPTS, from_superscript

_HEADING_MAX_WORDS = 15
_SOFT_HYPHENS = ("\u2010", "\u00ad")
_SENTENCE_END_RE = re.compile(f"[.!?…][\"'’”)\\]]*[{SUPERSCRIPTS}]*$")
_WORD_RE = re.compile(r"[\w][\w.'’-]*[\w]|\w")
_URL_TAIL_RE = re.compile(r"https?://\S*$")


class Lexicon:
    """Words as the document spells them away from line ends, to undo line-end hyphens.

    Hand-written: pdftotext-style dehyphenation has no maintained MIT library, and a
    hyphenation dictionary cannot tell "counter-terrorism" from "re-mained" (both are
    valid break points); the document's own spelling elsewhere can.
    """

    def __init__(self, lines: list[Line]) -> None:
        self.counts: Counter[str] = Counter()
        for line in lines:
            words = _WORD_RE.findall(line.text)
            for word in words[1:-1]:  # first and last words may be halves
                word = word.casefold()
                self.counts[word] += 1
                parts = word.split("-")
                for part in parts[1:]:  # "karachi-based" vouches for "-based"
                    self.counts[f"-{part}"] += 1
                for part in parts[:-1]:  # ... "inter-departmental" for "inter-"
                    self.counts[f"{part}-"] += 1

    def join(self, head: str, tail: str) -> str:
        """Join two lines; ``head`` may end with a hyphen put there to break a word."""
        if head.endswith(_SOFT_HYPHENS):
            return head[:-1] + tail
        if not (head.endswith("-") and len(head) > 1 and not head[-2].isspace()):
            return f"{head} {tail}"
        first = _WORD_RE.match(tail)
        before = _WORD_RE.findall(head)
        if not first or not before:
            return head + tail
        return head + tail if self._keeps(before[-1], first.group()) else head[:-1] + tail

    def _keeps(self, left: str, right: str) -> bool:
        """Whether ``left-`` / ``right`` is a compound broken at its own hyphen."""
        c = self.counts
        low_left, low_right = left.casefold(), right.casefold()
        joined, hyphened = c[low_left + low_right], c[f"{low_left}-{low_right}"]
        if hyphened or joined:
            return hyphened >= joined
        if "-" not in low_left and _english_word(low_left + low_right):
            return False  # "geo-" / "political": a word the layout broke, not a compound
        last = low_left.rsplit("-", 1)[-1]  # "air-to-" / "ground": the "to-" decides
        return (
            "." in left  # "U.S.-" / "Pakistan"
            or right[:1].isupper()
            or right[:1].isdigit()
            # The document writes other compounds with this ending or this opening:
            # "Karachi-based" vouches for "Lahore-" / "based".
            or bool(c[f"-{low_right}"] or c[f"{last}-"])
        )


@lru_cache(maxsize=1)
def _dictionary() -> frozenset[str]:
    # pyspellchecker's English word list (MIT, JSON, no pickle): when the document spells a
    # broken word nowhere else, a dictionary knows "geopolitical" and "understanding".
    from spellchecker import SpellChecker

    return frozenset(SpellChecker(language="en").word_frequency.keys())


def _english_word(word: str) -> bool:
    return word.isalpha() and word in _dictionary()


def _is_heading(block: list[Line], column: Column) -> bool:
    text = " ".join(line.text for line in block)
    first = block[0]
    styled = first.bold or first.size >= 1.1 * column.size or (first.italic and len(block) == 1)
    return (
        styled
        and len(block) <= 2
        and len(text.split()) <= _HEADING_MAX_WORDS
        and not MARKER_RE.search(text)
        and not re.search(r"[.!?;,]$", text)
    )


def _words(block: list[Line]) -> int:
    return sum(len(line.text.split()) for line in block)


class _Builder:
    """Walks the body blocks of all pages in order and fills a Draft."""

    def __init__(
        self, column: Column, lexicon: Lexicon, heading_styles: list[tuple[float, bool, bool]]
    ) -> None:
        self.column = column
        self.lexicon = lexicon
        self.levels = {style: i + 1 for i, style in enumerate(heading_styles)}
        self.draft = Draft()
        self.stack: list[tuple[int, str]] = []
        self.section = SectionRef(title="Body", path=("Body",))
        self.last: tuple[Para, Line] | None = None  # open paragraph and its last line

    def knows(self, block: list[Line]) -> bool:
        """Whether ``block``'s style is a heading level (a styled line above the first
        heading, in a standfirst, may be in a style no heading below it uses)."""
        return len(self.levels) <= 1 or block[0].style in self.levels

    def heading(self, block: list[Line]) -> None:
        text = " ".join(line.text for line in block).strip()
        title = text.rstrip(":").strip()
        if len(self.levels) > 1:
            level = self.levels[block[0].style]
        else:  # one heading style: "Title:" is a subsection of the last top-level heading
            level = 2 if text.endswith(":") and self.stack else 1
        self.stack, self.section = nest(self.stack, level, title)
        self.draft.items.append(Heading(self.section, page=block[0].page))
        self.last = None

    def paragraph(self, block: list[Line], new_page: bool) -> None:
        if new_page and self.last and self._continues(self.last[0], self.last[1], block[0]):
            para = self.last[0]
            para.text = self.lexicon.join(para.text, block[0].text)
            para.pages.append((len(para.text) - len(block[0].text), block[0].page))
        else:
            para = Para(text=block[0].text, section=self.section, pages=[(0, block[0].page)])
            self.draft.items.append(para)
        for line in block[1:]:
            para.text = self.lexicon.join(para.text, line.text)
            if line.page != para.pages[-1][1]:
                para.pages.append((len(para.text) - len(line.text), line.page))
        self.last = (para, block[-1])

    def _continues(self, para: Para, last: Line, first: Line) -> bool:
        if self.column.indented(first):
            return False
        return (
            self.column.full(last)
            or not _SENTENCE_END_RE.search(para.text)
            or first.text[:1].islower()
        )


def _footnotes(notes: list[Line], lexicon: Lexicon, draft: Draft) -> None:
    """Split the footnote areas into numbered definitions; continuation lines are joined."""
    current: int | None = None
    for line in notes:
        start = NOTE_START_RE.match(line.text)
        number = None
        if start:
            marker = next(group for group in start.groups() if group)
            raised = marker[0] in SUPERSCRIPTS
            value = from_superscript(marker) if raised else int(marker)
            # Plain digits open a definition only as the next number: "2024, https://…"
            # wrapped onto a new line is not footnote 2024.
            if raised or value == (current or 0) + 1:
                number = value
        if start is not None and number is not None:
            # The number, its dot or brackets and the space after are not the citation (the
            # marked text may open with an italic star the plain text does not have).
            opening = NOTE_START_RE.match(line.marked)
            raw = line.marked[opening.end() if opening else len(start.group()) :].strip()
            if number in draft.definitions:
                draft.warnings.append(f"footnote {number} is defined twice; keeping the first")
                current = None
                continue
            draft.definitions[number] = raw
            draft.definition_pages[number] = line.page
            current = number
        elif current is not None:
            joined = _join_note(draft.definitions[current], line.marked, lexicon)
            draft.definitions[current] = joined


def _join_note(raw: str, more: str, lexicon: Lexicon) -> str:
    if _URL_TAIL_RE.search(raw):  # a URL broken over two lines goes on without a space
        return raw + more
    if raw.endswith("*") and more.startswith("*"):  # one italic title over two lines
        return f"{raw[:-1]} {more[1:]}"
    return lexicon.join(raw, more)


def parse_pdf(
    path: Path, options: ReadOptions | None = None, data: bytes | None = None
) -> tuple[Draft, int]:
    """Read the PDF at ``path`` (whose bytes are ``data``, if read already) within the
    budgets of ``options``; returns the draft and the number of pages."""
    options = options or ReadOptions()
    data = path.read_bytes() if data is None else data
    scan(path, data, options)
    pages = read_pages(path, options)
    if not any(page.glyphs for page in pages):
        raise CorpusFormatError(
            f"{path}: no text layer: run OCR first (e.g. ocrmypdf) and index the result"
        )
    lines = strip_furniture([page_lines(page.number, page.glyphs) for page in pages])
    size = body_size(lines)
    column = measure_column(lines, size)
    split = [split_notes(page, size) for page in lines]
    lexicon = Lexicon([line for page in lines for line in page])

    page_blocks = [blocks(body, column) for body, _ in split]
    flat = [(i, block) for i, page in enumerate(page_blocks) for block in page]
    start = _body_start([block for _, block in flat], column)
    heading_styles = sorted(
        {b[0].style for _, b in flat[start:] if _is_heading(b, column)},
        key=lambda style: (-style[0], not style[1], style[2]),
    )
    builder = _Builder(column, lexicon, heading_styles)
    draft = builder.draft
    # The title the file declares, else the one its first page prints largest; the title
    # page's first line only when neither says (the file name when nothing does).
    info = info_fields(data)
    title = info.title or largest_line(lines[0] if lines else [], size, column)
    # The title page: the first page's short blocks before the first heading; what follows
    # them there (a standfirst, a summary) is body text.
    body_from = title_page_blocks(flat[:start])
    front = [block for _, block in flat[:body_from]]
    draft.front_matter = title_page(front, column, title=title, abstract=info.subject)
    if draft.front_matter is None and info.subject:
        draft.front_matter = FrontMatter(title=title, abstract=info.subject)
    draft.front_matter = with_info_author(draft.front_matter, title, info.author)
    if front:
        draft.front_matter_page = front[0][0].page
    draft.title = title or (draft.front_matter.title if draft.front_matter else None)
    if draft.title:
        builder.section = SectionRef(title=draft.title, path=(draft.title,))
    previous_page = None
    for page_index, block in flat[body_from:]:
        if heading_styles and _is_heading(block, column) and builder.knows(block):
            builder.heading(block)
        else:
            builder.paragraph(block, new_page=page_index != previous_page)
        previous_page = page_index
    _footnotes([line for _, notes in split for line in notes], lexicon, draft)

    if not heading_styles:
        draft.warnings.append("no headings found: the text is indexed as plain paragraphs")
    if not draft.definitions:
        draft.warnings.append("no footnotes found at the foot of any page")
    return draft, len(pages)


def _body_start(all_blocks: list[list[Line]], column: Column) -> int:
    """Index of the first heading followed by a real paragraph; 0 when there is none."""
    for i, block in enumerate(all_blocks):
        if not _is_heading(block, column):
            continue
        following = next((b for b in all_blocks[i + 1 :] if not _is_heading(b, column)), None)
        if following and _words(following) >= PROSE_WORDS:
            return i
    return 0
