"""The records of answering: what was found, what is quoted, and the answer itself.

Words used for one thing only: a *candidate* is a quotable sentence (or cited footnote) of a
retrieved passage; *relevance* is how much a candidate bears on the question (the no-answer
gate reads it); *findings* are what retrieval found for one question. "Evidence" stays the
evaluation's word for gold quotes.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.records import Footnote, Hit, Passage

# Weights of term coverage beside cosine similarity, measured on the eval sets and off-topic
# questions (docs/evaluation.md, "How 'nothing relevant' is decided"): 0.3 separates on-topic from
# off-topic questions best (the gate), 0.7 picks the sentences that hold the expected
# answer most often (the ranking).
GATE_WEIGHT = 0.3
RANK_WEIGHT = 0.7
# Open WebUI writes a source name longer than this as its first 15 and last 10 characters
# (SourceToken.svelte, getDisplayTitle), which made every chip of a one-document answer
# read "Current Pace of...artnership".
NAME_WIDTH = 30


def fit(text: str, width: int = NAME_WIDTH) -> str:
    """``text`` cut at a word (or, unbroken, at ``width``) to at most ``width`` characters,
    an ellipsis marking the cut."""
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    if text[width - 1] != " " and " " in cut.strip():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-–—") + "…"


@dataclass(frozen=True)
class Candidate:
    """A quotable piece of a retrieved passage: one sentence, or one footnote it cites."""

    hit: Hit
    text: str  # what the answer quotes (footnote markers kept)
    order: int  # position within its passage: sentences first, then footnotes
    footnote: int | None = None
    cosine: float = 0.0
    coverage: float = 0.0  # IDF-weighted share of the question's terms it contains
    # For a follow-up ("and when was it published?"): the share of the new turn's own words
    # it contains, the earlier turn's left out; 0.0 for a question that stands alone.
    turn_coverage: float = 0.0
    # For a question asking what should be done: a sentence that says so, in a section
    # where the brief says so (rag.answering.conclusions), ranks above one that reports.
    bonus: float = 0.0

    @property
    def relevance(self) -> float:
        """How much this candidate bears on the question; the gate compares it to the
        threshold."""
        return self.cosine + GATE_WEIGHT * self.coverage

    @property
    def score(self) -> float:
        """How well this candidate answers the question; ranks what is worth quoting."""
        return self.cosine + RANK_WEIGHT * self.coverage + self.bonus


@dataclass(frozen=True)
class Findings:
    """What retrieval found for one question, scored against it, from one index snapshot."""

    question: str
    query: str  # the question as searched (a follow-up joined to the turn before it)
    threshold: float
    hits: tuple[Hit, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    notes: dict[str, tuple[Footnote, ...]] | None = None  # passage id → its footnotes
    titles: tuple[str, ...] = ()  # titles of the indexed documents
    # A question about the document itself over several briefs is answered once per brief,
    # by a sentence matching this pattern ("" any); None: an ordinary question.
    per_brief: str | None = None
    # What the question turns on that no brief in scope mentions ("F-16"): it is declined
    # saying so, however close the nearest sentences come.
    missing: tuple[str, ...] = ()
    # The kind of fact the question's form asks for ("figure", "date") when no candidate
    # past the gate states one: declined too.
    lacks: str | None = None
    # No candidate past the gate bears on the question's topic words (the nearest
    # sentences share only words every passage has): declined too.
    unmatched: bool = False
    # A request for a summary: "topic" quotes each gathered passage's best sentence,
    # "whole" (a summary of the brief itself) each one's first; None: not a summary.
    summary: str | None = None

    @property
    def relevance(self) -> float:
        return max((c.relevance for c in self.candidates), default=0.0)

    @property
    def found(self) -> bool:
        if self.missing or self.lacks is not None or self.unmatched:
            return False
        return self.relevance >= self.threshold

    @property
    def library(self) -> bool:
        """True when the index holds more than one brief: every source then names its own."""
        return len(self.titles) > 1

    @property
    def follow_up(self) -> bool:
        """True when the question was searched together with the turn before it."""
        return self.query != self.question

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

    @property
    def name(self) -> str:
        """The section's own title, cut at a word within :data:`NAME_WIDTH` characters and
        not numbered: a front end that lists sources numbers them itself ("1 Security
        Cooperation", not "1 [1] Security Cooperation"). Two citations of one section are
        told apart by :func:`rag.answering.render.source_names`."""
        return fit(self.passage.section.title or self.label)


@dataclass(frozen=True)
class UrlAnnotation:
    """A footnote URL and the span of the answer text (``text[start:end]``) it supports."""

    url: str
    title: str
    start: int
    end: int


@dataclass(frozen=True)
class Answer:
    """A cited answer: the body (quoted or generated), the Markdown Sources footer, the
    passages it cites and the URL annotations over ``text``."""

    question: str
    query: str
    found: bool
    body: tuple[str, ...]
    footer: tuple[str, ...] = ()
    citations: tuple[Citation, ...] = ()
    annotations: tuple[UrlAnnotation, ...] = ()
    relevance: float = 0.0
    generated: bool = False
    library: bool = False  # the index holds several briefs: each source names its brief

    @property
    def parts(self) -> tuple[str, ...]:
        return (*self.body, *self.footer)

    @property
    def text(self) -> str:
        return "".join(self.parts)

    @property
    def body_text(self) -> str:
        return "".join(self.body)


# --------------------------------------------------------------------------- stream events


@dataclass(frozen=True)
class Sources:
    """First event of a stream: the passages the answer may cite, numbered."""

    citations: tuple[Citation, ...]


@dataclass(frozen=True)
class Text:
    """A piece of the answer text, with the URL annotations whose span ends inside it."""

    text: str
    annotations: tuple[UrlAnnotation, ...] = ()
    footer: bool = False  # part of the Sources footer (a terminal lists sources its own way)


@dataclass(frozen=True)
class Done:
    """Last event: the whole answer, as :meth:`Answerer.answer` would return it."""

    answer: Answer


Event = Sources | Text | Done
