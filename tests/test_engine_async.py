"""``Engine.asearch`` (the server's path: the question waits for the batching encoder on
the event loop) finds exactly what ``Engine.search`` finds, with the real model and index."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rag.engine import Engine, for_serving
from rag.errors import QueryError, SectionNotFound

QUESTIONS = [
    "What did the U.S. commit to higher education in Pakistan?",
    "Which source reports the CENTCOM commander's visit?",
    "How large is bilateral trade?",
]


def _ids(result: Any) -> list[tuple[str, float]]:
    return [(h.passage.id, h.score) for h in result.hits]


@pytest.mark.parametrize("retriever", ["hybrid", "dense", "bm25"])
def test_asearch_equals_search(real_engine: Engine, retriever: str) -> None:
    serving = for_serving(real_engine)

    async def ask() -> list[Any]:
        # One at a time: int8 scales activations per batch, so a question encoded beside
        # others gets a slightly different vector (README "Encoders").
        return [await serving.asearch(q, k=5, retriever=retriever) for q in QUESTIONS]  # type: ignore[arg-type]

    for question, got in zip(QUESTIONS, asyncio.run(ask()), strict=True):
        want = real_engine.search(question, k=5, retriever=retriever)  # type: ignore[arg-type]
        assert _ids(got) == _ids(want) and got.hits


def test_a_large_index_is_searched_off_the_loop(real_engine: Engine) -> None:
    """Above ``loop_search_max_passages`` the legs run in a worker thread: same hits."""
    settings = real_engine.settings.model_copy(update={"loop_search_max_passages": 0})
    serving = for_serving(Engine(settings, real_engine.encoder, real_engine.handle))
    seen: list[str] = []
    run = serving.snapshot().run

    def spy(*args: Any) -> Any:
        import threading

        seen.append(threading.current_thread().name)
        return run(*args)

    serving.snapshot().run = spy  # type: ignore[method-assign]
    got = asyncio.run(serving.asearch(QUESTIONS[0], k=5))
    assert _ids(got) == _ids(real_engine.search(QUESTIONS[0], k=5))
    assert seen and seen[0] != "MainThread"


class Counting:
    """Counts encoder calls, to show refusals come before the model runs."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def aencode_with_tokens(self, texts: Any) -> Any:
        self.calls += 1
        return self.inner.encode_with_tokens(texts)


@pytest.mark.parametrize(
    ("question", "section", "error"),
    [("   ", None, QueryError), ("trade", "No Such Section", SectionNotFound)],
)
def test_bad_questions_are_refused_before_encoding(
    real_engine: Engine, question: str, section: str | None, error: type[Exception]
) -> None:
    counting = Counting(real_engine.encoder)
    engine = Engine(real_engine.settings, counting, real_engine.handle)  # type: ignore[arg-type]
    with pytest.raises(error):
        asyncio.run(engine.asearch(question, section=section))
    assert counting.calls == 0
    asyncio.run(engine.asearch("trade"))
    assert counting.calls == 1


def test_afind_equals_find(real_engine: Engine) -> None:
    """The chat routes' path: the same findings as the blocking one, follow-ups included."""
    from rag.answering import Answerer

    answerer = Answerer(for_serving(real_engine))
    history = ["What did the U.S. commit to higher education in Pakistan?"]
    for question, turns in ((QUESTIONS[0], []), ("And how much was it?", history)):
        got = asyncio.run(answerer.afind(question, turns))
        want = Answerer(real_engine).find(question, turns)
        assert got.query == want.query and got.hits == want.hits and got.hits
        assert got.candidates == want.candidates
