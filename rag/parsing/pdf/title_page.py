"""The first page's title block → the brief's title and front matter.

A title page is short lines: the title (set largest), a subtitle, a byline ("By …",
"Author: …", "Edited by …"), a date, a centre. Only blocks on the first page, before the
first section heading and before the first paragraph of prose, are read as one: a standfirst
or summary printed above the first heading stays body text, so its commas never become a
centre and an institute. The subtitle is told by its type (larger than the body, or italic,
right under the title), not by its words, for the same reason.
"""

from __future__ import annotations

import re

from rag.parsing.pdf.layout import Column, starts_block
from rag.parsing.pdf.lines import Line
from rag.parsing.plaintext import names_a_field, parse_front_matter
from rag.records import FrontMatter

# A title is set at least this much larger than the body text, in at most this many words.
TITLE_SIZE = 1.2
_TITLE_MAX_WORDS = 40
# A block of this many words is prose (as in text briefs), not a title-page line.
PROSE_WORDS = 20
# A subtitle is set at least this much larger than the body text, or in italics.
_SUBTITLE_SIZE = 1.05
_SUBTITLE_MAX_WORDS = 25


def _words(block: list[Line]) -> int:
    return sum(len(line.text.split()) for line in block)


def title_page_blocks(before_body: list[tuple[int, list[Line]]]) -> int:
    """How many of the blocks before the first section heading (each with its page index)
    form the title page: those on the first page, up to the first block of prose."""
    if not before_body:
        return 0
    first_page = before_body[0][0]
    count = 0
    for page, block in before_body:
        if page != first_page or _words(block) >= PROSE_WORDS:
            break
        count += 1
    return count


def largest_line(first_page: list[Line], size: float, column: Column) -> str | None:
    """The line (or lines, if it wraps) set largest on the first page, when it is set
    clearly larger than the body text: how a reader finds a title."""
    if not first_page:
        return None
    top = max(line.size for line in first_page)
    if top < TITLE_SIZE * size:
        return None
    for i, line in enumerate(first_page):
        if line.size >= top - 0.25 and re.search(r"[^\W\d]", line.text):
            parts = [line.text]
            for nxt in first_page[i + 1 : i + 4]:
                if abs(nxt.size - line.size) > 0.25 or starts_block(line, nxt, column):
                    break
                parts.append(nxt.text)
                line = nxt
            text = " ".join(parts).strip()
            return text if len(text.split()) <= _TITLE_MAX_WORDS else None
    return None


def _front_lines(front: list[list[Line]], column: Column) -> list[tuple[Line, str]]:
    """Front-matter lines (each with its first printed line), with lines that only wrapped
    (a long title) joined again."""
    out: list[tuple[Line, Line, str]] = []
    for line in (line for block in front for line in block):
        if out and out[-1][1].style == line.style and column.wraps(out[-1][1], line):
            first, _, text = out[-1]
            out[-1] = (first, line, f"{text} {line.text}")
        else:
            out.append((line, line, line.text))
    return [(first, text) for first, _, text in out]


def _subtitle(lines: list[tuple[Line, str]], column: Column) -> int | None:
    """Index of the subtitle: the line right under the largest one (the printed title),
    set larger than the body or in italics, that is not a byline or a date."""
    if len(lines) < 2:
        return None
    top = max(line.size for line, _ in lines)
    title_at = next(i for i, (line, _) in enumerate(lines) if line.size == top)
    if title_at + 1 >= len(lines) or top < TITLE_SIZE * column.size:
        return None
    line, text = lines[title_at + 1]
    if abs(line.size - top) <= 0.25:
        return None  # the title's own second line, broken by hand
    set_apart = line.size >= _SUBTITLE_SIZE * column.size or line.italic
    short = len(text.split()) <= _SUBTITLE_MAX_WORDS
    return title_at + 1 if set_apart and short and not names_a_field(text) else None


def title_page(
    front: list[list[Line]],
    column: Column,
    *,
    title: str | None,
    abstract: str | None = None,
) -> FrontMatter | None:
    """The front matter of the title page's blocks ``front``: its lines read as a text
    brief's title page, its subtitle by its type; ``title`` (from /Info or the largest
    line) and ``abstract`` (/Info's /Subject) fill what the page does not say."""
    lines = _front_lines(front, column)
    if not lines:
        return None
    sub = _subtitle(lines, column)
    texts = [text for _, text in lines]
    fm = parse_front_matter([t for i, t in enumerate(texts) if i != sub]) or FrontMatter()
    update: dict[str, object] = {"lines": tuple(texts)}
    if title:
        update["title"] = title
    if sub is not None:
        update["subtitle"] = texts[sub]
    if abstract and abstract not in (title, fm.title, update.get("subtitle")):
        update["abstract"] = abstract
    return fm.model_copy(update=update)


def with_info_author(
    fm: FrontMatter | None, title: str | None, author: str | None
) -> FrontMatter | None:
    """The front matter with /Info's ``author`` (a person's name, see
    :func:`rag.parsing.pdf.info.person_name`) when the first page prints no byline: shown
    as a "By …" line under the title (and subtitle), as a YAML author is in Markdown."""
    if not author or (fm is not None and fm.author):
        return fm
    fm = fm or FrontMatter(title=title)
    lines = list(fm.lines)
    under = [i + 1 for i, line in enumerate(lines) if line in (fm.title, fm.subtitle)]
    lines.insert(max(under) if under else min(1, len(lines)), f"By {author}")
    return fm.model_copy(update={"author": author, "lines": tuple(lines)})
