"""Micro-batching: callers on many threads get exactly what they would get alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rag.encoding.batching import BatchingEncoder
from rag.errors import Overloaded
from tests.conftest import FakeEncoder


class Slow(FakeEncoder):
    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.batches: list[int] = []
        self.fail = fail

    def encode_with_tokens(self, texts: Sequence[str], *, batch_size: int = 32) -> Any:
        self.batches.append(len(texts))
        time.sleep(0.05)
        if self.fail:
            raise RuntimeError("model crashed")
        return super().encode_with_tokens(texts)


def _parallel(encoder: BatchingEncoder, questions: list[str]) -> list[Any]:
    out: list[Any] = [None] * len(questions)

    def ask(i: int) -> None:
        try:
            out[i] = encoder.encode_with_tokens([questions[i]])
        except Exception as exc:
            out[i] = exc

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(questions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return out


def test_each_caller_gets_its_own_rows() -> None:
    inner = Slow()
    batching = BatchingEncoder(inner, max_batch=4, max_wait_ms=5)
    questions = [f"question number {i} about trade" for i in range(10)]
    results = _parallel(batching, questions)
    alone = FakeEncoder()
    for question, (pooled, tokens) in zip(questions, results, strict=True):
        want_pooled, want_tokens = alone.encode_with_tokens([question])
        assert np.allclose(pooled, want_pooled) and len(tokens) == 1
        assert np.allclose(tokens[0], want_tokens[0])
    assert sum(inner.batches) == 10 and max(inner.batches) <= 4 and len(inner.batches) < 10


def test_a_lone_question_does_not_wait_for_company() -> None:
    inner = FakeEncoder()
    batching = BatchingEncoder(inner, max_wait_ms=1000)
    started = time.perf_counter()
    batching.encode_with_tokens(["alone"])
    assert time.perf_counter() - started < 0.5  # far below the one-second wait


def test_a_failure_reaches_every_caller_of_the_batch() -> None:
    batching = BatchingEncoder(Slow(fail=True), max_batch=8)
    results = _parallel(batching, [f"q{i}" for i in range(5)])
    assert all(isinstance(r, RuntimeError) and "model crashed" in str(r) for r in results)


def test_the_queue_is_bounded() -> None:
    batching = BatchingEncoder(Slow(), max_batch=1, max_queue=2)
    results = _parallel(batching, [f"q{i}" for i in range(8)])
    refused = [r for r in results if isinstance(r, Overloaded)]
    assert refused and len(refused) < 8
    assert "retry in a moment" in str(refused[0])


def test_bulk_calls_bypass_the_queue() -> None:
    inner = Slow()
    batching = BatchingEncoder(inner, max_batch=4)
    pooled = batching.encode([f"text {i}" for i in range(20)])
    assert pooled.shape == (20, 64) and inner.batches == [] and inner.calls == 1


@pytest.mark.parametrize(
    "name",
    [
        "model_id",
        "backend",
        "index_backend",
        "weights_sha256",
        "vectors_sha256",
        "index_vectors_sha256",
    ],
)
def test_it_is_the_encoder_it_wraps_to_the_manifest(name: str) -> None:
    inner = FakeEncoder()
    assert getattr(BatchingEncoder(inner), name) == getattr(inner, name)


def test_the_lexical_retriever_never_runs_the_model(tmp_path: Path) -> None:
    from rag.config import Settings
    from rag.retrieval.retriever import RetrievalParams, Retriever
    from rag.store.index import build_index, load_index
    from tests.conftest import chunk_params, dense_params

    brief = tmp_path / "b.md"
    brief.write_text("# B\n\n## Trade\n\nBilateral trade grew by half in two years.\n")
    build_index(
        [brief],
        tmp_path / "i",
        FakeEncoder(),
        chunk_params(),
        model_path="/x",
        dense=dense_params(),
    )
    encoder = FakeEncoder()
    params = RetrievalParams.from_settings(Settings(model="/x"))
    hits = Retriever(load_index(tmp_path / "i"), encoder, params).search(
        "bilateral trade", retriever="bm25"
    )
    assert hits and encoder.calls == 0


def test_a_caller_whose_deadline_passes_gives_up_its_place() -> None:
    from rag.deadline import deadline
    from rag.errors import DeadlineExceeded

    inner_sleep = threading.Event()

    class Stuck(Slow):
        def encode_with_tokens(self, texts: Sequence[str], *, batch_size: int = 32) -> Any:
            inner_sleep.wait(5)  # the encoder is busy with someone else's batch
            return super().encode_with_tokens(texts)

    batching = BatchingEncoder(Stuck(), max_batch=1, max_wait_ms=0)
    first = threading.Thread(target=batching.encode_with_tokens, args=(["first"],))
    first.start()
    time.sleep(0.2)  # the worker holds "first"; the next caller queues behind it
    started = time.monotonic()
    with deadline(0.3), pytest.raises(DeadlineExceeded, match=r"encoder .*0\.3s .*RAG_DEADLINE_S"):
        batching.encode_with_tokens(["second"])
    assert 0.25 < time.monotonic() - started < 2
    assert batching._waiting == 0 and not batching._queue  # nobody encodes it later
    inner_sleep.set()
    first.join(timeout=10)


def test_without_a_deadline_a_caller_waits_its_turn() -> None:
    batching = BatchingEncoder(Slow(), max_batch=1, max_wait_ms=0)
    results = _parallel(batching, ["one", "two", "three"])
    assert all(isinstance(r, tuple) for r in results)


# ------------------------------------------------ callers on an event loop (the server's)


class Stuck(Slow):
    """An encoder held busy with someone else's question until :meth:`finish`."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.seen: list[str] = []
        self.first: threading.Thread | None = None

    def encode_with_tokens(self, texts: Sequence[str], *, batch_size: int = 32) -> Any:
        self.seen.extend(texts)
        self.release.wait(5)
        return super().encode_with_tokens(texts)

    def busy_with(self, question: str) -> BatchingEncoder:
        """A batching encoder over this one whose worker holds ``question``: the next
        caller queues behind it."""
        batching = BatchingEncoder(self, max_batch=1, max_wait_ms=0)
        self.first = threading.Thread(target=batching.encode_with_tokens, args=([question],))
        self.first.start()
        time.sleep(0.2)
        return batching

    def finish(self) -> None:
        self.release.set()
        if self.first is not None:
            self.first.join(timeout=10)


def test_async_callers_share_batches_and_get_their_own_rows() -> None:
    import asyncio

    inner = Slow()
    batching = BatchingEncoder(inner, max_batch=4, max_wait_ms=5)
    questions = [f"question number {i} about trade" for i in range(10)]

    async def ask_all() -> list[Any]:
        return await asyncio.gather(*(batching.aencode_with_tokens([q]) for q in questions))

    results = asyncio.run(ask_all())
    alone = FakeEncoder()
    for question, (pooled, tokens) in zip(questions, results, strict=True):
        want_pooled, want_tokens = alone.encode_with_tokens([question])
        assert np.allclose(pooled, want_pooled) and np.allclose(tokens[0], want_tokens[0])
    # Ten questions asked at once on one loop, never more than four to a forward pass.
    assert sum(inner.batches) == 10 and max(inner.batches) <= 4 and len(inner.batches) < 10


def test_a_batch_wakes_its_loop_once_for_all_its_async_callers() -> None:
    """One call into the loop per batch, not one per caller: each wake-up of a loop from
    another thread is a write to its pipe and a turn of the loop."""
    import asyncio

    inner = Slow()
    batching = BatchingEncoder(inner, max_batch=4, max_wait_ms=50)
    wakes: list[int] = []

    async def ask_all() -> list[Any]:
        loop = asyncio.get_running_loop()
        threadsafe = loop.call_soon_threadsafe

        def counted(callback: Any, *args: Any) -> Any:
            wakes.append(len(args[0]))
            return threadsafe(callback, *args)

        loop.call_soon_threadsafe = counted  # type: ignore[method-assign]
        asks = [batching.aencode_with_tokens([f"question {i}"]) for i in range(8)]
        return await asyncio.gather(*asks)

    results = asyncio.run(ask_all())
    assert len(results) == 8 and sum(inner.batches) == 8
    assert len(wakes) == len(inner.batches) and sum(wakes) == 8  # one wake per batch


def test_an_async_caller_past_its_deadline_gives_up_its_place() -> None:
    import asyncio

    from rag.deadline import deadline
    from rag.errors import DeadlineExceeded

    stuck = Stuck()
    batching = stuck.busy_with("first")

    async def late() -> None:
        with deadline(0.3):
            await batching.aencode_with_tokens(["second"])

    started = time.monotonic()
    with pytest.raises(DeadlineExceeded, match=r"encoder .*0\.3s .*RAG_DEADLINE_S"):
        asyncio.run(late())
    assert 0.25 < time.monotonic() - started < 2
    assert batching._waiting == 0 and not batching._queue
    stuck.finish()


def test_a_cancelled_async_caller_leaves_the_queue() -> None:
    """A client that hangs up cancels its request: its question must not be encoded."""
    import asyncio

    stuck = Stuck()
    batching = stuck.busy_with("first")

    async def hang_up() -> None:
        task = asyncio.ensure_future(batching.aencode_with_tokens(["gone"]))
        await asyncio.sleep(0.1)
        assert batching._waiting == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(hang_up())
    assert batching._waiting == 0 and not batching._queue
    stuck.finish()
    time.sleep(0.2)
    assert stuck.seen == ["first"]


def test_an_async_caller_is_refused_when_the_queue_is_full() -> None:
    import asyncio

    batching = BatchingEncoder(Slow(), max_batch=1, max_queue=2)

    async def crowd() -> list[Any]:
        asks = (batching.aencode_with_tokens([f"q{i}"]) for i in range(8))
        return await asyncio.gather(*asks, return_exceptions=True)

    results = asyncio.run(crowd())
    refused = [r for r in results if isinstance(r, Overloaded)]
    answered = [r for r in results if isinstance(r, tuple)]
    assert refused and answered and len(refused) + len(answered) == 8


def test_an_async_failure_reaches_the_caller() -> None:
    import asyncio

    batching = BatchingEncoder(Slow(fail=True))
    with pytest.raises(RuntimeError, match="model crashed"):
        asyncio.run(batching.aencode_with_tokens(["q"]))
