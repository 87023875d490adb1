"""`rag serve` where it cannot listen: one line, exit 9 (its own code), no "serving on"
first, and nothing loaded before the check."""

from __future__ import annotations

import os
import socket
import subprocess

from tests.servers import _rag_command


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env["RAG_MODEL"] = "/nonexistent"  # the check must come before any model or index loads
    return subprocess.run(
        [*_rag_command(), "serve", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_a_busy_port_is_one_line_with_its_own_exit_code() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _serve("--host", "127.0.0.1", "--port", str(port))
    assert done.returncode == 9, done.stderr
    assert done.stdout == "" and "serving on" not in done.stderr
    assert done.stderr.strip() == (
        f"error: port {port} on 127.0.0.1 is already in use; pick another with --port "
        "(RAG_PORT), or stop what is listening there"
    )


def test_a_host_that_is_not_this_machines_is_one_line() -> None:
    done = _serve("--host", "192.0.2.1", "--port", "8000")  # TEST-NET-1: never assigned here
    assert done.returncode == 9, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "check --host (RAG_HOST)" in lines[0]
