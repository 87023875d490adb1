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


SEARCH_BODY = b'{"question": "What did the U.S. commit to higher education?"}'


def _is_open(sock: socket.socket) -> bool:
    """Nothing received and not closed by the server (so far)."""
    sock.setblocking(False)
    try:
        sock.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return True
    finally:
        sock.settimeout(10.0)
    return False


def _response(sock: socket.socket) -> tuple[bytes, bytes]:
    """One whole response on a kept-alive connection: its head and its body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.lower().split(b"\r\n")
        if line.startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, body
        body += chunk
    return head, body


def _capped(index_dir: Path, cap: int) -> dict[str, str]:
    # Deadlines far beyond the test, so only the cap closes anything.
    return {
        "RAG_INDEX_DIR": str(index_dir),
        "RAG_MAX_CONNECTIONS": str(cap),
        "RAG_READ_TIMEOUT_S": "60",
        "RAG_KEEP_ALIVE_S": "60",
    }


def test_a_full_gate_closes_the_oldest_idle_connection_for_a_new_one(
    engine: Engine, index_dir: Path, tmp_path: Path
) -> None:
    with rag_serve(tmp_path, _capped(index_dir, 20)) as server:
        # 20 connections that send nothing, against a cap of 20: the 21st is served, and
        # the oldest idle one gets the read deadline's 408 to make room for it.
        held = []
        for _ in range(20):
            held.append(_connect(server))
            time.sleep(0.01)  # so the order they are admitted in is the order opened
        try:
            time.sleep(0.5)
            started = time.monotonic()
            response = httpx.get(f"{server.url}/health", timeout=5)
            took = time.monotonic() - started
            print(f"/health with 20 idle connections against a cap of 20: {took * 1000:.1f} ms")
            assert response.status_code == 200
            assert took < 1.0, took
            reply = _read_all(held[0])
            assert reply.startswith(b"HTTP/1.1 408 "), reply[:80]
            assert all(_is_open(sock) for sock in held[1:])  # only the oldest

            # A kept-alive connection between requests is idle too, and closed without a
            # word (its client retries, as after a keep-alive timeout): make it the oldest.
            for sock in held:
                sock.close()
            time.sleep(0.5)
            kept = _connect(server)
            kept.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert _response(kept)[0].startswith(b"HTTP/1.1 200 ")
            held = [kept] + [_connect(server) for _ in range(19)]
            time.sleep(0.5)
            assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200
            assert _read_all(kept) == b""  # closed, nothing sent
            assert all(_is_open(sock) for sock in held[1:])
        finally:
            for sock in held:
                sock.close()
        log = server.log()
    # One warning, not one per connection; and nobody was refused.
    assert log.count("connection limit reached") == 1, log
    assert "closing the oldest idle connections" in log
    assert "Traceback" not in log


def test_a_full_gate_of_requests_in_progress_refuses_a_new_one_with_503(
    engine: Engine, index_dir: Path, tmp_path: Path
) -> None:
    with rag_serve(tmp_path, _capped(index_dir, 20)) as server:
        # 20 connections each in the middle of a request (headers sent, the body not all):
        # none is idle, so the 21st is refused.
        held = [_connect(server) for _ in range(20)]
        try:
            for sock in held:
                sock.sendall(_search_request(SEARCH_BODY) + SEARCH_BODY[:10])
            time.sleep(0.5)
            with _connect(server) as extra:
                reply = _read_all(extra)
            assert reply.startswith(b"HTTP/1.1 503 "), reply[:80]
            assert b"retry-after: 1" in reply.lower() and b"RAG_MAX_CONNECTIONS" in reply
            # ...and every request in progress is answered in full once its body arrives.
            for sock in held:
                sock.sendall(SEARCH_BODY[10:])
            for sock in held:
                head, body = _response(sock)
                assert head.startswith(b"HTTP/1.1 200 "), head
                assert json.loads(body)["passages"]
        finally:
            for sock in held:
                sock.close()
        time.sleep(0.5)
        assert httpx.get(f"{server.url}/health").status_code == 200  # room again
        log = server.log()
    assert log.count("connection limit reached") == 1, log  # one warning, not one per refusal
    assert "refusing new ones (503)" in log
    assert "Traceback" not in log


def test_a_kept_alive_connection_in_use_is_never_closed_for_room(
    engine: Engine, index_dir: Path, tmp_path: Path
) -> None:
    with rag_serve(tmp_path, _capped(index_dir, 20)) as server:
        kept = _connect(server)
        flood: list[socket.socket] = []
        try:
            for _ in range(5):
                # Mid-request (its body half sent) while 30 idle connections arrive, each
                # closing the oldest idle one: never this one.
                kept.sendall(_search_request(SEARCH_BODY) + SEARCH_BODY[:10])
                time.sleep(0.1)
                for _ in range(30):
                    flood.append(_connect(server))
                time.sleep(0.3)
                kept.sendall(SEARCH_BODY[10:])
                head, body = _response(kept)
                assert head.startswith(b"HTTP/1.1 200 "), head
                assert json.loads(body)["passages"]
            # The flood paid: of its 150 connections, the 131 oldest got 408, the newest
            # 19 are open (with the kept-alive one, the 20 of the cap).
            statuses = []
            for sock in flood[:-19]:
                statuses.append(_read_all(sock).split(b"\r\n", 1)[0])
            assert set(statuses) == {b"HTTP/1.1 408 Request Timeout"}, set(statuses)
            assert all(_is_open(sock) for sock in flood[-19:])
        finally:
            kept.close()
            for sock in flood:
                sock.close()
        log = server.log()
    assert log.count("connection limit reached") == 1, log
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
