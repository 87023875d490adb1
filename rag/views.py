"""Public output shapes, shared by ``rag ask --json`` and the HTTP API.

Kept apart from the internal records so the index format can change without changing
what users parse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from rag.records import Hit, Passage

if TYPE_CHECKING:
    from rag.answering import Answer
    from rag.store.handle import IndexHandle


class SectionView(BaseModel):
    title: str
    path: list[str]


class FootnoteView(BaseModel):
    number: int
    citation: str
    url: str | None = None


class SpanView(BaseModel):
    start: int = Field(description="Offset into the document's clean body text.")
    end: int


class DocumentView(BaseModel):
    id: str
    title: str


class PassageView(BaseModel):
    id: str
    rank: int | None = None
    score: float | None = None
    text: str
    section: SectionView
    footnotes: list[FootnoteView]
    span: SpanView
    tokens: int
    document: DocumentView
    pages: list[int] = Field(
        default_factory=list,
        description="PDF pages the text came from (e.g. [3, 4]); empty for text and Markdown.",
    )

    @classmethod
    def of(
        cls, passage: Passage, rank: int | None = None, score: float | None = None
    ) -> PassageView:
        return cls(
            id=passage.id,
            rank=rank,
            score=score,
            text=passage.text,
            section=SectionView(title=passage.section.title, path=list(passage.section.path)),
            footnotes=[FootnoteView(**f.model_dump()) for f in passage.footnotes],
            span=SpanView(start=passage.span.start, end=passage.span.end),
            tokens=passage.tokens,
            document=DocumentView(id=passage.document.id, title=passage.document.title),
            pages=list(passage.pages),
        )

    @classmethod
    def of_hit(cls, hit: Hit) -> PassageView:
        return cls.of(hit.passage, hit.rank, hit.score)


class SearchView(BaseModel):
    question: str
    passages: list[PassageView]


class CitationView(BaseModel):
    n: int = Field(description="The number the answer cites it by, as [n].")
    passage: PassageView


class AnnotationView(BaseModel):
    url: str
    title: str
    start_index: int = Field(description="The supported span is answer[start_index:end_index].")
    end_index: int


class AnswerView(BaseModel):
    question: str
    query: str = Field(description="What was searched: a follow-up joined to the turn before.")
    answer: str = Field(description="Markdown: the answer with [n] citations and Sources.")
    found: bool = Field(description="False when nothing relevant was found (and nothing said).")
    generated: bool = Field(description="Written by the answer server, not quoted.")
    citations: list[CitationView]
    annotations: list[AnnotationView]

    @classmethod
    def of(cls, answer: Answer) -> AnswerView:
        return cls(
            question=answer.question,
            query=answer.query,
            answer=answer.text,
            found=answer.found,
            generated=answer.generated,
            citations=[
                CitationView(n=c.number, passage=PassageView.of_hit(c.hit))
                for c in answer.citations
            ],
            annotations=[
                AnnotationView(url=a.url, title=a.title, start_index=a.start, end_index=a.end)
                for a in answer.annotations
            ],
        )


# What a listing shows of an abstract: enough to tell the briefs apart.
ABSTRACT_CHARS = 200


def _opening(text: str | None, limit: int = ABSTRACT_CHARS) -> str | None:
    """``text``'s first ``limit`` characters, cut at a word, with '…' when cut."""
    if not text or len(text) <= limit:
        return text or None
    cut = text[: limit - 1]
    if " " in cut and not text[limit - 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "…"


class DocumentInfo(BaseModel):
    """One indexed brief, as `GET /documents` and `rag documents` list it."""

    id: str = Field(description="What `documents` scopes and `--document` take.")
    title: str
    subtitle: str | None = Field(default=None, description="Null when the brief has none.")
    author: str | None = None
    editor: str | None = None
    date: str | None = Field(default=None, description="ISO date of publication, if known.")
    abstract: str | None = Field(
        default=None,
        description=f"The brief's abstract, its first {ABSTRACT_CHARS} characters (cut at a "
        "word, ending in '…' when cut); null when it has none.",
    )
    format: str
    source: str = Field(description="The file it was read from.")
    pages: int | None = Field(default=None, description="PDF pages; none for text.")
    sections: int
    passages: int
    footnotes: int
    sha256: str = Field(description="Of the file as indexed.")
    indexed_at: str = Field(description="When the build holding it was made (UTC).")


def document_infos(handle: IndexHandle) -> list[DocumentInfo]:
    """Every brief of a loaded build, in the build's order."""
    passages = handle.passages.count_by_document()
    built = handle.manifest.created_at
    out = []
    for doc in handle.documents.values():
        fm = doc.front_matter
        out.append(
            DocumentInfo(
                id=doc.id,
                title=doc.title,
                subtitle=fm.subtitle if fm else None,
                author=fm.author if fm else None,
                editor=fm.editor if fm else None,
                date=fm.date if fm else None,
                abstract=_opening(fm.abstract) if fm else None,
                format=doc.format,
                source=doc.source,
                pages=doc.page_count,
                sections=len(doc.sections),
                passages=passages[doc.id],
                footnotes=len(doc.footnotes),
                sha256=doc.sha256,
                indexed_at=built,
            )
        )
    return out
