"""Micro-batching: concurrent questions share one forward pass of the encoder.

A server answering many clients would otherwise run one small forward pass per question,
each competing for the same cores. :class:`BatchingEncoder` queues the texts of concurrent
callers (threads, or coroutines on a server's event loop, which wait without a thread) and
one worker thread encodes them together: a question that arrives while the
encoder is busy joins the next batch (up to ``max_batch`` texts, waiting at most
``max_wait_ms`` for company only when the last batch had some), so a lone client pays
nothing extra and a crowd is served at the encoder's batch rate. The queue is bounded: past
``max_queue`` waiting texts a caller gets :class:`~rag.errors.Overloaded` at once (the API
answers 503 with ``Retry-After``) instead of waiting ever longer, and a caller whose
request deadline (:mod:`rag.deadline`) passes while it waits gives up its place, as does a
coroutine cancelled because its client left.

With the int8 encoder a batch changes its questions' vectors slightly (one quantisation
scale per batch: docs/performance.md "Encoders"); ``max_batch=1`` makes each question's
vector its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rag import deadline
from rag.encoding.protocol import Encoder, EncoderWrapper, Progress
from rag.errors import Overloaded

if TYPE_CHECKING:
    import numpy as np

Encoded = tuple["np.ndarray", list["np.ndarray"]]


@dataclass(eq=False)  # identity: a request is found in the queue by itself
class _Request:
    texts: list[str]
    done: threading.Event = field(default_factory=threading.Event)
    result: Encoded | None = None
    error: BaseException | None = None
    # An async caller's loop and the future it awaits, settled by the worker when done.
    loop: asyncio.AbstractEventLoop | None = None
    future: asyncio.Future[None] | None = None


class BatchingEncoder(EncoderWrapper):
    """An :class:`~rag.encoding.protocol.Encoder` whose small calls are batched across threads."""

    def __init__(
        self, inner: Encoder, *, max_batch: int = 16, max_wait_ms: float = 2.0, max_queue: int = 64
    ) -> None:
        super().__init__(inner)
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000
        self.max_queue = max_queue
        self._queue: deque[_Request] = deque()
        self._waiting = 0  # texts queued, not yet taken by the worker
        self._busy = threading.Condition()
        self._worker: threading.Thread | None = None
        self._last_batch = 0
        self.batches: list[int] = []  # sizes of recent batches, for the benchmark

    def encode_with_tokens(
        self, texts: Sequence[str], *, batch_size: int = 32
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        if len(texts) > self.max_batch:  # bulk work (an index build) needs no company
            return self.inner.encode_with_tokens(texts, batch_size=batch_size)
        request = _Request(list(texts))
        self._enqueue(request)
        if not request.done.wait(deadline.left()):
            self._abandon(request)
        return self._outcome(request)

    async def aencode_with_tokens(self, texts: Sequence[str]) -> Encoded:
        """:meth:`encode_with_tokens` for a caller on an event loop: it waits without a
        thread (the worker wakes it through the loop), so a server needs no thread-pool
        hop per question; the request's deadline and a cancelled request (the client left)
        both give up the place in the queue."""
        if len(texts) > self.max_batch:
            return await asyncio.to_thread(self.inner.encode_with_tokens, texts)
        loop = asyncio.get_running_loop()
        woken: asyncio.Future[None] = loop.create_future()
        request = _Request(list(texts), loop=loop, future=woken)
        self._enqueue(request)
        try:
            # A future, not a coroutine: wait_for wraps no task around it.
            await asyncio.wait_for(woken, deadline.left())
        except TimeoutError:
            self._abandon(request)
        except asyncio.CancelledError:
            self._withdraw(request)
            raise
        return self._outcome(request)

    def _enqueue(self, request: _Request) -> None:
        with self._busy:
            if self._waiting + len(request.texts) > self.max_queue:
                raise Overloaded(
                    f"{self._waiting} questions are already waiting for the encoder "
                    f"(the limit is {self.max_queue}); retry in a moment"
                )
            self._queue.append(request)
            self._waiting += len(request.texts)
            self._start()
            self._busy.notify()

    @staticmethod
    def _outcome(request: _Request) -> Encoded:
        if request.error is not None:
            raise request.error
        assert request.result is not None
        return request.result

    def _withdraw(self, request: _Request) -> None:
        with self._busy:
            if request in self._queue:
                self._queue.remove(request)
                self._waiting -= len(request.texts)

    def _abandon(self, request: _Request) -> None:
        """The request's deadline passed while it waited: take it out of the queue (if the
        worker has not taken it yet) so no one encodes a question nobody waits for."""
        self._withdraw(request)
        if not request.done.is_set():
            running = deadline.current()
            assert running is not None  # only a deadline makes the wait above time out
            raise running.exceeded("waiting for the encoder")

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 32, progress: Progress | None = None
    ) -> np.ndarray:
        if len(texts) > self.max_batch or progress is not None:
            return self.inner.encode(texts, batch_size=batch_size, progress=progress)
        return self.encode_with_tokens(texts, batch_size=batch_size)[0]

    def encode_tokens(self, texts: Sequence[str], *, batch_size: int = 32) -> list[np.ndarray]:
        return self.encode_with_tokens(texts, batch_size=batch_size)[1]

    # ----------------------------------------------------------------- the worker

    def _start(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._run, name="encoder-batcher", daemon=True)
            self._worker.start()

    def _take(self) -> list[_Request]:
        """The next batch: what is queued, plus — under load — what arrives within
        ``max_wait``, up to ``max_batch`` texts."""
        with self._busy:
            while not self._queue:
                self._busy.wait()
            deadline = time.monotonic() + (self.max_wait if self._last_batch > 1 else 0.0)
            batch: list[_Request] = []
            size = 0
            while True:
                while self._queue and size + len(self._queue[0].texts) <= self.max_batch:
                    request = self._queue.popleft()
                    batch.append(request)
                    size += len(request.texts)
                left = deadline - time.monotonic()
                if size >= self.max_batch or left <= 0 or (self._queue and batch):
                    break
                self._busy.wait(left)
            if not batch:  # a request larger than what is left of the batch: alone
                batch.append(self._queue.popleft())
            self._waiting -= sum(len(r.texts) for r in batch)
            return batch

    def _run(self) -> None:
        import numpy as np

        while True:
            batch = self._take()
            texts = [t for request in batch for t in request.texts]
            self._last_batch = len(batch)
            self.batches = [*self.batches[-999:], len(texts)]
            try:
                pooled, tokens = self.inner.encode_with_tokens(texts, batch_size=len(texts))
            except BaseException as exc:  # every waiting caller gets the failure
                for request in batch:
                    request.error = exc
                _finish(batch)
                continue
            start = 0
            for request in batch:
                end = start + len(request.texts)
                request.result = (np.ascontiguousarray(pooled[start:end]), tokens[start:end])
                start = end
            _finish(batch)


def _finish(batch: list[_Request]) -> None:
    """Wake a batch's callers: threads each through their event, coroutines through one
    call into each loop for all of its callers (one wake-up of the loop, not one each)."""
    waiting: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for request in batch:
        request.done.set()
        if request.loop is not None and request.future is not None:
            waiting.setdefault(request.loop, []).append(request.future)
    for loop, futures in waiting.items():
        # RuntimeError: the caller's event loop has closed, so nobody waits any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, futures)


def _settle(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():  # a caller that timed out or left has cancelled its own
            future.set_result(None)
