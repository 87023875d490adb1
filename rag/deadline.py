"""One deadline per request, covering retrieval and generation.

A shell opens it (the API for every HTTP request, the CLI for one answer) and the library
consults it where a request can wait: for the encoder (behind other questions) and for
the answer server. A context variable carries it, so it follows the request into the
thread pool and the streamed response without being passed through every call.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from rag.errors import DeadlineExceeded

SETTING = "RAG_DEADLINE_S"


@dataclass(frozen=True)
class Deadline:
    ends: float  # time.monotonic() when the request must be over
    seconds: float  # as configured, for the message

    @classmethod
    def starting(cls, seconds: float) -> Deadline:
        """A deadline ``seconds`` from now."""
        return cls(time.monotonic() + seconds, seconds)

    def left(self) -> float:
        return max(0.0, self.ends - time.monotonic())

    def exceeded(self, doing: str) -> DeadlineExceeded:
        return DeadlineExceeded(f"{doing} did not finish within {self.seconds:g}s ({SETTING})")


_current: ContextVar[Deadline | None] = ContextVar("rag_deadline", default=None)


@contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """Everything run inside (threads and streams started from here included) shares one
    deadline ``seconds`` from now. A deadline already running is kept if it ends sooner."""
    mine = Deadline.starting(seconds)
    outer = _current.get()
    token = _current.set(outer if outer is not None and outer.ends <= mine.ends else mine)
    try:
        yield _current.get() or mine
    finally:
        _current.reset(token)


def current() -> Deadline | None:
    return _current.get()


def left() -> float | None:
    """Seconds left of the running request's deadline; ``None`` outside any request."""
    running = _current.get()
    return None if running is None else running.left()


def check(doing: str) -> None:
    """Raise :class:`DeadlineExceeded` (naming ``doing``) when the deadline has passed."""
    running = _current.get()
    if running is not None and running.left() <= 0:
        raise running.exceeded(doing)
