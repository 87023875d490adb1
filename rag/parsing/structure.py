"""Assemble what a format parser found into a Document with clean text and exact spans.

Both parsers (plain text from PDFs, Markdown) produce a :class:`Draft`; this module writes
the clean body text once and records every span into it, so spans mean the same thing
whatever the source format was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rag.parsing.footnotes import parse_footnote
from rag.records import Document, Footnote, FrontMatter, Paragraph, Section, SectionRef, Span
from rag.text import markers_in, to_superscript

FRONT_MATTER = SectionRef(title="Front Matter", path=("Front Matter",))


@dataclass
class Heading:
    section: SectionRef


@dataclass
class Para:
    text: str
    section: SectionRef


@dataclass
class Draft:
    title: str | None = None
    front_matter: FrontMatter | None = None
    items: list[Heading | Para] = field(default_factory=list)
    definitions: dict[int, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def assemble(
    draft: Draft, *, doc_id: str, source: str, sha256: str, fmt: Literal["text", "markdown"]
) -> Document:
    parts: list[str] = []
    paragraphs: list[Paragraph] = []
    headings: list[tuple[SectionRef, int]] = []
    cursor = 0

    def write(text: str) -> Span:
        nonlocal cursor
        if parts:
            parts.append("\n\n")
            cursor += 2
        start = cursor
        parts.append(text)
        cursor += len(text)
        return Span(start=start, end=cursor)

    if draft.front_matter and draft.front_matter.lines:
        span = write("\n".join(draft.front_matter.lines))
        paragraphs.append(Paragraph(section=FRONT_MATTER, span=span, kind="front_matter"))
        headings.append((FRONT_MATTER, span.start))
    for item in draft.items:
        if isinstance(item, Heading):
            headings.append((item.section, write(item.section.title).start))
        else:
            paragraphs.append(Paragraph(section=item.section, span=write(item.text)))
    body = "".join(parts)

    warnings = list(draft.warnings)
    footnotes = tuple(
        parse_footnote(number, raw) for number, raw in sorted(draft.definitions.items())
    )
    warnings += _check_markers(body, footnotes)
    title = draft.title or (draft.front_matter.title if draft.front_matter else None) or doc_id
    return Document(
        id=doc_id,
        title=title,
        source=source,
        sha256=sha256,
        format=fmt,
        body=body,
        front_matter=draft.front_matter,
        sections=_sections(headings, len(body)),
        paragraphs=tuple(paragraphs),
        footnotes=footnotes,
        warnings=tuple(warnings),
    )


def _sections(headings: list[tuple[SectionRef, int]], end: int) -> tuple[Section, ...]:
    """A section runs from its heading to the next heading at the same depth or above."""
    out = []
    for i, (ref, start) in enumerate(headings):
        stop = end
        for later, later_start in headings[i + 1 :]:
            if len(later.path) <= len(ref.path):
                stop = later_start - 2  # the blank line between blocks is not content
                break
        out.append(Section(title=ref.title, path=ref.path, span=Span(start=start, end=stop)))
    return tuple(out)


def _check_markers(body: str, footnotes: tuple[Footnote, ...]) -> list[str]:
    """Every marker should resolve and every definition should be cited; say which do not."""
    defined = {f.number for f in footnotes}
    cited = set(markers_in(body))
    warnings = [
        f"footnote marker {to_superscript(n)} ({n}) has no definition"
        for n in sorted(cited - defined)
    ]
    warnings += [
        f"footnote {n} is defined but never cited in the text" for n in sorted(defined - cited)
    ]
    return warnings
