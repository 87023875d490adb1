"""Grounded answers: the best sentences of the retrieved passages, each cited, nothing invented.

:func:`gather` retrieves passages for the question and scores each of their sentences (and
the footnotes they cite) against it: cosine similarity from one batched encoder call, plus
the share of the question's terms the sentence contains. The best score is the evidence
that anything relevant was found at all; below ``settings.no_answer_threshold`` the answer
says so plainly instead of quoting noise. :func:`compose` quotes the best sentences in
reading order, each followed by ``[n]``, and ends with a Markdown **Sources** list.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from rag.errors import QueryError
from rag.records import Footnote, FrontMatter, Hit, Passage
from rag.sentences import sentence_spans
from rag.text import collapse_space, markers_in, match_key, strip_markers

if TYPE_CHECKING:
    from rag.engine import Engine
    from rag.index import IndexHandle

NOT_FOUND = "I could not find anything about that in the indexed briefs"

# Weights of term coverage beside cosine similarity, measured on eval/qa.jsonl,
# eval/heldout.jsonl, eval/footnotes.jsonl and off-topic questions (README, "How
# 'nothing relevant' is decided"):
# 0.3 separates on-topic from off-topic questions best (the relevance gate), 0.7 picks the
# sentences that hold the expected evidence most often (the ranking).
GATE_WEIGHT = 0.3
RANK_WEIGHT = 0.7
MAX_SENTENCES = 3
MARGIN = 0.2  # sentences this close to the best one are quoted too
# Words of the question form, not of its topic: matching them is no evidence.
_QUESTION_WORDS = frozenset(
    {"who", "whom", "whose", "what", "when", "where", "why", "how", "which", "tell", "give"}
)
# Pronouns that mean nothing without an earlier turn ("and when was that?").
_ANAPHORA = frozenset(
    {"it", "its", "that", "they", "them", "their", "he", "him", "his", "she", "her"}
    | {"those", "these", "there", "then", "such"}
)
_FOLLOW_UP_LEADS = ("and ", "and?", "but ", "also ", "so ", "what about ", "how about ")
_FOLLOW_UP_MAX_WORDS = 8
_CONNECTIVE_RE = re.compile(
    r"^(?:moreover|furthermore|additionally|similarly|likewise|also|in addition|besides),\s*",
    re.IGNORECASE,
)
# Characters that would make quoted text Markdown or HTML in a chat front end.
_MARKDOWN_RE = re.compile(r"([\\`*_\[\]<>])")
_CITED_RE = re.compile(r"(?<!\\)\[(\d{1,3})\]")


@dataclass(frozen=True)
class Unit:
    """A quotable piece of a retrieved passage: one sentence, or one footnote it cites."""

    hit: Hit
    text: str  # what the answer quotes
    probe: str  # what is compared with the question
    order: int
    footnote: int | None = None
    cosine: float = 0.0
    coverage: float = 0.0  # IDF-weighted share of the question's terms it contains

    @property
    def relevance(self) -> float:
        """How much this unit bears on the question; the gate compares it to the threshold."""
        return self.cosine + GATE_WEIGHT * self.coverage

    @property
    def score(self) -> float:
        """How well this unit answers the question; ranks the units worth quoting."""
        return self.cosine + RANK_WEIGHT * self.coverage


@dataclass(frozen=True)
class Evidence:
    """What retrieval found for a question, and how strongly it bears on it."""

    question: str
    query: str
    threshold: float
    hits: tuple[Hit, ...] = ()
    units: tuple[Unit, ...] = ()
    notes: dict[str, tuple[Footnote, ...]] | None = None  # passage id → its footnotes
    titles: tuple[str, ...] = ()  # titles of the indexed documents

    @property
    def score(self) -> float:
        return max((u.relevance for u in self.units), default=0.0)

    @property
    def found(self) -> bool:
        return self.score >= self.threshold

    @property
    def top_dense(self) -> float | None:
        return self.hits[0].dense_score if self.hits else None

    def footnotes(self, passage: Passage) -> tuple[Footnote, ...]:
        return (self.notes or {}).get(passage.id, ())


@dataclass(frozen=True)
class Citation:
    """Passage ``[number]`` of an answer, with the full records of its footnotes."""

    number: int
    hit: Hit
    footnotes: tuple[Footnote, ...] = ()

    @property
    def passage(self) -> Passage:
        return self.hit.passage

    @property
    def source_id(self) -> str:
        """Unique per passage, so a one-document corpus does not collapse to one source."""
        return f"{self.passage.document.id}#{self.passage.id}"

    @property
    def label(self) -> str:
        return " › ".join(self.passage.section.path) or self.passage.section.title


@dataclass(frozen=True)
class UrlAnnotation:
    """A footnote URL and the span of the answer text (``content[start:end]``) it supports."""

    url: str
    title: str
    start: int
    end: int


@dataclass(frozen=True)
class Answer:
    """The answer as pieces to stream, the passages it cites and its URL annotations."""

    question: str
    query: str
    found: bool
    parts: tuple[str, ...]
    citations: tuple[Citation, ...] = ()
    annotations: tuple[UrlAnnotation, ...] = ()
    evidence: float = 0.0
    top_dense: float | None = None

    @property
    def text(self) -> str:
        return "".join(self.parts)


# --------------------------------------------------------------------------- question


def resolve_query(turns: Sequence[str]) -> str:
    """The retrieval query for the last user turn.

    A short follow-up with a pronoun ("and when was that?") means nothing alone, so it is
    searched together with the user turn before it.
    """
    turns = [t.strip() for t in turns if t and t.strip()]
    if not turns:
        return ""
    last = turns[-1]
    if len(turns) < 2:
        return last
    lowered = last.casefold()
    words = re.findall(r"[a-z']+", lowered)
    follow_up = lowered.startswith(_FOLLOW_UP_LEADS) or (
        len(words) <= _FOLLOW_UP_MAX_WORDS and any(w in _ANAPHORA for w in words)
    )
    return f"{turns[-2]} {last}" if follow_up else last


@lru_cache(maxsize=1)
def _stemmer() -> Any:  # PyStemmer ships no type hints
    import Stemmer

    return Stemmer.Stemmer("english")


def _terms(texts: Sequence[str]) -> list[set[str]]:
    """Stemmed content words, as BM25 sees them, minus the words of the question form."""
    import bm25s

    tokens = bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False
    )
    return [set(t) - _QUESTION_WORDS for t in tokens]


# --------------------------------------------------------------------------- evidence


def _front_matter_facts(fm: FrontMatter) -> list[tuple[str, str]]:
    """(quoted, probe) sentences for a title page, whose lines ("By", "Mahrukh Khan") are
    not sentences. The probe names each role with its synonyms, so "the writer" meets it."""
    facts = []
    if fm.title:
        facts.append(
            (f"The brief is titled “{fm.title}”.", f"The title (name) of the brief is {fm.title}.")
        )
    if fm.author:
        role = f", {fm.author_role}" if fm.author_role else ""
        facts.append(
            (
                f"The brief was written by {fm.author}{role}.",
                f"The brief was written by the author (writer) {fm.author}, whose position "
                f"(job, role) is {fm.author_role or 'not given'}.",
            )
        )
    if fm.centre or fm.institute:
        org = ", ".join(x for x in (fm.centre, fm.institute) if x)
        facts.append(
            (
                f"It was published by {org}.",
                f"The brief was published by the institute (think tank, organisation) {org}.",
            )
        )
    if fm.editor:
        facts.append(
            (f"It was edited by {fm.editor}.", f"The brief was edited by the editor {fm.editor}.")
        )
    if fm.date_text:
        facts.append(
            (
                f"It was published on {fm.date_text}.",
                f"The brief was published (released, dated) on {fm.date_text}.",
            )
        )
    if fm.disclaimer:
        facts.append((f"{fm.disclaimer}.", f"Disclaimer of the brief: {fm.disclaimer}."))
    return facts


def _passage_units(hit: Hit, engine: Engine) -> list[Unit]:
    passage = hit.passage
    doc = engine.handle.documents.get(passage.document.id)
    if passage.kind == "front_matter" and doc is not None and doc.front_matter is not None:
        facts = _front_matter_facts(doc.front_matter)
    else:
        path = " > ".join(passage.section.path)
        facts = []
        for a, b in sentence_spans(passage.text):
            sentence = collapse_space(passage.text[a:b])
            # The heading is part of a sentence's meaning, as it is for the retriever.
            facts.append((sentence, f"{path}: {strip_markers(sentence)}"))
    units = [Unit(hit, text, probe, order=i) for i, (text, probe) in enumerate(facts)]
    units += [
        Unit(
            hit,
            f"Footnote {f.number}: {f.citation}",
            f"Source: {f.citation}",
            order=len(units) + j,
            footnote=f.number,
        )
        for j, f in enumerate(passage.footnotes)
    ]
    return units


def _footnotes(engine: Engine, passage: Passage) -> tuple[Footnote, ...]:
    found = []
    for ref in passage.footnotes:
        note = engine.handle.footnote((passage.document.id, ref.number))
        found.append(note or Footnote(number=ref.number, citation=ref.citation, url=ref.url))
    return tuple(found)


def _unique(units: list[Unit]) -> list[Unit]:
    """Adjacent passages overlap by a sentence; quote each sentence once (best rank first)."""
    seen: set[str] = set()
    kept = []
    for unit in units:
        key = match_key(unit.text)
        if key not in seen:
            seen.add(key)
            kept.append(unit)
    return kept


@lru_cache(maxsize=2)
def _idf(handle: IndexHandle) -> dict[str, float]:
    """Inverse passage frequency of each term: a word every passage has proves nothing."""
    texts = [" ".join((*p.section.path, p.text)) for p in handle.passages]
    df: dict[str, int] = {}
    for terms in _terms(texts):
        for term in terms:
            df[term] = df.get(term, 0) + 1
    n = len(texts)
    return {term: math.log((n + 1) / (count + 0.5)) for term, count in df.items()}


def _coverage(want: set[str], have: set[str], idf: dict[str, float], unseen: float) -> float:
    total = sum(idf.get(t, unseen) for t in want)
    return sum(idf.get(t, unseen) for t in want & have) / total if total else 0.0


def _score(engine: Engine, query: str, units: list[Unit]) -> list[Unit]:
    probes = [u.probe for u in units]
    vectors = engine.encoder.encode([query, *probes])
    cosines = vectors[1:] @ vectors[0]
    want, *have = _terms([query, *probes])
    idf = _idf(engine.handle)
    # A term the corpus never uses is the strongest sign the question is about something else.
    unseen = math.log(len(engine.handle.passages) + 2) + 1.0
    return [
        replace(
            unit,
            cosine=round(float(cos), 6),
            coverage=round(_coverage(want, terms, idf, unseen), 6),
        )
        for unit, cos, terms in zip(units, cosines, have, strict=True)
    ]


def gather(engine: Engine, turns: Sequence[str], k: int | None = None) -> Evidence:
    """Retrieve for the last user turn (follow-ups resolved) and score what came back.

    ``turns`` are the user messages, oldest first. Blocking and CPU-bound (two encoder calls):
    run it off the event loop.
    """
    query = resolve_query(turns)
    if not query:
        raise QueryError("the question is empty; ask something about the brief")
    # Hybrid on purpose: the no-answer threshold was measured on what it returns.
    hits = tuple(engine.search(query, k=k, retriever="hybrid").hits)
    units = _unique([u for h in hits for u in _passage_units(h, engine)])
    return Evidence(
        question=turns[-1].strip(),
        query=query,
        threshold=engine.settings.no_answer_threshold,
        hits=hits,
        units=tuple(_score(engine, query, units)) if units else (),
        notes={h.passage.id: _footnotes(engine, h.passage) for h in hits},
        titles=tuple(d.title for d in engine.handle.documents.values()),
    )


# --------------------------------------------------------------------------- composing


def _bearer(unit: Unit, units: Sequence[Unit]) -> Unit | None:
    """A footnote is quoted through the sentence that carries its marker: the claim it backs."""
    if unit.footnote is None:
        return unit
    same = [u for u in units if u.hit.passage.id == unit.hit.passage.id and u.footnote is None]
    bearers = [u for u in same if unit.footnote in markers_in(u.text)]
    return max(bearers or same, key=lambda u: u.score, default=None)


def _select(evidence: Evidence) -> list[Unit]:
    ranked = sorted(evidence.units, key=lambda u: (-u.score, u.hit.rank, u.order))
    best = ranked[0].score
    chosen: list[Unit] = []
    for unit in ranked:
        if unit.score < best - MARGIN:
            break
        if unit.relevance < evidence.threshold:
            continue
        quoted = _bearer(unit, evidence.units)
        if quoted is not None and quoted not in chosen:
            chosen.append(quoted)
        if len(chosen) == MAX_SENTENCES:
            break
    # Reading order: passages in the order of their best sentence, sentences as written.
    first: dict[str, int] = {}
    for i, unit in enumerate(chosen):
        first.setdefault(unit.hit.passage.id, i)
    return sorted(chosen, key=lambda u: (first[u.hit.passage.id], u.order))


def quote(text: str) -> str:
    """A sentence made readable and inert: no leading "Moreover,", no Markdown or HTML."""
    text = _CONNECTIVE_RE.sub("", text, count=1)
    text = text[:1].upper() + text[1:]
    return _MARKDOWN_RE.sub(r"\\\1", text)


def _number(units: list[Unit], evidence: Evidence) -> dict[str, Citation]:
    citations: dict[str, Citation] = {}
    for unit in units:
        passage = unit.hit.passage
        if passage.id not in citations:
            citations[passage.id] = Citation(
                len(citations) + 1, unit.hit, evidence.footnotes(passage)
            )
    return citations


def compose(evidence: Evidence) -> Answer:
    """The extractive answer: quoted sentences with ``[n]`` and a Sources list."""
    if not evidence.found:
        return not_found(evidence)
    units = _select(evidence)
    by_passage = _number(units, evidence)
    parts: list[str] = []
    spans: list[UrlAnnotation] = []
    offset = 0
    for i, unit in enumerate(units):
        citation = by_passage[unit.hit.passage.id]
        piece = f"{quote(unit.text)} [{citation.number}]" + (" " if i < len(units) - 1 else "")
        spans += _sentence_annotations(unit, citation, offset, offset + len(piece.rstrip()))
        parts.append(piece)
        offset += len(piece)
    return assemble(evidence, parts, tuple(by_passage.values()), spans)


def _sentence_annotations(
    unit: Unit, citation: Citation, start: int, end: int
) -> list[UrlAnnotation]:
    """A sentence carrying footnote markers is supported by those footnotes' URLs."""
    numbers = markers_in(unit.text)
    return [
        UrlAnnotation(note.url, note.title or note.citation, start, end)
        for note in citation.footnotes
        if note.url and note.number in numbers
    ]


def numbered(evidence: Evidence) -> tuple[Citation, ...]:
    """Every retrieved passage as ``[1]..[k]``, for a generator that picks what to cite."""
    return tuple(
        Citation(i, hit, evidence.footnotes(hit.passage))
        for i, hit in enumerate(evidence.hits, start=1)
    )


def cited_in(text: str, citations: Sequence[Citation]) -> tuple[Citation, ...]:
    """The citations whose ``[n]`` appears in ``text``; all of them when none does."""
    numbers = {int(n) for n in _CITED_RE.findall(text)}
    used = tuple(c for c in citations if c.number in numbers)
    return used or tuple(citations)


def assemble(
    evidence: Evidence,
    body: Sequence[str],
    citations: Sequence[Citation],
    spans: Sequence[UrlAnnotation] = (),
) -> Answer:
    """Body parts + the Sources footer for ``citations`` → the final :class:`Answer`."""
    offset = sum(len(p) for p in body)
    footer, notes = sources_footer(citations, offset)
    return Answer(
        question=evidence.question,
        query=evidence.query,
        found=True,
        parts=(*body, *footer),
        citations=tuple(citations),
        annotations=(*spans, *notes),
        evidence=evidence.score,
        top_dense=evidence.top_dense,
    )


def sources_footer(
    citations: Sequence[Citation], offset: int
) -> tuple[list[str], list[UrlAnnotation]]:
    """Markdown lines listing each cited passage (section path) and its footnotes.

    ``offset`` is where the footer starts in the content, so each footnote's annotation
    spans its own line there.
    """
    lines = ["\n\n**Sources**\n\n"]
    notes: list[UrlAnnotation] = []
    position = offset + len(lines[0])
    for citation in citations:
        lines.append(f"- [{citation.number}] {quote(citation.label)}\n")
        position += len(lines[-1])
        for note in citation.footnotes:
            link = f" <{note.url}>" if note.url else ""
            line = f"  - Footnote {note.number}: {quote(note.citation)}{link}\n"
            if note.url:
                start = position + len("  - ")
                notes.append(
                    UrlAnnotation(
                        note.url, note.title or note.citation, start, start + len(line) - 5
                    )
                )
            lines.append(line)
            position += len(line)
    return lines, notes


def not_found(evidence: Evidence) -> Answer:
    titles = "; ".join(evidence.titles)
    scope = f" ({quote(titles)})" if titles else ""
    text = (
        f"{NOT_FOUND}{scope}, so I will not guess. "
        "Try rephrasing the question, or ask about a topic the brief covers."
    )
    return Answer(
        question=evidence.question,
        query=evidence.query,
        found=False,
        parts=(text,),
        evidence=evidence.score,
        top_dense=evidence.top_dense,
    )


def answer(engine: Engine, turns: Sequence[str], k: int | None = None) -> Answer:
    """Gather and compose in one call (blocking; run it off the event loop)."""
    return compose(gather(engine, turns, k))
