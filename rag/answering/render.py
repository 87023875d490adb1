"""Turn chosen sentences (or generated text) into the answer's text: ``[n]`` after each
quoted sentence, a Markdown **Sources** footer, and URL annotations over both."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace

from rag.answering.provenance import asked, note_text, provenance
from rag.answering.records import (
    NAME_WIDTH,
    Answer,
    Candidate,
    Citation,
    Findings,
    UrlAnnotation,
    fit,
)
from rag.answering.selection import select
from rag.text import collapse_space, markers_in, page_label, strip_markers

NOT_FOUND = "I could not find anything about that in the indexed briefs"

# One rule for a sentence's opening words: a connective that only ties the sentence to the
# one before it in the brief is dropped, since an answer quotes the sentence without that
# one: additive ("Moreover,", "In addition,"), enumerating ("Second,", "Thirdly,",
# "Finally,"), comparing ("Similarly,") or contrasting ("However,"). An opening that says
# something of its own is kept as written: a time ("Most recently,", "In 2023,", "Today,"),
# a scope ("On the global front,").
_ORDINALS = r"first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last|final"
_CONNECTIVE_RE = re.compile(
    rf"^(?:(?:{_ORDINALS})(?:ly)?|next|moreover|furthermore|further|additionally|"
    r"also|besides|in addition|on top of that|what is more|similarly|likewise|equally|"
    r"in the same vein|by the same token|however|nevertheless|nonetheless|still|yet|"
    r"that said|even so|in turn)\s*,\s*",
    re.IGNORECASE,
)
# Characters that would make quoted text Markdown or HTML in a chat front end.
_MARKDOWN_RE = re.compile(r"([\\`*_\[\]<>])")
_CITED_RE = re.compile(r"(?<!\\)\[(\d{1,3})\]")


def escape(text: str) -> str:
    """Text made inert in a front end that renders Markdown or HTML."""
    return _MARKDOWN_RE.sub(r"\\\1", text)


def quote(text: str) -> str:
    """A sentence made readable and inert: no leading connective to a sentence the answer
    does not quote ("Moreover,", "Second,", "However,"), no Markdown or HTML."""
    text = _CONNECTIVE_RE.sub("", text, count=1)
    return escape(text[:1].upper() + text[1:])


def source_names(citations: Sequence[Citation]) -> tuple[str, ...]:
    """A short, distinct, unnumbered name per citation, for a front end's chips and list
    of sources: the section's title (:attr:`Citation.name`); where two citations share
    it, the section's first words and the passage's own ("Introduction: Pakistan helped
    the…"), pages first when they tell the two apart."""
    names = [c.name for c in citations]
    shared = {n for n in names if names.count(n) > 1}
    for i, citation in enumerate(citations):
        if citation.name not in shared:
            continue
        passage = citation.passage
        section = fit(citation.name.rstrip("…"), 14)
        if (
            passage.pages
            and len({c.passage.pages for c in citations if c.name == citation.name}) > 1
        ):
            names[i] = fit(f"{section}, {page_label(passage.pages)}")
            continue
        opening = _CONNECTIVE_RE.sub("", collapse_space(strip_markers(passage.text)), count=1)
        names[i] = fit(f"{section}: {opening[:1].upper()}{opening[1:]}")
    for i, name in enumerate(names):  # still the same: numbered within the name, in order
        if names.count(name) > 1:
            names[i] = f"{fit(name, NAME_WIDTH - 4)} ({names[: i + 1].count(name)})"
    return tuple(names)


def numbered(findings: Findings) -> tuple[Citation, ...]:
    """Every retrieved passage as ``[1]..[k]``, for a generator that picks what to cite."""
    return tuple(
        Citation(i, hit, findings.footnotes(hit.passage))
        for i, hit in enumerate(findings.hits, start=1)
    )


def cited_in(text: str, citations: Sequence[Citation]) -> tuple[Citation, ...]:
    """The citations whose ``[n]`` appears in ``text``; all of them when none does."""
    numbers = {int(n) for n in _CITED_RE.findall(text)}
    used = tuple(c for c in citations if c.number in numbers)
    return used or tuple(citations)


def extractive(findings: Findings, footer: bool = True) -> Answer:
    """Quoted sentences, each followed by ``[n]`` (and, when the question asks when or who
    published, what the cited footnote says of it), then the Sources footer unless the
    client lists the sources itself (``footer=False``)."""
    if not findings.found:
        return not_found(findings)
    chosen = select(findings)
    citations: dict[str, Citation] = {}
    for candidate in chosen:
        passage = candidate.hit.passage
        if passage.id not in citations:
            number = len(citations) + 1
            citations[passage.id] = Citation(number, candidate.hit, findings.footnotes(passage))
    asks = asked(findings.question)
    given: set[int] = set()
    body: list[str] = []
    spans: list[UrlAnnotation] = []
    offset = 0
    for i, candidate in enumerate(chosen):
        citation = citations[candidate.hit.passage.id]
        quoted = f"{quote(candidate.text)} [{citation.number}]"
        same = " ".join(c.text for c in chosen if c.hit.passage.id == candidate.hit.passage.id)
        notes = provenance(candidate.text, citation.footnotes, asks, given, same)
        given.update(n.number for n in notes)
        aside = "".join(f" ({escape(note_text(n))})" for n in notes)
        gap = " " if i < len(chosen) - 1 else ""
        spans += _sentence_annotations(candidate, citation, offset, offset + len(quoted))
        body.append(f"{quoted}{aside}{gap}")
        offset += len(body[-1])
    return with_sources(findings, body, tuple(citations.values()), spans, footer)


def generated(
    findings: Findings, text: str, citations: Sequence[Citation], footer: bool = True
) -> Answer:
    """A generated body with the citations it names, their footer and annotations."""
    used = cited_in(text, citations)
    return replace(with_sources(findings, [text], used, footer=footer), generated=True)


def _sentence_annotations(
    candidate: Candidate, citation: Citation, start: int, end: int
) -> list[UrlAnnotation]:
    """A sentence carrying footnote markers is supported by those footnotes' URLs."""
    numbers = markers_in(candidate.text)
    return [
        UrlAnnotation(note.url, note.title or note.citation, start, end)
        for note in citation.footnotes
        if note.url and note.number in numbers
    ]


def with_sources(
    findings: Findings,
    body: Sequence[str],
    citations: Sequence[Citation],
    spans: Sequence[UrlAnnotation] = (),
    footer: bool = True,
) -> Answer:
    """Body parts + the Sources footer for ``citations`` → the final :class:`Answer`.

    Without the footer (a client that lists the sources itself) the answer keeps its
    citations and the annotations over its sentences."""
    offset = sum(len(p) for p in body)
    lines, notes = sources_footer(citations, offset, findings.library) if footer else ([], [])
    return Answer(
        question=findings.question,
        query=findings.query,
        found=True,
        body=tuple(body),
        footer=tuple(lines),
        citations=tuple(citations),
        annotations=(*spans, *notes),
        relevance=findings.relevance,
        library=findings.library,
    )


def sources_footer(
    citations: Sequence[Citation], offset: int, library: bool = False
) -> tuple[list[str], list[UrlAnnotation]]:
    """Markdown lines listing each cited passage (section path, and in a ``library`` of
    several briefs the brief's title, also when only one is cited) and its footnotes.

    ``offset`` is where the footer starts in the text, so each footnote's annotation spans
    its own line there.
    """
    lines = ["\n\n**Sources**\n\n"]
    notes: list[UrlAnnotation] = []
    position = offset + len(lines[0])
    for citation in citations:
        pages = citation.passage.pages
        where = f" ({page_label(pages)})" if pages else ""
        title = citation.passage.document.title
        if library and title:
            where += f" — *{escape(title)}*"
        lines.append(f"- [{citation.number}] {quote(citation.label)}{where}\n")
        position += len(lines[-1])
        for note in citation.footnotes:
            link = f" <{note.url}>" if note.url else ""
            line = f"  - Footnote {note.number}: {quote(note.citation)}{link}\n"
            if note.url:
                start = position + len("  - ")
                title = note.title or note.citation
                notes.append(UrlAnnotation(note.url, title, start, start + len(line) - 5))
            lines.append(line)
            position += len(line)
    return lines, notes


def _named(terms: Sequence[str], question: str) -> str:
    """``terms`` as a reader says them: those written together in the question joined
    ("White", "House" → "White House"), the rest listed with "or"."""
    groups: list[str] = []
    for term in terms:
        if groups and re.search(
            rf"{re.escape(groups[-1])}[\s-]+{re.escape(term)}", question, re.IGNORECASE
        ):
            joiner = question[question.lower().find(groups[-1].lower()) + len(groups[-1])]
            groups[-1] = f"{groups[-1]}{'-' if joiner == '-' else ' '}{term}"
        else:
            groups.append(term)
    groups = [escape(g) for g in groups]
    return groups[0] if len(groups) == 1 else f"{', '.join(groups[:-1])} or {groups[-1]}"


def why_not(findings: Findings) -> str:
    """What the briefs in scope lack to answer, as a clause (empty when only the gate's
    threshold says so)."""
    many = len(findings.titles) > 1
    subject = "none of the briefs" if many else "the brief"
    if findings.missing:
        verb = "mentions" if many else "does not mention"
        return f"{subject} {verb} {_named(findings.missing, findings.question)}"
    if findings.lacks:
        verb = "gives" if many else "gives no"
        return f"{subject} {verb} {'a ' if many else ''}{findings.lacks} for that"
    return ""


def not_found(findings: Findings) -> Answer:
    titles = "; ".join(findings.titles)
    scope = f" ({quote(titles)})" if titles else ""
    reason = why_not(findings)
    text = (
        f"{NOT_FOUND}{scope}{': ' + reason if reason else ''}, so I will not guess. "
        "Try rephrasing the question, or ask about a topic the brief covers."
    )
    return Answer(
        question=findings.question,
        query=findings.query,
        found=False,
        body=(text,),
        relevance=findings.relevance,
    )


def pieces(
    parts: Sequence[str], spans: Sequence[UrlAnnotation], offset: int = 0
) -> Iterator[tuple[str, tuple[UrlAnnotation, ...]]]:
    """(text, the annotations ending inside it) for each part, ``offset`` being where the
    first part starts in the answer text."""
    for part in parts:
        end = offset + len(part)
        yield part, tuple(s for s in spans if offset < s.end <= end)
        offset = end
