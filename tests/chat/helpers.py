"""Helpers for the chat tests: real ``rag serve`` processes and uvicorn threads on loopback."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests import servers
from tests.servers import free_port

HIGHER_ED_QUESTION = "What did the U.S. commit to higher education in Pakistan?"
FOOTNOTE_18_URL = (
    "https://pk.usembassy.gov/the-united-states-and-pakistan-launch-an-initiative-to-"
    "strengthen-higher-education/"
)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def rag_serve(folder: Path, **env: str) -> Iterator[str]:
    """Run ``rag serve`` with ``RAG_*`` settings from ``env``; yield its base URL."""
    with servers.rag_serve(folder, env, ready="/") as server:
        yield server.url


@contextmanager
def uvicorn_thread(app: object) -> Iterator[str]:
    """Serve an ASGI app with real uvicorn on a free loopback port, in a thread."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")  # type: ignore[arg-type]
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
