"""The answer service: a question (and the user turns before it) in, a cited answer out.

One flow for every shell. :meth:`Answerer.find` retrieves and scores from one index
snapshot with one encoder call (blocking; :meth:`Answerer.afind` on an event loop);
:meth:`Answerer.stream` turns the findings into events (sources, text, done), extractive
or generated; :meth:`Answerer.answer` does both and returns the :class:`Answer`. The HTTP
routes and the CLI only translate these.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag import deadline
from rag.answering.conclusions import conclusions
from rag.answering.coverage import asks_yes_or_no, coverage, missing, unasserted, words_of
from rag.answering.expects import (
    TYPE_WORDS,
    counted,
    defined,
    expected,
    summarised,
    wants_prescription,
    without_document_words,
)
from rag.answering.followup import own_words, resolve_query
from rag.answering.gate import on_topic, stating, topic_words
from rag.answering.gather import conclusion_hits, prescribed, summary_hits
from rag.answering.generate import generate, relay
from rag.answering.intent import answer_must_say, asks_about_the_document
from rag.answering.lexicon import lexicon, terms
from rag.answering.records import (
    Answer,
    Candidate,
    Citation,
    Done,
    Event,
    Findings,
    Sources,
    Text,
)
from rag.answering.render import extractive, generated, numbered, pieces
from rag.answering.scoring import candidates, footnotes_of
from rag.answering.tasks import Task, reply
from rag.errors import QueryError
from rag.records import Hit

if TYPE_CHECKING:
    import numpy as np

    from rag.config import Settings
    from rag.engine import Engine
    from rag.retrieval.retriever import Retriever
    from rag.store.index import IndexHandle


# Past this many briefs a question about "the brief" is answered as any other (its best
# passages): one sentence per brief would not be an answer any more.
MAX_BRIEFS_ANSWERED = 10


class Answerer:
    """Answers questions from an engine's index; cheap to create, safe to share."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings | None = None,
        documents: Sequence[str] | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings or engine.settings
        # The briefs answers come from (ids); None: every brief of the index.
        self.documents = tuple(documents) if documents else None

    def scoped(self, documents: Sequence[str] | None) -> Answerer:
        """The same answerer, answering only from ``documents`` (ids; None: every brief)."""
        return Answerer(self.engine, self.settings, documents)

    @property
    def generative(self) -> bool:
        return bool(self.settings.llm_base_url)

    def find(self, question: str, history: Sequence[str] = (), k: int | None = None) -> Findings:
        """Retrieve for ``question`` (a follow-up resolved against ``history``, the earlier
        user turns) and score every sentence of what came back."""
        query = self._query(question, history)
        snapshot = self.engine.snapshot()  # one build from here to the answer
        text = searched(question, query)
        vectors, tokens = snapshot.encoder.encode_with_tokens([text])  # the one encoder call
        return self._findings(snapshot, question, query, vectors[0], tokens[0], k)

    async def afind(
        self, question: str, history: Sequence[str] = (), k: int | None = None
    ) -> Findings:
        """:meth:`find` for an event loop: the question waits for the encoder without a
        thread (:meth:`rag.engine.Engine.aencode`), then the rest as
        :meth:`rag.engine.Engine.beside_loop` decides."""
        query = self._query(question, history)
        snapshot = self.engine.snapshot()
        qvec, qtokens = await self.engine.aencode(searched(question, query))
        deadline.check("the search")
        args = (snapshot, question, query, qvec, qtokens, k)
        return await self.engine.beside_loop(snapshot, self._findings, *args)

    def _query(self, question: str, history: Sequence[str]) -> str:
        query = resolve_query([*history, question])
        if not query:
            raise QueryError("the question is empty; ask something about the brief")
        self.engine.check_question(question)
        deadline.check("the search")  # it may have queued for a worker thread
        return query

    def _findings(
        self,
        snapshot: Retriever,
        question: str,
        query: str,
        qvec: np.ndarray,
        qtokens: np.ndarray,
        k: int | None,
    ) -> Findings:
        handle = snapshot.handle
        text = searched(question, query)
        scope = [d for d in handle.documents if self.documents is None or d in self.documents]
        per_brief = 1 < len(scope) <= MAX_BRIEFS_ANSWERED and asks_about_the_document(question)
        hits = self._retrieve(snapshot, text, scope, per_brief, qvec, qtokens, k)
        question = question.strip()
        turn = own_words(question) if query != question else ""
        chosen = _gather(
            handle, question, text, scope, hits, qvec, turn, per_brief, k or self.settings.top_k
        )
        threshold = 0.0 if chosen.opened else self.settings.no_answer_threshold
        kind = expected(question)
        found = chosen.found if kind is None else stating(handle, chosen.found, text, kind)
        lacks = (
            kind if kind is not None and not any(c.relevance >= threshold for c in found) else None
        )
        absent, unmatched = _uncovered(
            handle,
            question,
            text,
            scope,
            found,
            threshold,
            # A yes-or-no question is checked by its claim's words (unasserted) instead.
            topic_check=not (chosen.intent or per_brief or lacks or asks_yes_or_no(question)),
        )
        return Findings(
            question=question,
            query=query,
            threshold=threshold,
            hits=chosen.hits,
            candidates=tuple(found),
            notes={h.passage.id: footnotes_of(handle, h.passage) for h in chosen.hits},
            titles=tuple(handle.documents[d].title for d in scope),
            per_brief=answer_must_say(question) if per_brief else None,
            missing=absent,
            unmatched=unmatched,
            lacks=lacks,
            summary=chosen.summary,
        )

    def _retrieve(
        self,
        snapshot: Retriever,
        text: str,
        scope: Sequence[str],
        per_brief: bool,
        qvec: np.ndarray,
        qtokens: np.ndarray,
        k: int | None,
    ) -> tuple[Hit, ...]:
        """The passages retrieval finds for ``text``. Hybrid on purpose: the no-answer
        threshold was measured on what it returns."""
        if not per_brief:
            return tuple(
                snapshot.search(
                    text,
                    k=k or self.settings.top_k,
                    retriever="hybrid",
                    qvec=qvec,
                    qtokens=qtokens,
                    documents=self.documents,
                )
            )
        # "Who wrote the brief?" over a library: each brief's own best passages, so the
        # answer gives every brief's author instead of one brief's picked at random.
        own: list[Hit] = []
        for doc in scope:
            own.extend(
                snapshot.search(
                    text, k=2, retriever="hybrid", qvec=qvec, qtokens=qtokens, documents=[doc]
                )
            )
        return tuple(h.model_copy(update={"rank": i}) for i, h in enumerate(own, start=1))

    async def stream(self, findings: Findings, footer: bool = True) -> AsyncGenerator[Event, None]:
        """:class:`Sources`, then :class:`Text` pieces, then :class:`Done`.

        ``footer=False`` leaves out the Markdown Sources list, for a client that lists the
        sources from the :class:`Sources` event itself. Generated answers wait for the
        server's first words before yielding anything, so an unreachable server raises
        :class:`~rag.errors.GeneratorError` before the first event; a failure later raises
        it mid-stream.
        """
        if not (self.generative and findings.found):
            answer = extractive(findings, footer)
            yield Sources(answer.citations)
            for i, (text, notes) in enumerate(pieces(answer.parts, answer.annotations)):
                yield Text(text, notes, footer=i >= len(answer.body))
            yield Done(answer)
            return
        citations = numbered(findings)
        parts: list[str] = []
        deltas = generate(self.settings, findings.query, citations)
        async with aclosing(_relayed(deltas, citations, parts)) as events:
            async for event in events:
                yield event
        body = "".join(parts)
        answer = generated(findings, body, citations, footer)
        for text, notes in pieces(answer.footer, answer.annotations, offset=len(body)):
            yield Text(text, notes, footer=True)
        yield Done(answer)

    async def perform(
        self, task: Task, messages: Sequence[dict[str, str]] = ()
    ) -> AsyncGenerator[Event, None]:
        """A front end's own task (a chat title, tags, follow-ups), as the same events as an
        answer with no sources: answered from the task itself, never from the briefs; with an
        answer server, ``messages`` (the front end's request) go to it as they are."""
        if self.generative:
            parts: list[str] = []
            async with aclosing(_relayed(relay(self.settings, messages), (), parts)) as events:
                async for event in events:
                    yield event
            body = "".join(parts)
        else:
            body = reply(task)
            yield Sources(())
            yield Text(body)
        yield Done(Answer(question=task.question, query="", found=True, body=(body,)))

    async def complete(self, findings: Findings) -> Answer:
        """The whole answer from :meth:`stream`."""
        async for event in self.stream(findings):
            if isinstance(event, Done):
                return event.answer
        raise AssertionError("a stream always ends with Done")  # pragma: no cover

    def answer(self, question: str, history: Sequence[str] = (), k: int | None = None) -> Answer:
        """Find and answer in one blocking call (from a thread or the CLI, not a loop)."""
        findings = self.find(question, history, k)
        if not (self.generative and findings.found):
            return extractive(findings)
        return asyncio.run(self.complete(findings))


@dataclass(frozen=True)
class _Gathered:
    """The passages and candidates a question's intent chose."""

    hits: tuple[Hit, ...]
    found: list[Candidate]
    # Chosen by the brief's structure (its conclusion sections, a summary's section named
    # by its heading): they are the answer whatever their cosine, so the gate is open.
    opened: bool = False
    summary: str | None = None  # Findings.summary
    intent: bool = False  # a summary or a brief's recommendations: not checked by topic


def _gather(
    handle: IndexHandle,
    question: str,
    text: str,
    scope: Sequence[str],
    hits: tuple[Hit, ...],
    qvec: np.ndarray,
    turn: str,
    per_brief: bool,
    k: int,
) -> _Gathered:
    """The candidates for ``question`` by what it asks: a summary of a topic, a brief's
    recommendations as a whole, what should be done about something, or anything else."""
    about = None if per_brief else summarised(question)
    if about is not None:
        # "Summarise what the brief says about Afghanistan": the section about it.
        chosen, opened = summary_hits(handle, scope, about, hits)
        summary = "topic" if topic_words(handle, about) or not opened else "whole"
        found = candidates(handle, chosen, about, qvec)
        return _Gathered(chosen, found, opened, summary, intent=True)
    recommends = not per_brief and wants_prescription(question)
    if recommends and not topic_words(handle, text):
        # "What are the brief's recommendations?": what the brief says should be done,
        # from the sections where it says so; the question names nothing else to match.
        chosen = conclusion_hits(handle, scope, k)
        if chosen:
            found = [
                c for c in prescribed(handle, candidates(handle, chosen, text, qvec)) if c.bonus
            ]
            return _Gathered(chosen, found, opened=True, intent=True)
    found = candidates(handle, hits, text, qvec, turn)
    return _Gathered(hits, prescribed(handle, found) if recommends else found)


def _uncovered(
    handle: IndexHandle,
    question: str,
    text: str,
    scope: Sequence[str],
    found: Sequence[Candidate],
    threshold: float,
    topic_check: bool,
) -> tuple[tuple[str, ...], bool]:
    """What ``question`` turns on that no brief in ``scope`` mentions (names first, then
    what it counts or defines), and whether, that being nothing, the candidates past the
    gate miss its topic (:func:`rag.answering.gate.on_topic`)."""
    known = coverage(handle)
    # Names first: "does not mention F-16" says it better than the claim's words.
    absent = missing(question, known, scope) or unasserted(question, known, scope)
    absent += tuple(w for w in counted(question) if not known.holds(w, scope))
    topic = () if wants_prescription(question) else defined(without_document_words(question))
    if topic and not any(known.holds(w, scope) for w in topic):
        absent += topic
    if absent or not topic_check or on_topic(handle, found, text, threshold):
        return tuple(dict.fromkeys(absent)), False
    # Name what is missing when the briefs lack it altogether.
    words = [w.rstrip(".") for w in words_of(question)]
    want = topic_words(handle, text) - TYPE_WORDS
    named = (w for w, t in zip(words, terms(words), strict=True) if t & want)
    return tuple(dict.fromkeys(w for w in named if not known.holds(w, scope))), True


def prepare(handle: IndexHandle) -> None:
    """Build what answers derive from an index build (term statistics, what each brief
    covers, its conclusion sections) now, so the first question after a load or a reload
    does not wait for them: on a large library they take seconds."""
    lexicon(handle)
    coverage(handle)
    conclusions(handle)


def searched(question: str, query: str) -> str:
    """What ``query`` (``question``, or a follow-up joined to the turn before) is searched
    and scored with: a question about what a brief says loses the words that point at the
    brief ("What are the brief's recommendations?" searched with "brief" found the title
    page first); a question about the brief itself keeps them."""
    return query if asks_about_the_document(question) else without_document_words(query)


async def _relayed(
    deltas: AsyncGenerator[str, None], citations: tuple[Citation, ...], parts: list[str]
) -> AsyncGenerator[Event, None]:
    """An answer server's words as events: :class:`Sources` only once its first words are
    in (so an unreachable server fails before any event), then each piece as it comes,
    also kept in ``parts``. The server's stream is closed however this ends, also when the
    consumer goes away mid-answer."""
    async with aclosing(deltas):
        first = await anext(deltas, "")
        yield Sources(citations)
        if first:
            parts.append(first)
            yield Text(first)
        async for part in deltas:
            parts.append(part)
            yield Text(part)
