"""Questions about the document itself (who wrote, edited or published it, when, its
title), told apart from questions about what it says: in a library of briefs, "Who wrote
the brief?" has one answer per brief, not one brief's picked at random."""

from __future__ import annotations

import re

_ABOUT_THE_DOCUMENT = re.compile(
    r"\b(?:who\s+(?:wrote|authored|edited|published|issued|released)"
    r"|author(?:s|ed)?|editor|publisher"
    r"|when\s+was\s+\w+(?:\s+\w+)?\s+(?:published|released|written|issued)"
    r"|(?:publication|release)\s+date|title\s+of)\b",
    re.IGNORECASE,
)
# The question must point at a document (the brief, this paper, it), not at something in it
# ("who published the trade figures?" asks about a source the brief cites).
_THE_DOCUMENT = re.compile(
    r"\b(?:brief|briefs|paper|report|document|publication|study|it|this|these)\b\W*$"
    r"|\b(?:the|this|that)\s+(?:brief|paper|report|document|publication|study)\b"
    r"|\b(?:was|is)\s+(?:it|this)\b",
    re.IGNORECASE,
)


def asks_about_the_document(question: str) -> bool:
    """Whether ``question`` asks who wrote, edited or published a brief, or when, or its
    title, rather than about what a brief says."""
    return bool(_ABOUT_THE_DOCUMENT.search(question) and _THE_DOCUMENT.search(question))


# What a sentence answering each kind of question about the document says, as the title
# page's sentences put it (rag.chunking.represent: "The brief was written by …").
_ROLES = (
    (re.compile(r"\bedit", re.IGNORECASE), r"\bedit"),
    (re.compile(r"\b(?:wrote|written|author)", re.IGNORECASE), r"\b(?:writ|author|by\b)"),
    (
        re.compile(r"\b(?:publish|release|issued|when)", re.IGNORECASE),
        r"\b(?:publish|releas|issu|dated)",
    ),
    (re.compile(r"\btitle", re.IGNORECASE), r"\btitle"),
)


def answer_must_say(question: str) -> str:
    """A pattern an answering sentence holds for this question about the document ("edited"
    for "Who edited the brief?"), so a brief without an editor is not answered with its
    date; empty when the question names no such role."""
    return next((needed for asked, needed in _ROLES if asked.search(question)), "")
