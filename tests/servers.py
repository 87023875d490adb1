"""Real ``rag serve`` processes on free loopback ports, for the API and chat tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

STARTUP_S = 240.0  # model load + index build on a busy two-core runner


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RagServer:
    url: str
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def log(self) -> str:
        return self.stderr.read_text(encoding="utf-8", errors="replace")


def _rag_command() -> list[str]:
    script = Path(sys.executable).with_name("rag")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "rag.cli"]


def _wait_until_up(server: RagServer, path: str, headers: Mapping[str, str]) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"rag serve exited with {server.process.returncode}:\n{server.log()}"
            )
        try:
            if httpx.get(server.url + path, headers=headers, timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"rag serve did not answer {path} in {STARTUP_S:.0f}s:\n{server.log()}")


@contextmanager
def rag_serve(
    folder: Path,
    env: Mapping[str, str],
    *,
    ready: str = "/ready",
    headers: Mapping[str, str] | None = None,
) -> Iterator[RagServer]:
    """Start ``rag serve`` with only the given ``RAG_*`` settings, wait until ``ready``
    answers 200, yield it, and stop it afterwards."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    environ |= {"RAG_HOST": "127.0.0.1", "RAG_PORT": str(port), **env}
    out_path, err_path = folder / f"serve-{port}.out", folder / f"serve-{port}.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = subprocess.Popen([*_rag_command(), "serve"], env=environ, stdout=out, stderr=err)
    server = RagServer(f"http://127.0.0.1:{port}", process, out_path, err_path)
    try:
        _wait_until_up(server, ready, headers or {})
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
