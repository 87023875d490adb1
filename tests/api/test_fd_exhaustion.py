"""A real ``rag serve`` under a low open-file limit, against more idle sockets than it has
descriptors: the cap is counted as connections are accepted, so the limit is never hit;
over it, the oldest idle connections are closed to make room, so ``/health`` is answered
``200`` at once; and stderr stays quiet (no ``Too many open files`` traceback per failed
``accept()``). And the gate's own answer to running out of descriptors anyway: one
warning, a pause, and accepting again once some are free.

Bounded: at most 1,500 sockets, all on 127.0.0.1, each test well under a minute.
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from api.server import RESERVED_FDS
from rag.engine import Engine
from tests.servers import RagServer, _rag_command, _wait_until_up, free_port

pytestmark = pytest.mark.server
FILE_LIMIT = 1024
IDLE = 1500  # more than the server has descriptors
CAP = FILE_LIMIT - RESERVED_FDS  # what connection_cap() makes of the default 4,096
READ_TIMEOUT_S = 2.0


@contextmanager
def _client_file_limit(wanted: int) -> Iterator[None]:
    """This process needs a descriptor per socket it holds open: raise its soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip(f"the test process may open only {hard} files")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _low_file_limit() -> None:  # runs in the child, before exec: soft and hard alike
    resource.setrlimit(resource.RLIMIT_NOFILE, (FILE_LIMIT, FILE_LIMIT))


@contextmanager
def _serve_with_low_file_limit(folder: Path, index_dir: Path) -> Iterator[RagServer]:
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    environ |= {
        "RAG_HOST": "127.0.0.1",
        "RAG_PORT": str(port),
        "RAG_INDEX_DIR": str(index_dir),
        "RAG_READ_TIMEOUT_S": str(READ_TIMEOUT_S),
    }
    out_path, err_path = folder / "serve.out", folder / "serve.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = subprocess.Popen(
            [*_rag_command(), "serve"],
            env=environ,
            stdout=out,
            stderr=err,
            preexec_fn=_low_file_limit,
        )
    server = RagServer(f"http://127.0.0.1:{port}", process, out_path, err_path)
    try:
        _wait_until_up(server, "/ready", {})
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _port(server: RagServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


def _answered(sock: socket.socket) -> bool:
    """Whether the server has sent something (or closed) already."""
    sock.setblocking(False)
    try:
        sock.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return False
    except OSError:
        pass
    finally:
        sock.setblocking(True)
    return True


def _status_line(sock: socket.socket) -> bytes:
    """The first line of what the server sends before it closes (b"" if nothing)."""
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except OSError:
        pass
    return b"".join(chunks).split(b"\r\n", 1)[0]


def test_idle_sockets_past_the_file_limit_leave_health_answering_and_stderr_quiet(
    engine: Engine, index_dir: Path, tmp_path: Path
) -> None:
    with (
        _client_file_limit(IDLE + 500),
        _serve_with_low_file_limit(tmp_path, index_dir) as server,
    ):
        limits = Path(f"/proc/{server.process.pid}/limits").read_text()
        assert any(
            line.startswith("Max open files") and f" {FILE_LIMIT} " in line
            for line in limits.splitlines()
        ), limits
        idle: list[socket.socket] = []
        try:
            for _ in range(IDLE):
                idle.append(socket.create_connection(("127.0.0.1", _port(server))))
            started = time.monotonic()
            response = httpx.get(f"{server.url}/health", timeout=10)
            took = time.monotonic() - started
            print(
                f"/health with {IDLE} idle sockets, file limit {FILE_LIMIT}: "
                f"{response.status_code} in {took * 1000:.1f} ms"
            )
            # Answered at once, and served: the oldest idle connections made room for the
            # newer ones and for /health's, never a wait until the read deadline.
            assert took < 1.0, took
            assert response.status_code == 200, response.text
            closed_for_room = sum(_answered(sock) for sock in idle)
            print(f"idle sockets closed to make room: {closed_for_room}")
            assert closed_for_room == IDLE - CAP + 1  # /health's connection took one too

            # Every idle socket got the read deadline's answer: 408, either when the gate
            # needed its place or at the deadline itself. Nobody was refused.
            for sock in idle:
                sock.settimeout(READ_TIMEOUT_S + 5)
            statuses = [_status_line(sock) for sock in idle]
            counts = {s: statuses.count(s) for s in set(statuses)}
            print(f"idle sockets' answers: {counts}")
            assert counts == {b"HTTP/1.1 408 Request Timeout": IDLE}
        finally:
            for sock in idle:
                sock.close()
        assert httpx.get(f"{server.url}/health").status_code == 200
        log = server.log()
    lines = log.splitlines()
    print(f"stderr: {len(lines)} lines, {len(log)} bytes")
    print(log)
    assert sum("Too many open files" in line for line in lines) <= 3
    assert "Traceback" not in log
    assert len(lines) <= 5, log
    assert log.count("connection limit reached") == 1  # one warning, not one per socket
    assert "closing the oldest idle connections" in log


# A bare server on GuardedEventLoop, to reach the gate's out-of-descriptors path: its cap
# is above its file limit, which connection_cap() never allows `rag serve` to be.
GATE_SERVER = textwrap.dedent(
    """
    import asyncio, logging, socket, sys
    from api.server import GuardedEventLoop

    class Hello(asyncio.Protocol):
        def connection_made(self, transport):
            transport.write(b"hello")

    async def main():
        loop = asyncio.get_running_loop()
        sock = socket.create_server(("127.0.0.1", 0), backlog=512)
        server = await loop.create_server(Hello, sock=sock, backlog=512)
        print(sock.getsockname()[1], flush=True)
        await asyncio.sleep(float(sys.argv[1]))
        server.close()

    logging.basicConfig(level=logging.WARNING)
    loop = GuardedEventLoop(max_connections=10_000)
    loop.run_until_complete(main())
    """
)
GATE_FILE_LIMIT = 64


def _tiny_file_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (GATE_FILE_LIMIT, GATE_FILE_LIMIT))


def test_out_of_descriptors_the_gate_warns_once_pauses_and_accepts_again(
    tmp_path: Path,
) -> None:
    err_path = tmp_path / "gate.err"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with err_path.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-c", GATE_SERVER, "30"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=err,
            preexec_fn=_tiny_file_limit,
        )
    held: list[socket.socket] = []
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(200)]
        time.sleep(1.0)  # several of the gate's retries, all failing
        greeted = []
        for sock in held:
            sock.setblocking(False)
            try:
                greeted.append(sock.recv(5) == b"hello")
            except BlockingIOError:
                greeted.append(False)
        served = sum(greeted)
        print(f"served with a file limit of {GATE_FILE_LIMIT}: {served} of {len(held)}")
        assert 0 < served < GATE_FILE_LIMIT  # as many as there were descriptors for
        assert greeted == sorted(greeted, reverse=True)  # in order: the rest wait queued

        for sock in held[:served]:  # free their descriptors: the queued ones get in
            sock.close()
        waiting = held[served : served + 20]
        started = time.monotonic()
        for sock in waiting:
            sock.settimeout(5)
            assert sock.recv(5) == b"hello"
        print(f"the next 20 served {time.monotonic() - started:.2f}s after room was made")
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
    warnings = [line for line in log.splitlines() if "accept() is out of file descriptors" in line]
    assert len(warnings) == 1, log
    assert len(log.splitlines()) == 1, log
