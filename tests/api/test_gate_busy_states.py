"""The connection gate never closes a connection with a request in progress to make room,
whatever stage the request is at: its route running, its response streaming, or its
response written whole but still on its way to a client that reads slowly. ``rag serve``
has no route slow enough to hold these states on cue, so this runs the gate and
:class:`~api.server.GuardedH11Protocol` under uvicorn (as ``serve`` does) around a tiny
ASGI app that has.

Bounded: a handful of sockets on 127.0.0.1, one server for a few seconds.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.server

BIG = 32 * 1024 * 1024  # more than loopback's socket buffers hold: most stays in the transport
SERVER = textwrap.dedent(
    f"""
    import asyncio, sys
    import uvicorn
    from api.server import GuardedConfig, GuardedH11Protocol

    async def app(scope, receive, send):
        assert scope["type"] == "http"
        async def start(length=None):
            headers = [(b"content-type", b"text/plain")]
            if length is not None:
                headers.append((b"content-length", str(length).encode()))
            await send({{"type": "http.response.start", "status": 200, "headers": headers}})
        path = scope["path"]
        if path == "/slow":  # the route runs for 2 s
            await asyncio.sleep(2.0)
            await start(4)
            await send({{"type": "http.response.body", "body": b"slow"}})
        elif path == "/stream":  # 20 chunks over 2 s
            await start()
            for _ in range(20):
                await send({{"type": "http.response.body", "body": b"x" * 10, "more_body": True}})
                await asyncio.sleep(0.1)
            await send({{"type": "http.response.body", "body": b""}})
        elif path == "/big":  # written whole at once
            await start({BIG})
            await send({{"type": "http.response.body", "body": b"b" * {BIG}}})
        else:
            await start(2)
            await send({{"type": "http.response.body", "body": b"ok"}})

    config = GuardedConfig(
        app, host="127.0.0.1", port=0, http=GuardedH11Protocol, lifespan="off",
        log_level="warning", read_timeout=30.0, max_connections=3, timeout_keep_alive=30,
    )
    sock = config.bind_socket()
    print(sock.getsockname()[1], flush=True)
    uvicorn.Server(config).run(sockets=[sock])
    """
)


def _get(port: int, path: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    return sock


def _read_response(sock: socket.socket) -> tuple[bytes, int]:
    """One whole response (content-length or chunked): its status line and body size."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0]
    lines = head.lower().split(b"\r\n")
    length = [int(line.split(b":", 1)[1]) for line in lines if line.startswith(b"content-length")]
    if length:
        received = len(rest)
        while received < length[0]:
            chunk = sock.recv(1 << 20)
            assert chunk, received
            received += len(chunk)
        return status, received
    while not rest.endswith(b"0\r\n\r\n"):  # chunked: to the last chunk
        chunk = sock.recv(65536)
        assert chunk, rest
        rest += chunk
    return status, rest.count(b"x")


def test_connections_with_a_request_in_progress_are_never_closed_for_room(
    tmp_path: Path,
) -> None:
    err_path = tmp_path / "server.err"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with err_path.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-c", SERVER], env=env, stdout=subprocess.PIPE, stderr=err
        )
    held: list[socket.socket] = []
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        deadline = time.monotonic() + 30
        while True:  # up when a request is answered
            try:
                with _get(port, "/ok") as probe:
                    assert _read_response(probe) == (b"HTTP/1.1 200 OK", 2)
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        time.sleep(0.2)

        # The cap of 3 taken by a route running, a response streaming, and a response
        # sent whole but not read yet: nothing idle to close, so a fourth is refused.
        slow, stream, big = _get(port, "/slow"), _get(port, "/stream"), _get(port, "/big")
        held += [slow, stream, big]
        time.sleep(0.3)
        with _get(port, "/ok") as extra:
            refused = extra.recv(65536).split(b"\r\n", 1)[0]
        assert refused == b"HTTP/1.1 503 Service Unavailable", refused

        # ...and each of the three is answered in full.
        assert _read_response(slow) == (b"HTTP/1.1 200 OK", 4)
        assert _read_response(stream) == (b"HTTP/1.1 200 OK", 200)
        assert _read_response(big) == (b"HTTP/1.1 200 OK", BIG)

        # Now all three are idle, kept alive between requests: a new connection is served,
        # in the place of one of them, closed without a word.
        time.sleep(0.2)
        with _get(port, "/ok") as extra:
            assert _read_response(extra) == (b"HTTP/1.1 200 OK", 2)
        closed = []
        for sock in held:
            sock.setblocking(False)
            try:
                closed.append(sock.recv(1) == b"")
            except BlockingIOError:
                closed.append(False)
        assert sum(closed) == 1, closed
    finally:
        for sock in held:
            sock.close()
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
    log = err_path.read_text()
    print(log)
    assert "Traceback" not in log
    assert log.count("refusing new ones (503)") == 1, log
    assert log.count("closing the oldest idle connections") == 1, log
