"""Typed records passed between layers (parser → chunker → index → retriever → shells)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Footnote(Record):
    """One numbered footnote definition, parsed into its parts."""

    number: int
    citation: str = Field(description="Citation text without Markdown emphasis or URL.")
    url: str | None = None
    title: str | None = None
    publisher: str | None = None
    date: str | None = Field(default=None, description="ISO date when parseable.")
    page: int | None = Field(default=None, description="PDF page it is printed on.")


class FootnoteRef(Record):
    """What a passage carries for each marker in its text."""

    number: int
    citation: str
    url: str | None = None


class FrontMatter(Record):
    title: str | None = None
    subtitle: str | None = None
    author: str | None = None
    author_role: str | None = None
    centre: str | None = None
    institute: str | None = None
    editor: str | None = None
    date: str | None = Field(default=None, description="ISO date of publication.")
    date_text: str | None = None
    disclaimer: str | None = None
    abstract: str | None = Field(
        default=None, description="The brief's summary of itself (indexed as a section)."
    )
    lines: tuple[str, ...] = ()


class SectionRef(Record):
    title: str
    path: tuple[str, ...]


class Span(Record):
    start: int
    end: int


class Paragraph(Record):
    """A paragraph of clean body text (cut sentences already rejoined)."""

    section: SectionRef
    span: Span
    kind: Literal["front_matter", "body"] = "body"


class PageStart(Record):
    """Body text from ``offset`` on was printed on ``page`` (1-based), until the next one."""

    page: int
    offset: int


class Section(Record):
    title: str
    path: tuple[str, ...]
    span: Span


class DocumentOutline(Record):
    """A parsed brief without its text: what a served index holds of each brief (title,
    front matter, sections, footnotes, page map). The text is what the passages hold;
    the full :class:`Document` is read from the build when evaluation locates evidence in
    it (on a 100,000-passage library the bodies and paragraph records were 400 MB of a
    server's memory)."""

    id: str
    title: str
    source: str = Field(description="File name the document was read from.")
    sha256: str
    format: Literal["text", "markdown", "pdf", "docx", "html"]
    front_matter: FrontMatter | None = None
    sections: tuple[Section, ...] = ()
    footnotes: tuple[Footnote, ...] = ()
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = Field(
        default=(),
        description="How the reader settled what the file leaves open (a Markdown brief's "
        "first heading: title or section); said in `rag index`'s summary, not a problem.",
    )
    pages: tuple[PageStart, ...] = Field(
        default=(), description="Page map of the body (PDF only; empty for text and Markdown)."
    )
    page_count: int | None = Field(default=None, description="Pages in the PDF.")

    def footnote(self, number: int) -> Footnote | None:
        return next((f for f in self.footnotes if f.number == number), None)

    def pages_of(self, start: int, end: int) -> tuple[int, ...]:
        """Pages the body text ``[start, end)`` was printed on, in order."""
        found = [p.page for p in self.pages if start < p.offset < end]
        before = [p.page for p in self.pages if p.offset <= start]
        pages = before[-1:] + found
        return tuple(dict.fromkeys(pages))


class Document(DocumentOutline):
    """A parsed brief: clean body text plus the structure found in it."""

    body: str = Field(description="Clean text: escapes removed, footnote blocks lifted out.")
    paragraphs: tuple[Paragraph, ...] = ()


class DocumentRef(Record):
    id: str
    title: str


class Passage(Record):
    """A retrievable unit: a token-bounded, sentence-aligned slice of one section."""

    id: str
    document: DocumentRef
    text: str = Field(description="Display text, footnote markers kept where they were.")
    section: SectionRef
    footnotes: tuple[FootnoteRef, ...] = ()
    span: Span
    tokens: int
    ordinal: int = Field(description="Position of the passage in its document.")
    kind: Literal["front_matter", "body"] = "body"
    pages: tuple[int, ...] = Field(
        default=(), description="PDF pages its text came from; empty for text and Markdown."
    )


class Hit(Record):
    passage: Passage
    rank: int
    score: float = Field(description="Score of the retriever asked for (RRF for hybrid).")
    dense_score: float | None = Field(
        default=None, description="Cosine similarity to the question, when computed."
    )
