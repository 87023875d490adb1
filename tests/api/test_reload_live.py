"""A rebuild with an added brief, published by the real ``rag index`` while clients query
a real ``rag serve --workers 2`` in a loop: no request fails, every response is whole (one
build's answer), and every client, whichever worker it reached, gets the new brief within
seconds, without a restart."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rag.config import Settings, bundled_brief
from rag.engine import build
from tests.servers import RagServer, _rag_command, rag_serve

pytestmark = pytest.mark.server

WATER = """# Indus Waters Brief

## The Treaty

The Indus Waters Treaty of 1960 divides the six rivers of the Indus basin between the two
countries. The World Bank brokered the treaty and keeps a role in its disputes.
"""
QUESTION = "Who brokered the Indus Waters Treaty of 1960?"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[RagServer, Path]]:
    index = tmp_path / "index"
    build(Settings(index_dir=index))  # the bundled brief alone, with the real model
    # Two workers: each watches the link and reloads by itself.
    env = {"RAG_INDEX_DIR": str(index), "RAG_RELOAD_INTERVAL_S": "0.5", "RAG_WORKERS": "2"}
    with rag_serve(tmp_path, env) as server:
        yield server, index


class Clients:
    """Four clients asking in a loop; each notes what it got, and when."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.stop = threading.Event()
        self.failures: list[str] = []
        self.answers: list[list[tuple[float, str, int]]] = [[] for _ in range(4)]
        self.threads = [threading.Thread(target=self._ask, args=(i,)) for i in range(4)]

    def _ask(self, i: int) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as http:
            while not self.stop.is_set():
                try:
                    response = http.get("/search", params={"q": QUESTION, "k": 3})
                    ready = http.get("/ready")
                except httpx.HTTPError as exc:
                    self.failures.append(f"client {i}: {exc!r}")
                    continue
                if response.status_code != 200 or ready.status_code != 200:
                    self.failures.append(f"client {i}: {response.status_code} {ready.text}")
                    continue
                hits = response.json()["passages"]
                ranks = [h["rank"] for h in hits]
                if ranks != list(range(1, len(hits) + 1)):
                    self.failures.append(f"client {i}: ranks {ranks}")
                top = hits[0]["document"]["title"]
                self.answers[i].append((time.monotonic(), top, ready.json()["documents"]))

    def __enter__(self) -> Clients:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


def test_a_rebuild_with_an_added_brief_is_served_without_a_failed_request(
    served: tuple[RagServer, Path], tmp_path: Path
) -> None:
    server, index = served
    water = tmp_path / "water.md"
    water.write_text(WATER, encoding="utf-8")
    with Clients(server.url) as clients:
        time.sleep(1.0)  # clients running against the old build
        rebuild = subprocess.run(
            [*_rag_command(), "index", str(bundled_brief()), str(water), "--out", str(index)],
            capture_output=True,
            text=True,
            timeout=600,
        )
        published = time.monotonic()
        assert rebuild.returncode == 0, rebuild.stderr
        deadline = published + 10
        while time.monotonic() < deadline:
            if any(a and a[-1][1] == "Indus Waters Brief" for a in clients.answers):
                break
            time.sleep(0.1)
        time.sleep(1.0)  # and keep asking a little longer on the new build
    assert clients.failures == []
    for answers in clients.answers:
        assert answers, "a client got no answer at all"
        assert answers[0][1] != "Indus Waters Brief" and answers[0][2] == 1  # the old build
        new = [n for n, (_, top, _) in enumerate(answers) if top == "Indus Waters Brief"]
        assert new, "the new brief was never served"
        first = new[0]
        print(f"new brief served {answers[first][0] - published:+.2f} s from `rag index` exiting")
        # Once a client saw the new build it never saw the old one again.
        assert all(top == "Indus Waters Brief" for _, top, _ in answers[first:])
        assert answers[first][0] - published < 5.0
        assert all(documents == 2 for _, _, documents in answers[first + 1 :])
