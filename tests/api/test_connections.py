"""Slow, idle and hostile connections against a real ``rag serve`` on loopback: the read
deadline, the connection cap, ambiguous framing, and a SIGTERM that drains.

Bounded: at most 2,000 sockets, all on 127.0.0.1, each test a few seconds.
"""

from __future__ import annotations

import json
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rag.engine import Engine
from tests.servers import RagServer, rag_serve

pytestmark = pytest.mark.server
READ_TIMEOUT_S = 2.0
CAP = 2500  # above the 2,000 idle sockets: the cap has its own test and server


def _connect(server: RagServer, timeout: float = 10.0) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _search_request(body: bytes, declared: int | None = None) -> bytes:
    length = len(body) if declared is None else declared
    return (
        b"POST /search HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {length}\r\n\r\n".encode()
    )


@pytest.fixture(scope="module")
def server(
    engine: Engine, index_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RagServer]:
    env = {
        "RAG_INDEX_DIR": str(index_dir),
        "RAG_READ_TIMEOUT_S": str(READ_TIMEOUT_S),
        "RAG_MAX_CONNECTIONS": str(CAP),
    }
    with rag_serve(tmp_path_factory.mktemp("connections"), env) as running:
        yield running


def test_a_connection_that_sends_nothing_gets_408_and_is_closed(server: RagServer) -> None:
    with _connect(server) as sock:
        started = time.monotonic()
        reply = _read_all(sock)  # returns when the server closes the connection
        took = time.monotonic() - started
    assert reply.startswith(b"HTTP/1.1 408 ")
    assert b"RAG_READ_TIMEOUT_S" in reply
    assert READ_TIMEOUT_S - 0.1 < took < READ_TIMEOUT_S + 2


def test_a_body_shorter_than_declared_gets_408_not_a_hang(server: RagServer) -> None:
    with _connect(server) as sock:
        sock.sendall(_search_request(b"", declared=100) + b'{"question"')  # 11 of 100 bytes
        started = time.monotonic()
        reply = _read_all(sock)
        took = time.monotonic() - started
    assert reply.startswith(b"HTTP/1.1 408 "), reply[:80]
    assert took < READ_TIMEOUT_S + 2


def test_headers_sent_a_byte_at_a_time_are_cut_at_the_deadline(server: RagServer) -> None:
    request = _search_request(b'{"question": "trade"}')
    with _connect(server) as sock:
        started = time.monotonic()
        try:
            for byte in request:  # a byte every 0.1 s: each read is quick, the whole is not
                sock.sendall(bytes([byte]))
                time.sleep(0.1)
        except OSError:
            pass  # closed under us: what should happen
        reply = _read_all(sock)
        took = time.monotonic() - started
    assert reply.startswith(b"HTTP/1.1 408 ")
    assert took < READ_TIMEOUT_S + 2


def test_a_kept_alive_connection_is_not_cut_between_quick_requests(server: RagServer) -> None:
    with httpx.Client(base_url=server.url) as http:
        for _ in range(3):
            assert http.get("/search", params={"q": "higher education"}).status_code == 200
            time.sleep(READ_TIMEOUT_S * 0.6)  # idle, but each request is quick


def test_two_thousand_idle_sockets_leave_health_answering(server: RagServer) -> None:
    idle = [_connect(server) for _ in range(2000)]
    try:
        started = time.monotonic()
        response = httpx.get(f"{server.url}/health", timeout=5)
        took = time.monotonic() - started
        assert response.status_code == 200
        print(f"/health with 2,000 idle sockets open: {took * 1000:.1f} ms")
        assert took < 1.0, took
        # ...and the read deadline frees every one of them.
        time.sleep(READ_TIMEOUT_S + 1)
        for sock in idle:
            sock.settimeout(5)
            assert _read_all(sock).startswith(b"HTTP/1.1 408 ")
    finally:
        for sock in idle:
            sock.close()
    assert "Too many open files" not in server.log()
    assert "Traceback" not in server.log()


def test_content_length_with_chunked_is_refused(server: RagServer) -> None:
    smuggle = (
        b"POST /search HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'15\r\n{"question": "trade"}\r\n0\r\n\r\n'
    )
    with _connect(server) as sock:
        sock.sendall(smuggle)
        reply = _read_all(sock)  # the connection is closed after the answer
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"connection: close" in head.lower()
    assert "Transfer-Encoding" in json.loads(body)["detail"]


def test_connections_over_the_cap_get_503_and_the_rest_are_served(
    engine: Engine, index_dir: Path, tmp_path: Path
) -> None:
    env = {"RAG_INDEX_DIR": str(index_dir), "RAG_MAX_CONNECTIONS": "20"}
    with rag_serve(tmp_path, env) as server:
        held = [_connect(server) for _ in range(20)]
        try:
            time.sleep(0.5)
            with _connect(server) as extra:
                reply = _read_all(extra)
            assert reply.startswith(b"HTTP/1.1 503 ")
            assert b"retry-after: 1" in reply.lower() and b"RAG_MAX_CONNECTIONS" in reply
        finally:
            for sock in held:
                sock.close()
        time.sleep(0.5)
        assert httpx.get(f"{server.url}/health").status_code == 200  # room again
        log = server.log()
    assert log.count("connection limit reached") == 1  # one warning, not one per connection
    assert "Traceback" not in log


def test_sigterm_lets_a_request_in_flight_finish_then_exits_0(
    engine: Engine, index_dir: Path, tmp_path: Path
) -> None:
    env = {"RAG_INDEX_DIR": str(index_dir)}
    body = b'{"question": "What did the U.S. commit to higher education?"}'
    with rag_serve(tmp_path, env) as server, _connect(server) as sock:
        sock.sendall(_search_request(body))  # headers now, the body after the signal
        time.sleep(0.3)
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert server.process.poll() is None  # still draining: a request is in flight
        with pytest.raises(httpx.TransportError):  # ...but it takes no new connection
            httpx.get(f"{server.url}/health", timeout=2)
        sock.sendall(body)
        reply = _read_all(sock)
        assert server.process.wait(timeout=20) == 0
    head, _, payload = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), head
    assert json.loads(payload)["passages"]
