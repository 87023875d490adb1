"""A process's memory, as Linux reports it in ``/proc/<pid>/status`` (0 elsewhere)."""

from __future__ import annotations

from pathlib import Path


def status_kb(pid: int | str, field: str) -> int:
    """``field`` (``VmRSS``: resident now, ``VmHWM``: its peak) of process ``pid`` (or
    ``"self"``) in kB; 0 when the process or the file is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0
    line = next((x for x in lines if x.startswith(f"{field}:")), f"{field}: 0 kB")
    return int(line.split()[1])


def rss_mb(pid: int) -> float:
    """A process's resident memory now, in MB."""
    return round(status_kb(pid, "VmRSS") / 1024, 1)
