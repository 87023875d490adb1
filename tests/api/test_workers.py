"""``rag serve --workers 2`` (``RAG_WORKERS=2``): a worker killed with SIGKILL is replaced by
uvicorn's supervisor, and the server's stderr says which died, of what, and which replaced it.

Bounded: two workers on 127.0.0.1, one kill, at most a minute of waiting.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from rag.engine import Engine
from tests.servers import RagServer, rag_serve

pytestmark = pytest.mark.server
WAIT_S = 60.0
T = TypeVar("T")


def _workers(server: RagServer) -> set[int]:
    """The supervisor's worker processes (multiprocessing's spawned children)."""
    pid = server.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    workers = set()
    for child in map(int, children):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue  # gone meanwhile
        if b"spawn_main" in cmdline:
            workers.add(child)
    return workers


def _wait_for(what: str, check: Callable[[], T | None], server: RagServer) -> T:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.2)
    raise AssertionError(f"no {what} within {WAIT_S:.0f}s:\n{server.log()}")


def _answers_without(server: RagServer, others: set[int]) -> bool:
    """Whether the server answers ``HEAD /ready`` while the workers ``others`` are stopped
    (for a second at most: the supervisor's health check waits 5 s before it calls one
    hung, and kills it)."""
    for other in others:
        os.kill(other, signal.SIGSTOP)
    try:
        return httpx.head(f"{server.url}/ready", timeout=1.0).status_code == 200
    except httpx.TransportError:
        return False  # still loading its engine: nobody took the connection
    finally:
        for other in others:
            os.kill(other, signal.SIGCONT)


def test_a_killed_worker_is_replaced_and_logged(
    engine: Engine, index_dir: Path, tmp_path: Path
) -> None:
    env = {"RAG_INDEX_DIR": str(index_dir), "RAG_WORKERS": "2"}
    with rag_serve(tmp_path, env) as server:
        workers = _wait_for(
            "two workers", lambda: _workers(server) if len(_workers(server)) == 2 else None, server
        )
        victim, survivor = sorted(workers)
        os.kill(victim, signal.SIGKILL)

        pattern = re.compile(rf"worker {victim} died \(signal 9, SIGKILL\); started (\d+)")
        match = _wait_for("log line", lambda: pattern.search(server.log()), server)
        print(match.group(0))
        replacement = int(match.group(1))
        assert _workers(server) == {survivor, replacement}
        assert server.process.poll() is None  # the supervisor carries on

        # The replacement loads its own engine, then serves (alone, while the other is stopped).
        _wait_for("replacement serving", lambda: _answers_without(server, {survivor}), server)
        log = server.log()
    assert log.count(" died (") == 1, log
    assert "Traceback" not in log, log
