"""What the retrievers see of a passage or a footnote, and what an answer quotes of it.

Display text keeps footnote markers; to an encoder or BM25 they are noise, so they are
removed here. The section path is prepended because a passage on "Security Cooperation"
often never says "security" — the heading is part of its meaning. Front matter is spelled
out as sentences naming each role (author, editor, publisher, date), because a reader asks
"who wrote this?" while the page only says "By"; each such fact has a plainer quoted form.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.chunking.sentences import sentence_spans
from rag.records import Footnote, FrontMatter, Passage
from rag.text import collapse_space, strip_markers


@dataclass(frozen=True)
class Fact:
    """One statement of a title page, whose lines ("By", "Mahrukh Khan") are not sentences.

    ``quote`` is what an answer shows; ``probe`` is what the encoder and BM25 see: it names
    each role with its synonyms, so "who is the writer?" meets "written by the author".
    """

    quote: str
    probe: str


def front_matter_facts(fm: FrontMatter) -> list[Fact]:
    facts: list[Fact] = []
    if fm.title:
        facts.append(
            Fact(
                f"The brief is titled “{fm.title}”.",
                f"The title of the brief (document, paper) is: {fm.title}.",
            )
        )
    if fm.subtitle:
        facts.append(
            Fact(
                f"Its subtitle is “{fm.subtitle}”.",
                f"The subtitle of the brief (what it is about) is: {fm.subtitle}.",
            )
        )
    if fm.author:
        role = f", {fm.author_role}" if fm.author_role else ""
        position = f", whose position is {fm.author_role}" if fm.author_role else ""
        facts.append(
            Fact(
                f"The brief was written by {fm.author}{role}.",
                f"The brief was written by the author (writer) {fm.author}{position}.",
            )
        )
    if fm.centre or fm.institute:
        org = ", ".join(x for x in (fm.centre, fm.institute) if x)
        facts.append(
            Fact(
                f"It was published by {org}.",
                f"The brief was published by the institute (think tank, organisation) {org}.",
            )
        )
    if fm.editor:
        facts.append(
            Fact(
                f"It was edited by {fm.editor}.", f"The brief was edited by the editor {fm.editor}."
            )
        )
    if fm.date_text:
        facts.append(
            Fact(
                f"It was published on {fm.date_text}.",
                f"The brief was published (released, dated) on {fm.date_text}.",
            )
        )
    if fm.disclaimer:
        facts.append(Fact(f"{fm.disclaimer}.", f"Disclaimer of the brief: {fm.disclaimer}."))
    if not facts:  # no role recognised: the lines themselves are all there is to say
        lines = collapse_space(" ".join(fm.lines))
        facts.append(Fact(lines, lines))
    return facts


def front_matter_sentences(fm: FrontMatter) -> list[str]:
    """The probes of :func:`front_matter_facts` (what is embedded for a title page)."""
    return [fact.probe for fact in front_matter_facts(fm)]


def passage_text(passage: Passage, front_matter: FrontMatter | None = None) -> str:
    """One text per passage, for the passage vector and BM25."""
    if passage.kind == "front_matter" and front_matter is not None:
        return " ".join(front_matter_sentences(front_matter))
    path = " > ".join(passage.section.path)
    return collapse_space(f"{path}: {strip_markers(passage.text)}")


def _spans(passage: Passage) -> list[tuple[int, int]]:
    # A passage pysbd finds no sentence in is still one row, so every passage has a vector.
    return sentence_spans(passage.text) or [(0, len(passage.text))]


def sentence_texts(
    passage: Passage,
    front_matter: FrontMatter | None = None,
    *,
    with_path: bool = False,
    spans: list[tuple[int, int]] | None = None,
) -> list[str]:
    """One text per sentence, for the sentence and token legs; ``with_path`` prefixes the
    section path (the pooled sentence vector gains from it, token matching does not).
    ``spans``: the passage's sentence spans if already found (:func:`sentence_rows`)."""
    if passage.kind == "front_matter" and front_matter is not None:
        return front_matter_sentences(front_matter)
    prefix = " > ".join(passage.section.path) + ": " if with_path else ""
    return [
        collapse_space(prefix + strip_markers(passage.text[s:e]))
        for s, e in (spans or _spans(passage))
    ]


def sentence_quotes(
    passage: Passage,
    front_matter: FrontMatter | None = None,
    *,
    spans: list[tuple[int, int]] | None = None,
) -> list[str]:
    """The quotable form of each row of :func:`sentence_texts`, in the same order: the
    passage's own words with footnote markers kept (they say which footnotes a sentence
    bears), or a readable fact for a title page."""
    if passage.kind == "front_matter" and front_matter is not None:
        return [fact.quote for fact in front_matter_facts(front_matter)]
    return [collapse_space(passage.text[s:e]) for s, e in (spans or _spans(passage))]


@dataclass(frozen=True)
class SentenceRows:
    """A passage's sentence rows in the three forms the index stores, row for row."""

    probes: list[str]  # with the section path: the sentence vectors
    bare: list[str]  # without it: the token vectors
    quotes: list[str]  # markers kept: what an answer quotes


def sentence_rows(passage: Passage, front_matter: FrontMatter | None = None) -> SentenceRows:
    """All three forms from one sentence split: splitting is the slowest step of a build
    outside the model, and the three forms need the same spans."""
    spans = None if passage.kind == "front_matter" and front_matter else _spans(passage)
    return SentenceRows(
        probes=sentence_texts(passage, front_matter, with_path=True, spans=spans),
        bare=sentence_texts(passage, front_matter, spans=spans),
        quotes=sentence_quotes(passage, front_matter, spans=spans),
    )


def footnote_text(footnote: Footnote) -> str:
    return collapse_space(f"Source: {footnote.citation}")
