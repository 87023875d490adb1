"""Atomic publication of an index directory.

The configured index path is a symlink to a build folder beside it. A new build is written
into a fresh folder, fsynced, and the symlink is replaced with ``os.replace`` — one atomic
step, so a reader sees the old index or the new one, never half of either, and a crash
mid-build leaves the previous index in place.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.errors import IndexUnwritable


@contextmanager
def writing(target: Path) -> Iterator[None]:
    """A failure to write beside ``target`` (read-only disk, a full disk, a file in the way)
    as one line: nothing was published, the old index (if any) still serves."""
    try:
        yield
    except OSError as exc:
        where = str(exc.filename or "")
        if where and not where.startswith(str(target.parent)):
            raise  # not the index's folder: a brief that cannot be read, reported elsewhere
        raise IndexUnwritable(
            f"cannot write the index at {target}: {exc.strerror or exc} ({where or target}); "
            "choose another place (--out, RAG_INDEX_DIR) or free some space; nothing was "
            "published"
        ) from None


@contextmanager
def build_lock(target: Path) -> Iterator[None]:
    """One builder per index path at a time (two first-use `rag ask` runs, a CLI rebuild
    while a server starts): the second waits, then finds the first one's index."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def new_build_dir(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    build = Path(tempfile.mkdtemp(prefix=f".{target.name}.{stamp}.", dir=target.parent))
    build.chmod(0o755)  # mkdtemp makes it private; an index is meant to be shared
    return build


def fsync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), reverse=True):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(build: Path, target: Path) -> None:
    """Point ``target`` at ``build`` atomically and remove the build it replaced."""
    fsync_tree(build)
    previous = target.resolve() if target.is_symlink() else None
    if target.exists() and not target.is_symlink():
        # An index from before symlinked publishing: move it aside first (one-time).
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    link = target.parent / f".{target.name}.link-{os.getpid()}"
    if link.is_symlink() or link.exists():
        link.unlink()
    os.symlink(build.name, link)
    os.replace(link, target)
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    # Keep the build just replaced: a reader that resolved the link a moment ago may still
    # be loading from it. Builds older than that are nobody's any more.
    keep = {build.resolve(), previous}
    for old in target.parent.glob(f".{target.name}.2*"):
        if old.is_dir() and old.resolve() not in keep:
            shutil.rmtree(old, ignore_errors=True)
    # A build killed between making its link and swapping it in left that link behind
    # (builds are serialised by the build lock, so no other one is in the middle of it).
    for stale in target.parent.glob(f".{target.name}.link-*"):
        stale.unlink(missing_ok=True)


def discard(build: Path) -> None:
    shutil.rmtree(build, ignore_errors=True)
