"""Run the app under uvicorn, with the connection guards uvicorn lacks.

uvicorn closes a kept-alive connection after ``timeout_keep_alive``, but a connection that
never sends a request, or sends it a byte at a time (or declares a body it never sends),
is held for ever; and past the process's open-file limit ``accept()`` fails, so nothing
gets in, not even ``/health``. :class:`GuardedH11Protocol` adds what a reverse proxy would:

- a **read deadline** (``RAG_READ_TIMEOUT_S``): from the moment a connection opens, or a
  kept-alive one starts its next request, the whole request — headers and body — must
  arrive within it; otherwise ``408`` and the connection is closed;
- a **connection cap** (``RAG_MAX_CONNECTIONS``, kept below the file limit): a connection
  over it gets ``503`` with ``Retry-After`` and is closed at once, so file descriptors
  never run out.

``serve`` also drains on SIGTERM (in-flight requests finish, within ``RAG_DRAIN_S``) and
then exits 0, where uvicorn would re-raise the signal and die of it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.supervisors import Multiprocess

from rag.config import Settings

# uvicorn's own logger: its warnings and these read alike in the server's stderr.
log = logging.getLogger("uvicorn.error")

# File descriptors kept free for everything but client connections: the index's files,
# the model, logs, pipes to worker processes.
RESERVED_FDS = 256
# Raising the soft file limit to the hard one is free; an unlimited hard limit is not a
# number to size a cap by.
MAX_SOFT_FDS = 1 << 20


def _raw_response(status: str, detail: str, extra: str = "") -> bytes:
    """A whole HTTP/1.1 response, written straight to the socket: these are answered
    outside any request cycle (before one started, or instead of the one stalled)."""
    body = json.dumps({"detail": detail}).encode()
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n{extra}"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


TIMED_OUT = _raw_response(
    "408 Request Timeout",
    "the request did not arrive in time (RAG_READ_TIMEOUT_S); send it whole, without pauses",
)
FULL = _raw_response(
    "503 Service Unavailable",
    "the server has as many connections open as it allows (RAG_MAX_CONNECTIONS); retry soon",
    "retry-after: 1\r\n",
)


class GuardedConfig(uvicorn.Config):
    """uvicorn's config plus the guards' two settings. It travels to worker processes with
    the rest of the config, so every worker enforces them."""

    def __init__(self, app: Any, *, read_timeout: float, max_connections: int, **kw: Any) -> None:
        super().__init__(app, **kw)
        self.read_timeout = read_timeout
        self.max_connections = max_connections


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a read deadline per request and a connection cap."""

    _last_full_warning = 0.0  # one warning per interval for the whole process, not a flood

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.read_timeout: float | None = getattr(config, "read_timeout", None)
        self.max_connections: int | None = getattr(config, "max_connections", None)
        self._read_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.max_connections is not None and len(self.connections) >= self.max_connections:
            self.transport = transport  # type: ignore[assignment]  # connection_lost closes it
            transport.write(FULL)  # type: ignore[attr-defined]
            transport.close()
            self._warn_full()
            return
        super().connection_made(transport)  # type: ignore[arg-type]
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._read_timer is None and self.conn.their_state is h11.IDLE:
            self._arm()  # the next request on a kept-alive connection starts its clock
        super().data_received(data)
        if self.conn.their_state not in (h11.IDLE, h11.SEND_BODY):
            self._disarm()  # the request is whole (or the connection is ending)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self.read_timeout is not None:
            self._disarm()
            self._read_timer = self.loop.call_later(self.read_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _timed_out(self) -> None:
        self._read_timer = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if cycle.response_started:  # it answered without reading the body: just close
                self.transport.close()
                return
            # The route is waiting for a body that will not come: it sees a disconnect
            # (and its response, if any, is dropped) while the client gets the 408.
            cycle.disconnected = True
            cycle.message_event.set()
        self.transport.write(TIMED_OUT)
        self.transport.close()

    @classmethod
    def _warn_full(cls) -> None:
        now = time.monotonic()
        if now - cls._last_full_warning > 10:
            cls._last_full_warning = now
            log.warning("connection limit reached (RAG_MAX_CONNECTIONS); closing new ones")


def connection_cap(wanted: int) -> int:
    """``wanted``, or less if the process's file limit (raised to its hard limit first)
    would not leave room for it and :data:`RESERVED_FDS`."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    ceiling = MAX_SOFT_FDS if hard == resource.RLIM_INFINITY else min(hard, MAX_SOFT_FDS)
    if soft != resource.RLIM_INFINITY and soft < ceiling:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
            soft = ceiling
        except (ValueError, OSError):  # a container may forbid it: size by what we have
            pass
    limit = MAX_SOFT_FDS if soft == resource.RLIM_INFINITY else soft
    return max(1, min(wanted, limit - RESERVED_FDS))


@contextmanager
def _sigterm_exits_cleanly() -> Iterator[None]:
    """uvicorn drains on SIGTERM, then re-raises the signal under the handler that was
    there before it: let that handler be a clean exit, so a drained server exits 0."""

    def done(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    previous = signal.signal(signal.SIGTERM, done)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def serve(settings: Settings, app: Any) -> None:
    """Serve ``app`` (an ASGI app, or with several workers an import string of a factory)
    on ``settings.host``/``port`` until SIGINT or SIGTERM."""
    config = GuardedConfig(
        app,
        factory=isinstance(app, str),
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level="warning",
        http=GuardedH11Protocol,
        read_timeout=settings.read_timeout_s,
        max_connections=connection_cap(settings.max_connections),
        timeout_keep_alive=settings.keep_alive_s,
        timeout_graceful_shutdown=settings.drain_s,
    )
    with _sigterm_exits_cleanly():
        if config.workers > 1:
            Multiprocess(config, sockets=[config.bind_socket()]).run()
            return
        server = uvicorn.Server(config)
        server.run()
    if not server.started:
        raise SystemExit(uvicorn.config.STARTUP_FAILURE)
