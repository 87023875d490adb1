"""Run the app under uvicorn, with the connection guards uvicorn lacks.

uvicorn closes a kept-alive connection after ``timeout_keep_alive``, but a connection that
never sends a request, or sends it a byte at a time (or declares a body it never sends),
is held for ever; and past the process's open-file limit ``accept()`` fails, so nothing
gets in, not even ``/health``. This module adds what a reverse proxy would:

- a **read deadline** (``RAG_READ_TIMEOUT_S``, :class:`GuardedH11Protocol`): from the
  moment a connection opens, or a kept-alive one starts its next request, the whole
  request — headers and body — must arrive within it; otherwise ``408`` and the connection
  is closed;
- a **connection cap** (``RAG_MAX_CONNECTIONS``, kept below the file limit,
  :class:`ConnectionGate`), so file descriptors never run out. What nginx does when its
  connections run out: a new connection over the cap closes the **oldest idle** one to
  make room — one waiting for its first request gets the read deadline's ``408``, one kept
  alive between requests a plain close, as its keep-alive timeout would — and is admitted.
  Only when every connection has a request in progress (being read, its route running,
  its response on its way out) does the new one get ``503`` with ``Retry-After``, closed
  at once. So a flood of connections that send nothing cannot lock out ``/health``.

The cap is enforced where the descriptor is made, not once a protocol sees the
connection: asyncio's own accept loop takes up to ``backlog`` (uvicorn: 2,048) connections
in one turn before any of them is counted, and when ``accept()`` then fails with
``EMFILE`` it does not stop: it logs a traceback for each of the remaining attempts and
stops accepting for a second (CPython gh-151615, not fixed in 3.11). The gate counts each
connection as it accepts it, makes room for or refuses those over the cap in the same
turn, and if descriptors run out all the same it pauses the listening socket, warns once
and tries again shortly.

``serve`` also drains on SIGTERM (in-flight requests finish, within ``RAG_DRAIN_S``) and
then exits 0, where uvicorn would re-raise the signal and die of it; and with several
workers it logs each one that dies and the one started in its place.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import json
import logging
import resource
import signal
import socket
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
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
# Connections one turn of the loop takes from a listening socket before the connections
# already open get their turn (asyncio's own default).
ACCEPT_BURST = 100
# accept() failed for want of descriptors or memory: how long the gate waits to try again.
ACCEPT_RETRY_S = 0.25
# How long a full gate waits before it refuses anyone: a connection its client has just
# closed is closed on this side a loop turn or two later (its end is read, then the
# transport closes), and a client that closes one and opens the next should get in.
FULL_GRACE_S = 0.01
# A full gate looks at most this many of the oldest idle connections for one to close (one
# whose response is still being sent, or whose next request is arriving, is not closed).
EVICT_SCAN = 8
# Connections closed to make room whose descriptors are not freed yet (each is, a loop turn
# later): the most the gate lets past the cap meanwhile, well inside RESERVED_FDS.
MAX_CLOSING = ACCEPT_BURST
# One warning of each kind per interval for the whole process, not a flood.
WARN_EVERY_S = 10.0


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

_warned_at: dict[str, float] = {}


def _warn_now_and_then(kind: str, message: str, *args: object) -> None:
    """``log.warning``, at most once per :data:`WARN_EVERY_S` for each ``kind``."""
    now = time.monotonic()
    if now - _warned_at.get(kind, -WARN_EVERY_S) >= WARN_EVERY_S:
        _warned_at[kind] = now
        log.warning(message, *args)


def _refuse(conn: socket.socket) -> None:
    """Answer a just-accepted connection ``503`` and close it, in this very turn: no
    transport, no task, and its descriptor is free again before the next accept."""
    try:
        conn.setblocking(False)
        conn.send(FULL)  # a few hundred bytes: an empty send buffer takes them whole
        conn.shutdown(socket.SHUT_WR)
        conn.recv(65536)  # what the client already sent: closing on unread bytes resets
    except OSError:
        pass  # gone already, or nothing to read yet: closing is all that is left
    finally:
        conn.close()


class _AdmittedSocket(socket.socket):
    """An admitted connection's socket, which leaves its gate's count when it is closed:
    whatever ends the connection (the protocol, the transport, a failed set-up), asyncio
    closes its socket, and the gate holds it until then, so it is never collected unclosed."""

    gate: ConnectionGate | None = None
    fd = -1

    def close(self) -> None:
        gate, self.gate = self.gate, None
        if gate is not None:
            gate.closed(self)
        super().close()


class ConnectionGate:
    """Accepts a loop's connections, counting each against the cap as its descriptor is
    made; the admitted ones are handed to the server's protocol through
    ``loop.connect_accepted_socket``, and counted until their socket is closed
    (:class:`_AdmittedSocket`).

    Once the gate has been full for :data:`FULL_GRACE_S`, each connection over the cap
    closes the oldest idle one (:meth:`_make_room`) and is admitted in its place, or, when
    none is idle, is refused at once (:func:`_refuse`). The protocols say when they are
    idle (:meth:`mark_idle`: waiting for a first request, or kept alive between requests) and
    when not (:meth:`mark_busy`): :attr:`idle` holds them in the order they became idle, so
    finding the oldest, and every change, is O(1).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, max_connections: int | None) -> None:
        self.loop = loop
        self.max_connections = max_connections
        self.admitted: dict[int, _AdmittedSocket] = {}  # by descriptor
        self.idle: OrderedDict[GuardedH11Protocol, _AdmittedSocket] = OrderedDict()
        self.closing: set[_AdmittedSocket] = set()  # closed for room, descriptor not yet free
        self._waited_while_full = False
        self._tasks: set[asyncio.Task[Any]] = set()

    # The protocols' side.

    def socket_of(self, transport: asyncio.BaseTransport) -> _AdmittedSocket | None:
        """The admitted socket under ``transport`` (None: not one this gate accepted)."""
        sock = transport.get_extra_info("socket")
        return None if sock is None else self.admitted.get(sock.fileno())

    def mark_idle(self, protocol: GuardedH11Protocol, sock: _AdmittedSocket) -> None:
        """``protocol`` waits for a request: the newest idle connection (if not idle yet)."""
        if protocol not in self.idle:
            self.idle[protocol] = sock

    def mark_busy(self, protocol: GuardedH11Protocol) -> None:
        """``protocol`` has a request in progress (or is gone): never to be closed for room."""
        self.idle.pop(protocol, None)

    def closed(self, sock: _AdmittedSocket) -> None:
        if self.admitted.get(sock.fd) is sock:
            del self.admitted[sock.fd]
        self.closing.discard(sock)

    # The accepting side.

    def _full(self) -> bool:
        if self.max_connections is None:
            return False
        return len(self.admitted) - len(self.closing) >= self.max_connections

    def _make_room(self) -> bool:
        """Close the oldest idle connection (:meth:`GuardedH11Protocol.close_idle`); False if
        none is idle among the :data:`EVICT_SCAN` oldest, or too many are closing already."""
        if len(self.closing) >= MAX_CLOSING:
            return False
        for _ in range(EVICT_SCAN):
            if not self.idle:
                return False
            protocol, sock = self.idle.popitem(last=False)
            transport = protocol.transport
            if transport.is_closing():
                continue  # ending already (its keep-alive or read deadline expired)
            if transport.get_write_buffer_size():
                self.idle[protocol] = sock  # its last response is still going out: not yet
                continue
            try:
                if sock.recv(1, socket.MSG_PEEK):
                    continue  # its next request is arriving: not idle (data_received follows)
            except (BlockingIOError, InterruptedError):
                pass  # nothing sent: idle indeed
            except OSError:
                pass  # reset by its client: closing it is all that is left
            protocol.close_idle()
            self.closing.add(sock)  # its descriptor is freed a loop turn later
            return True
        return False

    def listen(self, sock: socket.socket, factory: Callable[[], Any], backlog: int) -> None:
        sock.listen(backlog)
        sock.setblocking(False)
        self._resume(sock, factory)

    def _resume(self, sock: socket.socket, factory: Callable[[], Any]) -> None:
        if sock.fileno() != -1:  # the server may have closed it while the gate paused
            self.loop.add_reader(sock.fileno(), self._accept, sock, factory)

    def _pause(self, sock: socket.socket, factory: Callable[[], Any], seconds: float) -> None:
        self.loop.remove_reader(sock.fileno())
        self.loop.call_later(seconds, self._resume, sock, factory)

    def _accept(self, sock: socket.socket, factory: Callable[[], Any]) -> None:
        for _ in range(ACCEPT_BURST):
            full = self._full()
            if not full:
                self._waited_while_full = False
            elif not self._waited_while_full or (not self.idle and self._tasks):
                # Full: wait a moment before making room or refusing, and while connections
                # just admitted are still being set up (they may be idle ones to close).
                self._waited_while_full = True
                self._pause(sock, factory, FULL_GRACE_S)
                return
            try:
                conn, _ = sock.accept()
            except (BlockingIOError, InterruptedError):
                return  # nobody else waiting
            except ConnectionAbortedError:
                continue  # the client gave up while queued
            except OSError as exc:
                # Out of descriptors (something besides connections holds them) or memory:
                # the socket stays readable, so stop listening to it for a moment.
                self._pause(sock, factory, ACCEPT_RETRY_S)
                out_of_fds = exc.errno in (errno.EMFILE, errno.ENFILE)
                kind = "out of file descriptors" if out_of_fds else "failing"
                _warn_now_and_then(
                    "accept",
                    "accept() is %s (%s); not accepting connections for %.2fs at a time "
                    "(open connections: %d; lower RAG_MAX_CONNECTIONS or raise ulimit -n)",
                    kind,
                    exc.strerror or exc,
                    ACCEPT_RETRY_S,
                    len(self.admitted),
                )
                return
            if full and self._make_room():
                _warn_now_and_then(
                    "evict",
                    "connection limit reached (RAG_MAX_CONNECTIONS=%d); "
                    "closing the oldest idle connections",
                    self.max_connections,
                )
            elif full:
                _refuse(conn)
                _warn_now_and_then(
                    "refuse",
                    "connection limit reached (RAG_MAX_CONNECTIONS=%d) and every connection "
                    "has a request in progress; refusing new ones (503)",
                    self.max_connections,
                )
                continue
            admitted = _AdmittedSocket(conn.family, conn.type, conn.proto, conn.detach())
            admitted.gate, admitted.fd = self, admitted.fileno()
            self.admitted[admitted.fd] = admitted
            task = self.loop.create_task(self._connect(admitted, factory))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _connect(self, conn: socket.socket, factory: Callable[[], Any]) -> None:
        try:
            await self.loop.connect_accepted_socket(factory, conn)
        except Exception:
            conn.close()  # and so no longer counted
            log.exception("could not set up a connection")


class GuardedEventLoop(asyncio.SelectorEventLoop):
    """asyncio's selector loop whose servers on a given socket accept through a
    :class:`ConnectionGate` instead of asyncio's accept loop. (With ``ssl``, or without a
    socket of the caller's, it is asyncio's.) Do not call ``start_serving()`` on such a
    server: asyncio's accept would take over the socket from the gate."""

    def __init__(self, max_connections: int | None = None) -> None:
        super().__init__()
        self.gate = ConnectionGate(self, max_connections)

    async def create_server(
        self, protocol_factory: Callable[[], asyncio.BaseProtocol], *args: Any, **kwargs: Any
    ) -> asyncio.Server:
        sock: socket.socket | None = kwargs.get("sock")
        if args or sock is None or kwargs.get("ssl") is not None:
            return await super().create_server(protocol_factory, *args, **kwargs)
        start_serving = kwargs.pop("start_serving", True)
        server = await super().create_server(protocol_factory, start_serving=False, **kwargs)
        if start_serving:
            self.gate.listen(sock, protocol_factory, kwargs.get("backlog", 100))
        return server


class GuardedConfig(uvicorn.Config):
    """uvicorn's config plus the guards' two settings, and the loop that enforces the cap.
    It travels to worker processes with the rest of the config, so every worker enforces
    them."""

    def __init__(self, app: Any, *, read_timeout: float, max_connections: int, **kw: Any) -> None:
        super().__init__(app, **kw)
        self.read_timeout = read_timeout
        self.max_connections = max_connections

    def get_loop_factory(self) -> Callable[[], asyncio.AbstractEventLoop] | None:
        return functools.partial(GuardedEventLoop, self.max_connections)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a read deadline per request, which tells its loop's
    :class:`ConnectionGate` whenever it is idle (so the gate may close it for room) and
    whenever a request is in progress on it (so it never will)."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.read_timeout: float | None = getattr(config, "read_timeout", None)
        self._read_timer: asyncio.TimerHandle | None = None
        self._gate: ConnectionGate | None = None
        self._socket: _AdmittedSocket | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._arm()
        if isinstance(self.loop, GuardedEventLoop):
            self._socket = self.loop.gate.socket_of(transport)
            if self._socket is not None:
                self._gate = self.loop.gate
        self._note_if_idle()

    def data_received(self, data: bytes) -> None:
        if self._gate is not None:
            self._gate.mark_busy(self)  # bytes of a request: in progress from now
        if self._read_timer is None and self.conn.their_state is h11.IDLE:
            self._arm()  # the next request on a kept-alive connection starts its clock
        super().data_received(data)
        if self.conn.their_state not in (h11.IDLE, h11.SEND_BODY):
            self._disarm()  # the request is whole (or the connection is ending)
        self._note_if_idle()  # e.g. the rest of a body after an early response

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._note_if_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._gate is not None:
            self._gate.mark_busy(self)
        self._disarm()
        super().connection_lost(exc)

    def _waiting_for_a_request(self) -> bool:
        """No request in progress: none sent yet, or the last one answered in full, and
        not a byte of the next one here (h11 holds those it has not made a request of)."""
        return (
            (self.cycle is None or self.cycle.response_complete)
            and self.conn.our_state is h11.IDLE
            and self.conn.their_state is h11.IDLE
            and not self.transport.is_closing()
            and not self.conn.trailing_data[0]
        )

    def _note_if_idle(self) -> None:
        if self._gate is not None and self._socket is not None:
            if self._waiting_for_a_request():
                self._gate.mark_idle(self, self._socket)
            else:
                self._gate.mark_busy(self)

    def close_idle(self) -> None:
        """Close this idle connection to make room for a new one (the gate's call), as its
        own deadlines would: one that never sent a request gets the read deadline's
        ``408``; one kept alive between requests is closed without a word, as by its
        keep-alive timeout. HTTP/1.1 has a server close an idle persistent connection so
        (RFC 9112 §9.5-9.6), and a client may resend an idempotent request sent on one that
        closed before any answer (§9.3.1); an unsolicited ``408`` there could instead be
        read as the answer to a request the client is sending that very moment."""
        self._disarm()
        if self.cycle is None:
            self.transport.write(TIMED_OUT)
            self.transport.close()
        else:
            self._unset_keepalive_if_required()
            self.timeout_keep_alive_handler()

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


def _how_it_ended(exitcode: int | None) -> str:
    if exitcode is None:
        return "still running"
    if exitcode < 0:
        try:
            return f"signal {-exitcode}, {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"signal {-exitcode}"
    return f"exit code {exitcode}"


class LoggedMultiprocess(Multiprocess):
    """uvicorn's supervisor, which replaces a worker that died but says so only at ``info``
    level (hidden at ``warning``), without the cause: this says it as a warning, with how
    the worker ended and which process was started in its place. (The supervisor also kills
    a worker that leaves its health check unanswered for ``timeout_worker_healthcheck``
    seconds: that one is logged the same way, as ended by SIGKILL.)"""

    def keep_subprocess_alive(self) -> None:
        before = list(self.processes)
        super().keep_subprocess_alive()
        for old, new in zip(before, self.processes, strict=False):
            if new is not old:
                log.warning(
                    "worker %s died (%s); started %s", old.pid, _how_it_ended(old.exitcode), new.pid
                )


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
    # The socket is bound here, for one worker as for several: the gate accepts from a
    # socket of its own (GuardedEventLoop.create_server).
    sockets = [config.bind_socket()]
    with _sigterm_exits_cleanly():
        if config.workers > 1:
            LoggedMultiprocess(config, sockets=sockets).run()
            return
        server = uvicorn.Server(config)
        server.run(sockets=sockets)
    if not server.started:
        raise SystemExit(uvicorn.config.STARTUP_FAILURE)
