"""A reload stampede: 50 parallel `POST /admin/reload` right after a bigger build is
published make one load, all 50 get its result, `/health` keeps answering within a
second, and the server's peak memory grows by one build, not fifty."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from rag.config import Settings, bundled_brief
from rag.engine import build
from tests.servers import RagServer, rag_serve

pytestmark = pytest.mark.server

CALLERS = 50
BRIEFS = 40
WORDS = [
    "trade",
    "water",
    "energy",
    "security",
    "aid",
    "climate",
    "treaty",
    "border",
    "port",
    "loan",
    "debt",
    "reform",
]


def _briefs(folder: Path) -> list[Path]:
    rng = random.Random(17)
    folder.mkdir()
    paths = []
    for i in range(BRIEFS):
        text = " ".join(rng.choice(WORDS) for _ in range(60)).capitalize()
        path = folder / f"brief-{i:02d}.md"
        path.write_text(f"# Brief {i}\n\n## Topic {i % 5}\n\n{text}.[^1]\n\n[^1]: Source {i}.\n")
        paths.append(path)
    return paths


def _memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (the peak since the process started), in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[RagServer, Path]]:
    index = tmp_path / "index"
    build(Settings(index_dir=index))  # the bundled brief alone, with the real model
    # No watcher: the reload requests are what loads the new build.
    env = {"RAG_INDEX_DIR": str(index), "RAG_RELOAD_INTERVAL_S": "0"}
    with rag_serve(tmp_path, env) as server:
        yield server, index


# `/health` asked every 50 ms from a process of its own (the 50 callers' threads in this
# one would hold the GIL and delay it here, not in the server); prints the slowest answer.
PROBE = """
import sys, time, httpx
url, seconds = sys.argv[1], float(sys.argv[2])
worst, failures, end = 0.0, 0, time.monotonic() + seconds
with httpx.Client(base_url=url, timeout=10) as http:
    while time.monotonic() < end:
        started = time.perf_counter()
        try:
            failures += http.get("/health").status_code != 200
        except httpx.HTTPError:
            failures += 1
        worst = max(worst, time.perf_counter() - started)
        time.sleep(0.05)
print(worst, failures)
"""


def test_fifty_parallel_reloads_make_one_load(
    served: tuple[RagServer, Path], tmp_path: Path
) -> None:
    server, index = served
    build(Settings(index_dir=index), [bundled_brief(), *_briefs(tmp_path / "briefs")])
    pid = server.process.pid
    # Start the peak from now: "5" resets VmHWM to the current RSS (proc(5), clear_refs).
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    before = _memory_mb(pid)

    probe = subprocess.Popen(
        [sys.executable, "-c", PROBE, server.url, "8"], stdout=subprocess.PIPE, text=True
    )
    time.sleep(1.0)
    limits = httpx.Limits(max_connections=CALLERS)
    with httpx.Client(timeout=120, limits=limits) as http, ThreadPoolExecutor(CALLERS) as pool:
        started = time.perf_counter()
        responses = list(
            pool.map(lambda _: http.post(server.url + "/admin/reload"), range(CALLERS))
        )
        took = time.perf_counter() - started
    out, _ = probe.communicate(timeout=60)
    worst, failures = float(out.split()[0]), int(out.split()[1])
    after = _memory_mb(pid)
    print(
        f"{CALLERS} reloads in {took:.2f} s; /health worst {worst * 1000:.0f} ms; "
        f"RSS {before['VmRSS']:.0f} -> peak {after['VmHWM']:.0f} -> {after['VmRSS']:.0f} MB"
    )
    assert [r.status_code for r in responses] == [200] * CALLERS
    bodies = [r.json() for r in responses]
    assert {b["documents"] for b in bodies} == {BRIEFS + 1}
    assert len({b["built_at"] for b in bodies}) == 1
    # Everyone who came while the load ran shares it; a straggler arriving after it finds
    # the build already served (reloaded: false). Either way, one load:
    assert sum(b["reloaded"] for b in bodies) >= 1
    assert server.log().count("now serving the index built") == 1, server.log()
    assert failures == 0 and worst < 1.0
    # One more build's worth of memory at most (a build of 41 short briefs is a few MB;
    # fifty loads of it at once would be fifty times that).
    assert after["VmHWM"] - before["VmRSS"] < 100
    again = httpx.post(server.url + "/admin/reload", timeout=60).json()
    assert again["reloaded"] is False
