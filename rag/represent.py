"""What the retrievers see of a passage or a footnote.

Display text keeps footnote markers; to an encoder or BM25 they are noise, so they are
removed here. The section path is prepended because a passage on "Security Cooperation"
often never says "security" — the heading is part of its meaning. Front matter is spelled
out as sentences naming each role (author, editor, publisher, date), because a reader asks
"who wrote this?" while the page only says "By".
"""

from __future__ import annotations

from rag.records import Footnote, FrontMatter, Passage
from rag.sentences import sentence_spans
from rag.text import collapse_space, strip_markers


def front_matter_sentences(fm: FrontMatter) -> list[str]:
    out = []
    if fm.title:
        out.append(f"The title of the brief (document, paper) is: {fm.title}.")
    if fm.author:
        role = f", whose position is {fm.author_role}" if fm.author_role else ""
        out.append(f"The brief was written by the author (writer) {fm.author}{role}.")
    if fm.centre or fm.institute:
        org = ", ".join(x for x in (fm.centre, fm.institute) if x)
        out.append(f"The brief was published by the institute (think tank, organisation) {org}.")
    if fm.editor:
        out.append(f"The brief was edited by the editor {fm.editor}.")
    if fm.date_text:
        out.append(f"The brief was published (released, dated) on {fm.date_text}.")
    if fm.disclaimer:
        out.append(f"Disclaimer of the brief: {fm.disclaimer}.")
    return out or [collapse_space(" ".join(fm.lines))]


def passage_text(passage: Passage, front_matter: FrontMatter | None = None) -> str:
    """One text per passage, for the passage vector and BM25."""
    if passage.kind == "front_matter" and front_matter is not None:
        return " ".join(front_matter_sentences(front_matter))
    path = " > ".join(passage.section.path)
    return collapse_space(f"{path}: {strip_markers(passage.text)}")


def sentence_texts(
    passage: Passage, front_matter: FrontMatter | None = None, *, with_path: bool = False
) -> list[str]:
    """One text per sentence, for the sentence and token legs; ``with_path`` prefixes the
    section path (the pooled sentence vector gains from it, token matching does not)."""
    if passage.kind == "front_matter" and front_matter is not None:
        return front_matter_sentences(front_matter)
    prefix = " > ".join(passage.section.path) + ": " if with_path else ""
    spans = sentence_spans(passage.text) or [(0, len(passage.text))]
    return [collapse_space(prefix + strip_markers(passage.text[s:e])) for s, e in spans]


def footnote_text(footnote: Footnote) -> str:
    return collapse_space(f"Source: {footnote.citation}")
