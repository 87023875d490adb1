"""Chat answer vs search latency against a real ``rag serve`` on loopback, one client.

Starts ``rag serve`` on a free loopback port (the index at RAG_INDEX_DIR, built on first
use), then asks every eval question once as ``POST /search`` and once as a non-streaming
``POST /v1/chat/completions``, interleaved so both see the same machine load, and prints the
medians and their ratio. Each question is made unique (a numbered suffix) so no cache helps.

    .venv/bin/python scripts/answer_latency.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _questions() -> list[str]:
    names = ("qa.jsonl", "heldout.jsonl", "footnotes.jsonl")
    return [
        json.loads(line)["question"]
        for name in names
        for line in (ROOT / "eval" / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def _timed(client: httpx.Client, path: str, body: dict[str, object]) -> float:
    started = time.perf_counter()
    response = client.post(path, json=body)
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=1, help="Passes over the questions.")
    args = parser.parse_args()
    port = _free_port()
    rag = Path(sys.executable).with_name("rag")
    env = {**os.environ, "RAG_HOST": "127.0.0.1", "RAG_PORT": str(port)}
    server = subprocess.Popen([str(rag), "serve"], env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=120) as client:
            deadline = time.monotonic() + 300
            while True:
                try:
                    if client.get("/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("rag serve did not become ready")
                time.sleep(0.2)
            search: list[float] = []
            chat: list[float] = []
            questions = _questions()
            for round_ in range(args.rounds):
                for i, question in enumerate(questions):
                    unique = f"{question} ({round_}.{i})"
                    search.append(_timed(client, "/search", {"question": unique}))
                    messages = [{"role": "user", "content": unique}]
                    chat.append(_timed(client, "/v1/chat/completions", {"messages": messages}))
    finally:
        server.terminate()
        server.wait(timeout=30)
    s, c = statistics.median(search), statistics.median(chat)
    print(f"{len(search)} questions, one client, {url}")
    print(f"POST /search                 median {s:7.1f} ms  p90 {_p90(search):7.1f} ms")
    print(f"POST /v1/chat/completions    median {c:7.1f} ms  p90 {_p90(chat):7.1f} ms")
    print(f"chat / search                {c / s:.2f}x")


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


if __name__ == "__main__":
    main()
