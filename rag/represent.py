"""What the retrievers see of a passage or a footnote.

Display text keeps footnote markers; to an encoder or BM25 they are noise, so they are
removed here. The section path is prepended because a passage on "Security Cooperation"
often never says "security" — the heading is part of its meaning.
"""

from __future__ import annotations

from rag.records import Footnote, FrontMatter, Passage
from rag.text import collapse_space, strip_markers


def front_matter_text(fm: FrontMatter) -> str:
    """Spell out the front matter's roles, so "who wrote this?" meets "author"."""
    parts = [f"Title: {fm.title}." if fm.title else ""]
    if fm.author:
        role = f", {fm.author_role}" if fm.author_role else ""
        parts.append(f"Written by author {fm.author}{role}.")
    if fm.centre or fm.institute:
        parts.append(f"Published by {', '.join(x for x in (fm.centre, fm.institute) if x)}.")
    if fm.editor:
        parts.append(f"Edited by editor {fm.editor}.")
    if fm.date_text:
        parts.append(f"Publication date: {fm.date_text}.")
    if fm.disclaimer:
        parts.append(f"Disclaimer: {fm.disclaimer}.")
    return collapse_space(" ".join(p for p in parts if p))


def passage_text(passage: Passage, front_matter: FrontMatter | None = None) -> str:
    if passage.kind == "front_matter" and front_matter is not None:
        return front_matter_text(front_matter)
    path = " > ".join(passage.section.path)
    return collapse_space(f"{path}: {strip_markers(passage.text)}")


def footnote_text(footnote: Footnote) -> str:
    return collapse_space(f"Source: {footnote.citation}")
