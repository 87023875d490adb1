"""Footnote definitions: split a raw definition into citation, title, publisher, date, URL."""

from __future__ import annotations

import re
from datetime import datetime

from rag.records import Footnote
from rag.text import collapse_space, unescape_markdown

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
# "September 16, 2024" and the day-first "16 September 2024" (British and most non-US briefs).
DATE_RE = re.compile(
    rf"\b(?:(?:{_MONTHS})\s+\d{{1,2}},\s*\d{{4}}|\d{{1,2}}\s+(?:{_MONTHS})\s+\d{{4}})\b"
)
LOOSE_DATE_RE = re.compile(rf"\b(?:(?:{_MONTHS})|Winter|Spring|Summer|Autumn|Fall)\s+\d{{4}}\b")
_URL_RE = re.compile(r"<(https?://[^>\s]+)>|\b(https?://\S+[^\s.,;)>])")
_EMPHASIS_RE = re.compile(r"\*([^*]+)\*")
_QUOTED_RE = re.compile(r"[\"“]([^\"”]+?)[,.]?[\"”]")


def iso_date(text: str) -> str | None:
    """``September 16, 2024`` or ``16 September 2024`` → ``2024-09-16``; None when the text
    holds no such date (or no such day)."""
    match = DATE_RE.search(text)
    if not match:
        return None
    found = re.sub(r"\s+", " ", re.sub(r",\s*", ", ", match.group()))
    shape = "%d %B %Y" if found[0].isdigit() else "%B %d, %Y"
    try:
        return datetime.strptime(found, shape).date().isoformat()
    except ValueError:  # "31 February 2024"
        return None


def parse_footnote(number: int, raw: str) -> Footnote:
    """Parse one definition such as
    ``Ayaz Gul, "Pakistan Vows …," *Voice of America*, March 6, 2022, <https://…>``."""
    raw = collapse_space(unescape_markdown(raw))
    # The last URL is the link of the citation.
    url_match = next(reversed(list(_URL_RE.finditer(raw))), None)
    url = (url_match.group(1) or url_match.group(2)) if url_match else None
    without_url = raw[: url_match.start()] + raw[url_match.end() :] if url_match else raw
    without_url = without_url.strip().rstrip(",;. ").strip()

    emphasis = _EMPHASIS_RE.search(without_url)
    citation = collapse_space(_EMPHASIS_RE.sub(r"\1", without_url))
    quoted = _QUOTED_RE.search(without_url)
    date_match = DATE_RE.search(without_url) or LOOSE_DATE_RE.search(without_url)

    publisher: str | None
    if emphasis:
        publisher = emphasis.group(1).strip()
        head = without_url[: emphasis.start()]
    else:
        # No emphasis: the publisher is the comma segment after the title.
        rest = without_url[quoted.end() :] if quoted else without_url.split(",", 1)[-1]
        segments = [s.strip() for s in rest.split(",") if s.strip()]
        segments = [s for s in segments if not (DATE_RE.search(s) or LOOSE_DATE_RE.search(s))]
        segments = [s for s in segments if not re.fullmatch(r"\d{4}", s)]
        publisher = segments[0] if segments else None
        head = without_url[: quoted.end()] if quoted else without_url.split(",", 1)[0]

    if quoted and quoted.start() < len(head):
        title = quoted.group(1).strip()
    else:
        title = head.strip().rstrip(",").strip().strip('"“”') or None

    return Footnote(
        number=number,
        citation=citation,
        url=url,
        title=title,
        publisher=publisher,
        date=iso_date(without_url) or (date_match.group() if date_match else None),
    )
