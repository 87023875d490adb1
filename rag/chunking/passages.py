"""Cut documents into passages: sentence-aligned, at most ``max_tokens`` tiktoken tokens,
never crossing a paragraph or section boundary, overlapping by whole sentences.

Paragraphs are the natural unit of an argument in a brief, so a passage never spans two of
them; a paragraph longer than the budget becomes sentence windows that share
``overlap_sentences`` sentences with their neighbour.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from rag.chunking.sentences import WINDOW_CHARS, sentence_spans, short_runs
from rag.chunking.tokens import count_tokens, encoding
from rag.errors import CorpusFormatError
from rag.records import Document, DocumentRef, FootnoteRef, Paragraph, Passage, Span
from rag.text import markers_in

if TYPE_CHECKING:
    from rag.config import Settings


class ChunkParams(BaseModel):
    """How passages are cut. No defaults here: they live in :class:`rag.config.Settings`
    only, and the manifest records this very object as the build's ``chunking``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tokenizer: str
    max_tokens: int
    overlap_sentences: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ChunkParams:
        """The settings fields of the same names, so a new parameter is one field here."""
        return cls(**{name: getattr(settings, name) for name in cls.model_fields})


def passage_id(doc_id: str, start: int, end: int, text: str) -> str:
    """Stable across rebuilds: derived only from the document, the span and the text."""
    digest = hashlib.sha256(f"{doc_id}\x00{start}\x00{end}\x00{text}".encode()).hexdigest()
    return f"{doc_id}-{digest[:10]}"


def _units(doc: Document, para: Paragraph) -> list[tuple[int, int]]:
    """Absolute spans of the sentences (or front-matter lines) of one paragraph."""
    text = doc.body[para.span.start : para.span.end]
    if para.kind == "front_matter":
        spans: list[tuple[int, int]] = []
        pos = 0
        for line in text.split("\n"):
            if len(line) <= WINDOW_CHARS:
                spans.append((pos, pos + len(line)))
            else:  # a line no front matter has: cut like a sentence would be
                spans.extend((pos + s, pos + e) for s, e in short_runs(line))
            pos += len(line) + 1
    else:
        spans = sentence_spans(text)
    return [(para.span.start + s, para.span.start + e) for s, e in spans if e > s]


def _split_long(doc: Document, start: int, end: int, params: ChunkParams) -> list[tuple[int, int]]:
    """A single sentence over the budget is cut at word boundaries (rare in briefs); a
    word over it (a run without spaces) at token boundaries."""
    pieces: list[tuple[int, int]] = []
    piece_start = start
    last_fit: int | None = None
    pos = start
    while pos < end:
        nxt = doc.body.find(" ", pos + 1, end)
        nxt = end if nxt == -1 else nxt
        if count_tokens(doc.body[piece_start:nxt], params.tokenizer) <= params.max_tokens:
            last_fit = nxt
        else:
            stop = last_fit if last_fit and last_fit > piece_start else nxt
            pieces.append((piece_start, stop))
            piece_start = stop + 1 if doc.body[stop : stop + 1] == " " else stop
            last_fit = None
            if stop == nxt:
                pos = piece_start
                continue
        pos = nxt
    if piece_start < end:
        pieces.append((piece_start, end))
    return [cut for piece in pieces for cut in _fit_tokens(doc.body, *piece, params)]


def _fit_tokens(text: str, start: int, end: int, params: ChunkParams) -> list[tuple[int, int]]:
    """``text[start:end]`` as is when it is within ``max_tokens``, else cut where its
    tokens start, each piece checked by counting its tokens again (a piece's own tokens
    may differ from its share of the whole's)."""
    if count_tokens(text[start:end], params.tokenizer) <= params.max_tokens:
        return [(start, end)]
    enc = encoding(params.tokenizer)
    _, offsets = enc.decode_with_offsets(enc.encode(text[start:end], disallowed_special=()))
    # Character offsets where a token starts (several share one in a multi-byte character).
    starts = sorted({start + o for o in offsets if 0 < o < end - start})
    pieces: list[tuple[int, int]] = []
    i = 0  # starts[i:] lie past the current piece's start
    while i < len(starts) and count_tokens(text[start:end], params.tokenizer) > params.max_tokens:
        k = min(i + params.max_tokens, len(starts)) - 1
        while k > i and count_tokens(text[start : starts[k]], params.tokenizer) > params.max_tokens:
            k -= 1
        pieces.append((start, starts[k]))
        start, i = starts[k], k + 1
    pieces.append((start, end))
    return pieces


def _windows(
    doc: Document, units: list[tuple[int, int]], params: ChunkParams
) -> Iterator[tuple[int, int]]:
    def tokens(i: int, j: int) -> int:
        return count_tokens(doc.body[units[i][0] : units[j][1]], params.tokenizer)

    i = 0
    while i < len(units):
        if tokens(i, i) > params.max_tokens:
            yield from _split_long(doc, *units[i], params)
            i += 1
            continue
        j = i
        while j + 1 < len(units) and tokens(i, j + 1) <= params.max_tokens:
            j += 1
        yield units[i][0], units[j][1]
        if j == len(units) - 1:
            return
        i = max(j + 1 - params.overlap_sentences, i + 1)


def chunk_document(
    doc: Document, params: ChunkParams, *, max_passages: int | None = None
) -> list[Passage]:
    """The passages of ``doc``; past ``max_passages`` (RAG_MAX_PASSAGES_PER_BRIEF) the
    brief is refused, as soon as that many are cut."""
    notes = {f.number: f for f in doc.footnotes}
    ref = DocumentRef(id=doc.id, title=doc.title)
    passages: list[Passage] = []
    for para in doc.paragraphs:
        for start, end in _windows(doc, _units(doc, para), params):
            if max_passages is not None and len(passages) >= max_passages:
                raise CorpusFormatError(
                    f"{doc.source}: cut into more than {max_passages:,} passages, over the "
                    "budget per brief; split the file, or raise RAG_MAX_PASSAGES_PER_BRIEF"
                )
            text = doc.body[start:end]
            passages.append(
                Passage(
                    id=passage_id(doc.id, start, end, text),
                    document=ref,
                    text=text,
                    section=para.section,
                    footnotes=tuple(
                        FootnoteRef(number=n, citation=notes[n].citation, url=notes[n].url)
                        for n in markers_in(text)
                        if n in notes
                    ),
                    span=Span(start=start, end=end),
                    tokens=count_tokens(text, params.tokenizer),
                    ordinal=len(passages),
                    kind=para.kind,
                    pages=doc.pages_of(start, end),
                )
            )
    return passages


def chunk_documents(
    docs: Iterable[Document], params: ChunkParams, *, max_passages: int | None = None
) -> list[Passage]:
    """Every document's passages; ``max_passages`` is the budget of each."""
    return [p for doc in docs for p in chunk_document(doc, params, max_passages=max_passages)]
