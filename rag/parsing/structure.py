"""Assemble what a format parser found into a Document with clean text and exact spans.

Every reader (plain text, Markdown, PDF) produces a :class:`Draft`; this module writes
the clean body text once and records every span into it, so spans mean the same thing
whatever the source format was. A PDF draft also says which page each piece came from;
those become the document's page map (body offset where each page's text starts).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from rag.parsing.footnotes import parse_footnote
from rag.records import (
    Document,
    Footnote,
    FrontMatter,
    PageStart,
    Paragraph,
    Section,
    SectionRef,
    Span,
)
from rag.text import markers_in, match_key, to_superscript

FRONT_MATTER = SectionRef(title="Front Matter", path=("Front Matter",))
ABSTRACT = SectionRef(title="Abstract", path=("Abstract",))


@dataclass
class Heading:
    section: SectionRef
    page: int | None = None


@dataclass
class Para:
    text: str
    section: SectionRef
    # (offset in ``text``, page) where the text of each page starts; PDF drafts only.
    pages: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Draft:
    title: str | None = None
    front_matter: FrontMatter | None = None
    items: list[Heading | Para] = field(default_factory=list)
    definitions: dict[int, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # How an ambiguous file was read (Document.notes): informative, not a warning.
    notes: list[str] = field(default_factory=list)
    # Pages, for formats that have them (PDF).
    front_matter_page: int | None = None
    definition_pages: dict[int, int] = field(default_factory=dict)


def nest(
    stack: list[tuple[int, str]], level: int, name: str
) -> tuple[list[tuple[int, str]], SectionRef]:
    """A heading of ``level`` under the open headings ``stack`` (level, name): the new
    stack, closing those at its level or deeper, and the section it opens."""
    stack = [(lvl, n) for lvl, n in stack if lvl < level] + [(level, name)]
    return stack, SectionRef(title=name, path=tuple(n for _, n in stack))


def outline(draft: Draft, blocks: Iterable[tuple[int, str]], title: str | None) -> None:
    """Append ``blocks`` to ``draft``: (level, heading name) for a heading, (0, text) for a
    paragraph, which belongs to the last heading (or a section named for the title)."""
    section = SectionRef(title=title or "Body", path=(title or "Body",))
    stack: list[tuple[int, str]] = []
    for level, text in blocks:
        if level:
            stack, section = nest(stack, level, text)
            draft.items.append(Heading(section))
        else:
            draft.items.append(Para(text=text, section=section))


def assemble(
    draft: Draft,
    *,
    doc_id: str,
    source: str,
    sha256: str,
    fmt: Literal["text", "markdown", "pdf", "docx", "html"],
    page_count: int | None = None,
) -> Document:
    parts: list[str] = []
    paragraphs: list[Paragraph] = []
    headings: list[tuple[SectionRef, int]] = []
    page_starts: list[PageStart] = []
    cursor = 0

    def mark(page: int | None, offset: int) -> None:
        if page is not None and (not page_starts or page_starts[-1].page != page):
            page_starts.append(PageStart(page=page, offset=offset))

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
        mark(draft.front_matter_page, span.start)
    # An abstract from the metadata (YAML, <meta name="description">, a Word or PDF
    # property) is a section of its own, searched like the text, unless the text prints it.
    # It goes before the first heading: text above that (a standfirst) keeps its place
    # under the title, outside the Abstract section.
    abstract = draft.front_matter.abstract if draft.front_matter else None
    abstract_at = next(
        (i for i, item in enumerate(draft.items) if isinstance(item, Heading)), len(draft.items)
    )

    def write_abstract() -> None:
        if abstract and not _prints(draft, abstract):
            headings.append((ABSTRACT, write(ABSTRACT.title).start))
            paragraphs.append(Paragraph(section=ABSTRACT, span=write(abstract)))

    for i, item in enumerate(draft.items):
        if i == abstract_at:
            write_abstract()
        if isinstance(item, Heading):
            headings.append((item.section, write(item.section.title).start))
            mark(item.page, headings[-1][1])
        else:
            span = write(item.text)
            paragraphs.append(Paragraph(section=item.section, span=span))
            for offset, page in item.pages:
                mark(page, span.start + offset)
    if abstract_at == len(draft.items):
        write_abstract()
    body = "".join(parts)

    warnings = list(draft.warnings)
    footnotes = tuple(
        parse_footnote(number, raw).model_copy(update={"page": draft.definition_pages.get(number)})
        for number, raw in sorted(draft.definitions.items())
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
        notes=tuple(draft.notes),
        pages=tuple(page_starts),
        page_count=page_count,
    )


def _prints(draft: Draft, text: str) -> bool:
    """Whether the draft's paragraphs already hold ``text`` (typography and case aside)."""
    key = match_key(text)
    return any(key in match_key(item.text) for item in draft.items if isinstance(item, Para))


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
