"""Score the answers, not just the retrieval: does the cited answer quote the gold evidence,
does it cite the footnote a source question asks for, and does the no-answer gate decline
off-topic questions while answering every on-topic one?

Two more sets are measured, not gated on: questions that ask for an account rather than a fact
("What does the brief recommend for the future?", ``eval/nonfactoid.jsonl``: answered with
gold evidence quoted) and questions near the brief's topic that it does not answer ("Did the
U.S. sell F-16 fighter jets to Pakistan?", ``eval/unanswerable.jsonl``: declined).

Like the retrieval metrics, this survives re-chunking: an answer is judged by the text it
quotes against the evidence quotes, never by passage ids.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rag.evaluation.dataset import FootnoteItem, OffTopicItem, QAItem
from rag.evaluation.metrics import mean
from rag.text import match_key, unescape_markdown

if TYPE_CHECKING:
    from rag.answering import Answer, Answerer

ANSWER_METRICS = (
    "answered",
    "quotes_evidence",
    "cites_footnote",
    "declines_off_topic",
    "answers_non_factoid",
    "declines_unanswerable",
    "relevance_on_topic_min",
    "relevance_off_topic_max",
)
_CITATION_RE = re.compile(r"\s*(?:\\?\[\d{1,3}\])+\s*")


@dataclass(frozen=True)
class Graded:
    """What the metrics need of one answer."""

    found: bool
    body: str  # the answer text before its Sources footer
    footnotes: frozenset[int]  # footnote numbers of the passages the answer cites
    relevance: float


def graded(answer: Answer) -> Graded:
    return Graded(
        found=answer.found,
        body=answer.body_text,
        footnotes=frozenset(n.number for c in answer.citations for n in c.footnotes),
        relevance=answer.relevance,
    )


@dataclass
class AnswerReport:
    n_questions: int
    metrics: dict[str, float | None]
    misses: list[tuple[str, str]] = field(default_factory=list)  # (id, question)


def quoted_sentences(body: str) -> list[str]:
    """The pieces of an extractive answer between its ``[n]`` citations, unescaped."""
    pieces = _CITATION_RE.split(unescape_markdown(body))
    return [match_key(p) for p in pieces if p.strip()]


def quotes_evidence(body: str, evidence: Iterable[str]) -> bool:
    """True when a gold quote lies inside the answer, or a quoted sentence inside a quote
    (a long quote spans several sentences, of which the answer may quote one)."""
    text = match_key(unescape_markdown(body))
    sentences = quoted_sentences(body)
    for quote in evidence:
        key = match_key(quote)
        if key in text or any(len(s) > 20 and s in key for s in sentences):
            return True
    return False


def grade(
    ask: Callable[[str], Graded],
    items: Sequence[QAItem],
    footnote_items: Sequence[FootnoteItem] = (),
    off_topic: Sequence[OffTopicItem] = (),
    progress: Callable[[int], None] | None = None,
    non_factoid: Sequence[QAItem] = (),
    unanswerable: Sequence[OffTopicItem] = (),
) -> AnswerReport:
    """The answer metrics. ``non_factoid`` and ``unanswerable`` are measured only: they
    count in neither ``answered`` nor the relevance extremes the gate was set on."""
    per: dict[str, list[float]] = {m: [] for m in ANSWER_METRICS}
    report = AnswerReport(n_questions=len(items) + len(footnote_items), metrics={})
    on_topic: list[float] = []
    for item in items:
        got = ask(item.question)
        quoted = got.found and quotes_evidence(got.body, item.evidence)
        per["answered"].append(float(got.found))
        per["quotes_evidence"].append(float(quoted))
        on_topic.append(got.relevance)
        if not quoted:
            report.misses.append((item.id, item.question))
        if progress:
            progress(1)
    for note in footnote_items:
        got = ask(note.question)
        cited = got.found and note.footnote in got.footnotes
        per["answered"].append(float(got.found))
        per["cites_footnote"].append(float(cited))
        on_topic.append(got.relevance)
        if not cited:
            report.misses.append((note.id, note.question))
        if progress:
            progress(1)
    off = []
    for other in off_topic:
        got = ask(other.question)
        per["declines_off_topic"].append(float(not got.found))
        off.append(got.relevance)
        if got.found:
            report.misses.append((other.id, other.question))
        if progress:
            progress(1)
    for item in non_factoid:
        got = ask(item.question)
        right = got.found and quotes_evidence(got.body, item.evidence)
        per["answers_non_factoid"].append(float(right))
        if not right:
            report.misses.append((item.id, item.question))
        if progress:
            progress(1)
    for near in unanswerable:
        got = ask(near.question)
        per["declines_unanswerable"].append(float(not got.found))
        if got.found:
            report.misses.append((near.id, near.question))
        if progress:
            progress(1)
    report.metrics = {m: (round(mean(v), 4) if v else None) for m, v in per.items()}
    report.metrics["relevance_on_topic_min"] = round(min(on_topic), 4) if on_topic else None
    report.metrics["relevance_off_topic_max"] = round(max(off), 4) if off else None
    return report


def grade_answers(
    answerer: Answerer,
    items: Sequence[QAItem],
    footnote_items: Sequence[FootnoteItem] = (),
    off_topic: Sequence[OffTopicItem] = (),
    progress: Callable[[int], None] | None = None,
    non_factoid: Sequence[QAItem] = (),
    unanswerable: Sequence[OffTopicItem] = (),
) -> AnswerReport:
    """Grade the extractive answers of ``answerer`` (generation is judged by people, not by
    string matching, so it is switched off here)."""
    from rag.answering import Answerer

    quoting = Answerer(answerer.engine, answerer.settings.model_copy(update={"llm_base_url": None}))
    return grade(
        lambda q: graded(quoting.answer(q)),
        items,
        footnote_items,
        off_topic,
        progress,
        non_factoid=non_factoid,
        unanswerable=unanswerable,
    )


@dataclass(frozen=True)
class GateSetting:
    """One setting of the no-answer gate: its threshold, and whether the coverage checks
    (names, figures, dates and topic words the briefs lack) may decline."""

    threshold: float
    coverage: bool = True

    @property
    def label(self) -> str:
        return f"{self.threshold:.2f}" + ("" if self.coverage else " without coverage checks")


DEFAULT_SETTINGS = (
    GateSetting(0.30),
    GateSetting(0.35),
    GateSetting(0.37),
    GateSetting(0.40),
    GateSetting(0.45),
    GateSetting(0.37, coverage=False),
)


def trade_off(
    answerer: Answerer,
    items: Sequence[QAItem],
    off_topic: Sequence[OffTopicItem],
    non_factoid: Sequence[QAItem],
    unanswerable: Sequence[OffTopicItem],
    settings: Sequence[GateSetting] = DEFAULT_SETTINGS,
) -> list[dict[str, float | str | None]]:
    """What answering and declining each give as the gate moves: every question is found
    once, then answered under each setting, so a change that declines more is seen beside
    what it costs the answers. Extractive answers only, as :func:`grade_answers`."""
    from dataclasses import replace

    from rag.answering import Answerer
    from rag.answering.render import extractive

    quoting = Answerer(answerer.engine, answerer.settings.model_copy(update={"llm_base_url": None}))
    found = {q: quoting.find(q) for q in {i.question for i in (*items, *non_factoid)}}
    found |= {q: quoting.find(q) for q in {i.question for i in (*off_topic, *unanswerable)}}
    rows: list[dict[str, float | str | None]] = []
    for setting in settings:

        def answer(question: str, setting: GateSetting = setting) -> Answer:
            findings = found[question]
            # A question the gate opens by itself (a brief's recommendations) stays open.
            threshold = setting.threshold if findings.threshold else 0.0
            changed = replace(findings, threshold=threshold)
            if not setting.coverage:
                changed = replace(changed, missing=(), lacks=None, unmatched=False)
            return extractive(changed)

        def rate(values: list[bool]) -> float | None:
            return round(mean([float(v) for v in values]), 4) if values else None

        on = [answer(i.question) for i in items]
        rows.append(
            {
                "setting": setting.label,
                "answered": rate([a.found for a in on]),
                "quotes_evidence": rate(
                    [
                        a.found and quotes_evidence(a.body_text, i.evidence)
                        for a, i in zip(on, items, strict=True)
                    ]
                ),
                "answers_non_factoid": rate(
                    [
                        (a := answer(i.question)).found and quotes_evidence(a.body_text, i.evidence)
                        for i in non_factoid
                    ]
                ),
                "declines_unanswerable": rate([not answer(i.question).found for i in unanswerable]),
                "declines_off_topic": rate([not answer(i.question).found for i in off_topic]),
            }
        )
    return rows
