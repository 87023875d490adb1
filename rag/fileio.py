"""Two file chores shared by the index store and the model export cache: one writer per
path at a time, and a file's sha256."""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def build_lock(target: Path) -> Iterator[None]:
    """One builder per index path at a time (two first-use `rag ask` runs, a CLI rebuild
    while a server starts): the second waits, then finds the first one's index."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # "a", not "w": opening must never truncate a file, even one that is not ours.
    with open(target.parent / f".{target.name}.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def file_sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()
