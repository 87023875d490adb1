"""Atomic publication of an index directory.

The configured index path is a symlink to a build folder beside it. A new build is written
into a fresh folder, fsynced, and the symlink is replaced with ``os.replace`` — one atomic
step, so a reader sees the old index or the new one, never half of either, and a crash
mid-build leaves the previous index in place.

Only the project's own files are ever replaced or removed. The index path may be a link to
one of our builds, an index folder from before links (moved aside, never deleted), an empty
folder, or nothing; anything else (a user's folder, a file, a link of theirs) is refused
before any work by :func:`check_target`, with nothing touched. Clean-up removes only names
this module makes (``.NAME.<stamp>.<random>`` build folders, ``.NAME.link-<pid>`` links).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.errors import IndexPathTaken, IndexUnwritable

MANIFEST = "manifest.json"  # rag.store.manifest's name; not imported, to keep this module a leaf


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


def _build_name(target: Path) -> re.Pattern[str]:
    # What new_build_dir makes: .NAME.YYYYmmddTHHMMSS.<mkdtemp's 8 characters>
    return re.compile(rf"\.{re.escape(target.name)}\.\d{{8}}T\d{{6}}\.[a-z0-9_]{{8}}")


def _is_index_folder(folder: Path) -> bool:
    """A folder holding a manifest of ours (any schema version: an old index is still one)."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "schema_version" in data and "artifacts" in data


def _describe(path: Path) -> str:
    """What is at ``path``, in a few words, for the refusal."""
    if path.is_symlink():
        return f"a link to {os.readlink(path)} that is not a brief-rag index"
    if path.is_dir():
        entries = sorted(p.name for p in path.iterdir())
        shown = ", ".join(entries[:3]) + (", …" if len(entries) > 3 else "")
        return f"a folder that is not a brief-rag index ({len(entries)} entries: {shown})"
    if path.is_file():
        return f"a file of {path.stat().st_size:,} bytes"
    return "something that is not a folder (a device, a pipe or a socket)"


def check_target(target: Path) -> None:
    """Raise :class:`IndexPathTaken` unless publishing at ``target`` would replace only an
    index (or nothing): a link to one of our builds (even a damaged one), an index folder
    from before links, or an empty folder. Touches nothing."""
    if not target.exists() and not target.is_symlink():
        return
    if target.is_symlink():
        pointed = os.readlink(target)
        ours = "/" not in pointed and _build_name(target).fullmatch(pointed) is not None
        if ours or (target.is_dir() and _is_index_folder(target)):
            return
    elif target.is_dir() and (_is_index_folder(target) or not any(target.iterdir())):
        return
    raise IndexPathTaken(
        f"{target} is {_describe(target)}; an index is only ever written to a new path or "
        "over an index, so nothing was touched; choose another path for the index, e.g. "
        f"{target.parent / 'brief-rag-index'} (--out, RAG_INDEX_DIR)"
    )


def _clear_the_way(target: Path) -> None:
    """Make room for the link at ``target``: an empty folder is removed; an index folder
    from before links is moved aside, kept beside it (never deleted)."""
    if target.is_symlink() or not target.exists():
        return
    check_target(target)  # under the build lock: nothing changed since the first check
    try:
        target.rmdir()  # only ever succeeds on an empty folder
    except OSError:
        stamp = time.strftime("%Y%m%dT%H%M%S")
        os.rename(target, target.parent / f".{target.name}.before-links-{stamp}")


def publish(build: Path, target: Path) -> None:
    """Point ``target`` at ``build`` atomically and remove the build it replaced."""
    fsync_tree(build)
    previous = target.resolve() if target.is_symlink() else None
    _clear_the_way(target)
    link = target.parent / f".{target.name}.link-{os.getpid()}"
    if link.is_symlink():  # ours, left by a killed build of this pid; a file there is not
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
    ours = _build_name(target)
    for old in target.parent.glob(f".{target.name}.2*"):
        mine = ours.fullmatch(old.name) and not old.is_symlink() and old.is_dir()
        if mine and old.resolve() not in keep:
            shutil.rmtree(old, ignore_errors=True)
    # A build killed between making its link and swapping it in left that link behind
    # (builds are serialised by the build lock, so no other one is in the middle of it).
    stale_link = re.compile(rf"\.{re.escape(target.name)}\.link-\d+")
    for stale in target.parent.glob(f".{target.name}.link-*"):
        if stale_link.fullmatch(stale.name) and stale.is_symlink():
            stale.unlink(missing_ok=True)


def discard(build: Path) -> None:
    shutil.rmtree(build, ignore_errors=True)
