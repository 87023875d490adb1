"""Write the hostile PDFs of tests/test_pdf_budgets.py and measure reading each one.

    python scripts/measure_hostile_pdfs.py [--out DIR] [--timeout S]

Each file is read by ``parse_file`` in a fresh process (so the figures are its own): wall
time, and peak RSS of that process and of the worker it starts (RUSAGE_CHILDREN), or where
the timeout stopped it. That process imports the ``rag`` on PYTHONPATH (else the installed
one), not the current folder's: point PYTHONPATH at a checkout to measure that checkout.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import hostile_pdfs  # noqa: E402

FILES: dict[str, Callable[[], bytes]] = {
    "forms-depth6.pdf": lambda: hostile_pdfs.nested_forms(6),
    "forms-depth7.pdf": lambda: hostile_pdfs.nested_forms(7),
    "flate-1gib.pdf": lambda: hostile_pdfs.flate_bomb(1024),
    "glyphs-50x3000.pdf": lambda: hostile_pdfs.many_glyphs(50, 3000),
}

# Runs in the child: parse one file, report what happened and the peaks, as JSON.
CHILD = """
import json, resource, sys, time
from pathlib import Path
from rag.parsing import parse_file
started = time.perf_counter()
try:
    doc = parse_file(Path(sys.argv[1]))
    outcome = f"parsed: {doc.page_count} pages, {len(doc.body):,} characters"
except Exception as exc:
    outcome = f"{type(exc).__name__}: {exc}"
print(json.dumps({
    "outcome": outcome,
    "seconds": time.perf_counter() - started,
    "self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
}))
"""


def measure(path: Path, timeout: float) -> str:
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-P", "-c", CHILD, str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        return f"still running at {timeout:.0f} s (killed); peak RSS so far >= {peak:.0f} MB"
    if done.returncode:
        return f"died (status {done.returncode}) after {time.perf_counter() - started:.1f} s"
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return (
        f"{report['seconds']:.2f} s, peak RSS {report['self_mb']:.0f} MB "
        f"(worker {report['worker_mb']:.0f} MB): {report['outcome']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="keep the files here")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    folder = args.out or Path(tempfile.mkdtemp(prefix="hostile-pdfs-"))
    folder.mkdir(parents=True, exist_ok=True)
    for name, make in FILES.items():
        path = folder / name
        path.write_bytes(make())
        size = path.stat().st_size
        print(f"{name} ({size:,} bytes): {measure(path, args.timeout)}", flush=True)


if __name__ == "__main__":
    main()
