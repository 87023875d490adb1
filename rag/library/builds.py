"""The queue of library builds: one at a time, in a worker thread of their own, off any
request's path, each with a record of how it went.

A build id is random and says nothing; records are kept in memory, the last
:data:`HISTORY` finished ones beside those still waiting or running. Past ``limit`` waiting
builds, :meth:`BuildQueue.submit` refuses at once (:class:`~rag.errors.BuildsBusy`).
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from rag.errors import BuildsBusy, RagError
from rag.library.changes import AddBrief, Change, Outcome

HISTORY = 200
Status = Literal["queued", "running", "succeeded", "failed"]
log = logging.getLogger("rag.library")


@dataclass(frozen=True)
class BuildRecord:
    """One build: what it changes, where it is, and how it went (times in UTC)."""

    id: str
    action: Literal["add", "remove"]
    document: str
    status: Status
    queued_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    outcome: Outcome | None = None
    error: str | None = None  # one line, when failed

    @property
    def queued_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        return round((self.started_at - self.queued_at).total_seconds(), 3)

    @property
    def build_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 3)


def one_line(exc: BaseException) -> str:
    """An error as one line; a bug (not a RagError) named by its type, without a traceback."""
    text = " ".join(str(exc).split())
    if isinstance(exc, RagError):
        return text
    return f"the build failed unexpectedly ({type(exc).__name__}: {text}); see the server log"


class BuildQueue:
    """Runs ``run`` on each submitted change, one at a time, in one daemon thread."""

    def __init__(
        self, run: Callable[[Change], Outcome], *, limit: int, history: int = HISTORY
    ) -> None:
        self._run = run
        self.limit = limit
        self.history = history
        self._records: OrderedDict[str, BuildRecord] = OrderedDict()
        self._jobs: queue.SimpleQueue[tuple[str, Change]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._waiting = 0
        self._worker: threading.Thread | None = None

    def submit(self, change: Change) -> BuildRecord:
        """Queue ``change`` and return its record (status ``queued``)."""
        with self._lock:
            if self._waiting >= self.limit:
                raise BuildsBusy(
                    f"{self._waiting} library changes are already waiting to be built (the "
                    "limit is RAG_MAX_QUEUED_BUILDS); retry once one has finished"
                )
            record = BuildRecord(
                id=secrets.token_urlsafe(12),
                action="add" if isinstance(change, AddBrief) else "remove",
                document=change.document,
                status="queued",
                queued_at=_now(),
            )
            self._records[record.id] = record
            self._waiting += 1
            self._jobs.put((record.id, change))
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="library-builds")
                self._worker.daemon = True  # a build cut short by a stop publishes nothing
                self._worker.start()
        return record

    def get(self, build_id: str) -> BuildRecord | None:
        with self._lock:
            return self._records.get(build_id)

    def wait(self, build_id: str, timeout: float) -> BuildRecord | None:
        """The record once finished, or as it is after ``timeout`` seconds (for callers
        that want to block: the CLI, tests)."""
        deadline = time.monotonic() + timeout
        while True:
            record = self.get(build_id)
            if record is None or record.finished_at is not None or time.monotonic() > deadline:
                return record
            time.sleep(0.05)

    def _update(self, build_id: str, **changes: object) -> None:
        with self._lock:
            self._records[build_id] = dataclasses.replace(self._records[build_id], **changes)  # type: ignore[arg-type]

    def _work(self) -> None:
        while True:
            build_id, change = self._jobs.get()
            with self._lock:
                self._waiting -= 1
            self._update(build_id, status="running", started_at=_now())
            try:
                outcome = self._run(change)
            except Exception as exc:  # every failure is reported; the worker goes on
                if isinstance(exc, RagError):
                    log.warning("library build %s failed: %s", build_id, one_line(exc))
                else:
                    log.exception("library build %s", build_id)
                self._update(build_id, status="failed", finished_at=_now(), error=one_line(exc))
            else:
                log.warning(
                    "library build %s: %s %s, %d briefs",
                    build_id,
                    _did(change),
                    change.document,
                    outcome.documents,
                )
                self._update(build_id, status="succeeded", finished_at=_now(), outcome=outcome)
            self._forget_old()

    def _forget_old(self) -> None:
        with self._lock:
            done = [i for i, r in self._records.items() if r.finished_at is not None]
            for build_id in done[: max(0, len(done) - self.history)]:
                del self._records[build_id]


def _did(change: Change) -> str:
    return "added" if isinstance(change, AddBrief) else "removed"


def _now() -> datetime:
    return datetime.now(UTC)
