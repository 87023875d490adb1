"""Measure a reload stampede: serve a small build, publish a bigger one, fire N parallel
`POST /admin/reload`, and report how long they took, the slowest `/health` (asked from a
process of its own) and the server's RSS before, at peak and after.

    python scripts/reload_stampede.py [--briefs 400] [--callers 50] [--code DIR]

``--code`` runs another checkout's code (PYTHONPATH) against the same builds, for a
before/after comparison. Loopback only; bounded by the number of callers.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

PROBE = """
import sys, time, httpx
worst, fails, end = 0.0, 0, time.monotonic() + float(sys.argv[2])
with httpx.Client(base_url=sys.argv[1], timeout=120) as h:
    while time.monotonic() < end:
        t = time.perf_counter()
        try:
            fails += h.get("/health").status_code != 200
        except httpx.HTTPError:
            fails += 1
        worst = max(worst, time.perf_counter() - t)
        time.sleep(0.05)
print(worst, fails)
"""
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


def briefs(folder: Path, count: int) -> None:
    rng = random.Random(7)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        paras = [
            " ".join(rng.choice(WORDS) for _ in range(25)).capitalize() + f".[^{n}]" for n in (1, 2)
        ]
        notes = "\n".join(f"[^{n}]: Source {i}-{n}, Institute, 2020." for n in (1, 2))
        text = f"# Brief {i}\n\n## Topic {i % 7}\n\n" + "\n\n".join(paras) + f"\n\n{notes}\n"
        (folder / f"brief-{i:04d}.md").write_text(text)


def memory(pid: int) -> dict[str, int]:
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) // 1024
    return found


def point(link: Path, name: str) -> None:
    tmp = link.with_name(".stampede-link")
    tmp.unlink(missing_ok=True)
    os.symlink(name, tmp)
    os.replace(tmp, link)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--briefs", type=int, default=400)
    ap.add_argument("--callers", type=int, default=50)
    ap.add_argument("--code", default=str(Path(__file__).resolve().parent.parent))
    ap.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "rag-stampede"))
    ap.add_argument("--port", type=int, default=8765)
    args = ap.parse_args()
    work, rag = Path(args.work), str(Path(sys.executable).with_name("rag"))
    link = work / "index"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env |= {
        "PYTHONPATH": args.code,
        "RAG_INDEX_DIR": str(link),
        "RAG_RELOAD_INTERVAL_S": "0",
        "RAG_PORT": str(args.port),
    }
    record = work / f"builds-{args.briefs}.json"
    if not record.exists():  # build once: the small build, then the big one beside it
        briefs(work / "briefs", args.briefs)
        subprocess.run([rag, "index", "--out", str(link)], env=env, check=True)
        small = os.readlink(link)
        bundled = Path(args.code) / "rag" / "data" / "pakistan-us-relations-2024.txt"
        subprocess.run(
            [rag, "index", str(bundled), str(work / "briefs"), "--out", str(link)],
            env=env,
            check=True,
        )
        record.write_text(json.dumps({"small": small, "big": os.readlink(link)}))
    builds = json.loads(record.read_text())
    point(link, builds["small"])
    server = subprocess.Popen(
        [rag, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(1200):
            try:
                if httpx.get(url + "/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        point(link, builds["big"])
        Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # peak RSS from now
        before = memory(server.pid)
        seconds = str(max(10, args.callers // 2))
        probe = subprocess.Popen(
            [sys.executable, "-c", PROBE, url, seconds], stdout=subprocess.PIPE, text=True
        )
        time.sleep(1)
        limits = httpx.Limits(max_connections=args.callers)
        started = time.perf_counter()
        with (
            httpx.Client(timeout=600, limits=limits) as http,
            ThreadPoolExecutor(args.callers) as pool,
        ):
            calls = [pool.submit(http.post, url + "/admin/reload") for _ in range(args.callers)]
            answers = [c.result() for c in calls]
        took = time.perf_counter() - started
        worst, fails = probe.communicate()[0].split()
        after = memory(server.pid)
    finally:
        server.terminate()
        server.wait()
    print(
        f"{args.callers} reloads answered in {took:.2f} s "
        f"(statuses {sorted({a.status_code for a in answers})}, "
        f"{answers[0].json().get('passages')} passages); /health worst "
        f"{float(worst) * 1000:.0f} ms ({fails} failed); RSS {before['VmRSS']} -> peak "
        f"{after['VmHWM']} -> {after['VmRSS']} MB"
    )


if __name__ == "__main__":
    main()
