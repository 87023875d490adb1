"""When a question asks *when*, *who published* or *where a figure comes from*, the quoted
sentence often does not say, but the footnote it cites does ("…$19 million in funds.¹⁸" is
dated only by footnote 18: "U.S. Embassy & Consulate in Pakistan, May 12, 2022"). This
module says what a question asks of that kind and what the cited footnote adds.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import date
from typing import Literal

from rag.records import Footnote
from rag.text import markers_in

Asked = Literal["when", "who"]

_WHEN_RE = re.compile(
    r"\bwhen\b|\b(?:what|which)\s+(?:date|day|year|month|time)\b|\bhow\s+long\s+ago\b",
    re.IGNORECASE,
)
_WHO_RE = re.compile(
    r"\bwho\s+(?:published|issued|released|reported|announced|wrote|stated|said)\b"
    # Not "which agency" or "which organisation": those ask about the subject, not the source.
    r"|\b(?:which|what)\s+(?:source|publication|outlet|website|newspaper|publisher)\b"
    r"|\baccording\s+to\s+(?:whom|what|which)\b"
    r"|\bwhere\b.*\b(?:come|comes|came|coming)\s+from\b"
    r"|\bwhere\b.*\bfrom\b|\bsource\s+of\b",
    re.IGNORECASE,
)
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DATED_RE = re.compile(rf"\b(?:1[89]|20)\d\d\b|\b(?:{'|'.join(_MONTHS)})\b")
_ISO_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def asked(question: str) -> frozenset[Asked]:
    """What of when / who published (or where from) ``question`` asks."""
    found: set[Asked] = set()
    if _WHEN_RE.search(question):
        found.add("when")
    if _WHO_RE.search(question):
        found.add("who")
    return frozenset(found)


def as_written(value: str) -> str:
    """A footnote date as a reader writes it: ``2022-05-12`` → ``May 12, 2022``."""
    match = _ISO_RE.match(value)
    if not match:
        return value  # "Winter 1991" is kept as the citation has it
    day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def _missing(sentence: str, note: Footnote, asks: Collection[Asked]) -> bool:
    """Does the sentence leave out what the question asks and the footnote has?"""
    if "when" in asks and note.date and not _DATED_RE.search(sentence):
        return True
    publisher = (note.publisher or "").casefold()
    return "who" in asks and bool(publisher) and publisher not in sentence.casefold()


def provenance(
    sentence: str,
    footnotes: Sequence[Footnote],
    asks: Collection[Asked],
    skip: Collection[int],
    quoted: str = "",
) -> list[Footnote]:
    """The footnotes cited by ``sentence`` (its markers) that supply what the question asks
    and the quoted text does not say. ``quoted`` is everything the answer quotes from the
    same passage (a date in the sentence before counts); numbers in ``skip`` were given."""
    if not asks:
        return []
    said = quoted or sentence
    marked = markers_in(sentence)
    return [
        note
        for note in footnotes
        if note.number in marked and note.number not in skip and _missing(said, note, asks)
    ]


def note_text(note: Footnote) -> str:
    """``footnote 18: U.S. Embassy & Consulate in Pakistan, May 12, 2022`` (plain text)."""
    parts = [p for p in (note.publisher, as_written(note.date) if note.date else None) if p]
    return f"footnote {note.number}: {', '.join(parts) or note.citation}"
