"""A real ``rag serve`` on loopback, measured from outside: start-up, one client, 32."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.bench.proc import status_kb
from rag.bench.stats import summary, unique
from rag.errors import BenchmarkError

STARTUP_S = 180.0


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    ready_s: float

    def peak_rss_mb(self) -> float:
        """The server process's peak resident memory (VmHWM), from /proc."""
        return round(status_kb(self.process.pid, "VmHWM") / 1024, 1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(index_dir: Path, env: dict[str, str] | None = None) -> Iterator[Server]:
    """``rag serve`` on a free loopback port over ``index_dir``; ready time measured from
    the process start to the first 200 of ``/ready``."""
    import httpx

    port = _free_port()
    environ = {**os.environ, **(env or {})}
    environ |= {"RAG_HOST": "127.0.0.1", "RAG_PORT": str(port), "RAG_INDEX_DIR": str(index_dir)}
    command = [sys.executable, "-m", "rag.cli", "serve"]
    # The server logs a line per request: into a file, since a pipe nobody reads fills up
    # and stalls the server mid-benchmark.
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=environ, stdout=subprocess.DEVNULL, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    err = log.read().decode(errors="replace")
                    raise BenchmarkError(
                        f"rag serve exited with {process.returncode}: {err[-500:]}"
                    )
                try:
                    if httpx.get(url + "/ready", timeout=1.0).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.perf_counter() - started > STARTUP_S:
                    raise BenchmarkError(f"rag serve was not ready in {STARTUP_S:.0f}s")
                time.sleep(0.02)
            yield Server(url, process, round(time.perf_counter() - started, 2))
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _chat(question: str, stream: bool = False) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": question}], "stream": stream}


def one_client(server: Server, questions: Sequence[str]) -> dict[str, dict[str, float]]:
    """Searches one after another; then, per question, a search, a chat answer and a
    streamed chat answer (first token, end), one at a time.

    The searches the target judges (``search``) run back to back, as the bare encoder's
    floor is timed: on this 2-core VM an idle moment slows the next question by itself (the
    bare int8 encoder measured 2.85-3.05 ms back to back, 3.4 after a 3 ms pause and 4.05
    after 20 ms), so a search timed between chat answers (``search_between_chats``, also
    reported) is judged against a floor that never paused.

    The standard library's ``http.client`` on one kept-alive connection: at one client the
    client's own CPU adds straight to every figure, and httpx spent 1-2 ms of it per
    request on this machine (a search measured 6.0-7.9 ms through httpx against 5.8-5.9
    through ``http.client``, same server, same run), which is no part of the server's time.
    """
    import http.client
    import json
    from urllib.parse import urlsplit

    where = urlsplit(server.url)
    conn = http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port, timeout=60)
    headers = {"Content-Type": "application/json"}

    def post(path: str, body: dict[str, Any]) -> http.client.HTTPResponse:
        conn.request("POST", path, json.dumps(body), headers)
        response = conn.getresponse()
        if response.status != 200:
            raise BenchmarkError(
                f"POST {path} answered {response.status}: {response.read()[:200]!r}"
            )
        return response

    def timed_search(q: str, into: str) -> None:
        started = time.perf_counter()
        body = post("/search", {"question": q}).read()
        times[into].append((time.perf_counter() - started) * 1000)
        if into == "search":
            # The server's own account (took_ms: from the question checked to the hits),
            # read after the clock stopped: what HTTP and the framework add is the rest.
            times["search_server"].append(float(json.loads(body)["took_ms"]))

    times: dict[str, list[float]] = {
        "search": [], "search_server": [], "search_between_chats": [], "chat": [],
        "stream_first": [], "stream_end": [],
    }  # fmt: skip
    try:
        post("/search", {"question": "warm up"}).read()
        for q in unique(questions, len(questions), "c1-"):
            timed_search(q, "search")
        for q in unique(questions, len(questions), "c1c-"):
            timed_search(q, "search_between_chats")
            started = time.perf_counter()
            post("/v1/chat/completions", _chat(q)).read()
            times["chat"].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            first = None
            response = post("/v1/chat/completions", _chat(q, True))
            for line in response:
                if first is None and b'"content":"' in line and b'"content":""' not in line:
                    first = (time.perf_counter() - started) * 1000
            times["stream_first"].append(first or 0.0)
            times["stream_end"].append((time.perf_counter() - started) * 1000)
    finally:
        conn.close()
    return {name: summary(values) for name, values in times.items()}


async def _load(url: str, questions: Sequence[str], concurrency: int) -> dict[str, Any]:
    """``concurrency`` clients posting searches until ``questions`` run out.

    aiohttp, not httpx: the load generator shares the measured machine's cores, and httpx
    spent 2.2 ms of CPU per request where aiohttp spends 0.3 (measured around a
    1,500-request crowd at 32 clients on 2 cores: the server then answered 291 requests/s
    with p99 166 ms instead of 212 and 594 — the client had been the bottleneck).
    """
    import aiohttp

    todo = list(questions)
    latencies: list[float] = []
    codes: dict[int, int] = {}

    async def worker(client: aiohttp.ClientSession) -> None:
        while todo:
            q = todo.pop()
            started = time.perf_counter()
            try:
                async with client.post("/search", json={"question": q}) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError):
                status = 0  # a transport failure counts as an error
            latencies.append((time.perf_counter() - started) * 1000)
            codes[status] = codes.get(status, 0) + 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        **summary(latencies),
        "concurrency": concurrency,
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "errors": sum(n for code, n in codes.items() if code != 200),
        "status_codes": {str(k): v for k, v in sorted(codes.items())},
    }


def crowd(server: Server, questions: Sequence[str], concurrency: int = 32) -> dict[str, Any]:
    """Searches from ``concurrency`` clients at once, a bounded number of requests."""
    return asyncio.run(_load(server.url, questions, concurrency))
