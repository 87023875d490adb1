"""`rag index --out PATH` (and RAG_INDEX_DIR) only ever replaces an index: a user's folder,
file or link is refused in one line with exit 3 and left exactly as it was."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.config import Settings
from rag.engine import build
from rag.errors import IndexPathTaken
from tests.conftest import FakeEncoder

BRIEF = "# A brief\n\n## Aid\n\nThe fund grew to $19 million in 2023.[^1]\n\n[^1]: Embassy, 2023.\n"


def _tree(root: Path) -> dict[str, str]:
    """Every entry under ``root`` (links, folders, files) with what it holds."""
    seen: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            key = str(path.relative_to(root))
            if path.is_symlink():
                seen[key] = "link:" + os.readlink(path)
            elif path.is_dir():
                seen[key] = "dir"
            else:
                seen[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return seen


@pytest.fixture
def briefs(tmp_path: Path) -> Path:
    """A user's folder: a brief beside files that are not briefs."""
    folder = tmp_path / "briefs"
    (folder / "sub").mkdir(parents=True)
    (folder / "aid.md").write_text(BRIEF)
    (folder / "draft.pages").write_bytes(b"PK\x03\x04 not a format rag reads")
    (folder / "sub" / "data.csv").write_text("year,usd\n2023,19000000\n")
    return folder


def _index(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["index", *args], env=env)
    return result.exit_code, result.output


def _one_line_refusal(code: int, output: str) -> None:
    assert code == 3, output
    assert "Traceback" not in output and output.strip().count("\n") == 0, output
    assert "nothing was touched" in output and "choose another path" in output


def test_out_over_the_briefs_folder_is_refused_and_keeps_every_file(
    briefs: Path, tmp_path: Path
) -> None:
    before, around = _tree(briefs), sorted(os.listdir(tmp_path))
    code, output = _index([str(briefs), "--out", str(briefs)])
    _one_line_refusal(code, output)
    assert "a folder that is not a brief-rag index (3 entries" in output
    assert _tree(briefs) == before and sorted(os.listdir(tmp_path)) == around


def test_out_over_a_file_is_refused_and_the_file_is_intact(briefs: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    code, output = _index([str(briefs), "--out", str(notes)])
    _one_line_refusal(code, output)
    assert "a file of 9 bytes" in output
    assert notes.read_text() == "my notes\n"


def test_a_mistyped_rag_index_dir_is_refused_too(briefs: Path) -> None:
    before = _tree(briefs)
    code, output = _index([str(briefs)], env={"RAG_INDEX_DIR": str(briefs)})
    _one_line_refusal(code, output)
    assert _tree(briefs) == before


def test_a_link_of_the_users_is_neither_replaced_nor_followed(briefs: Path, tmp_path: Path) -> None:
    link = tmp_path / "shortcut"
    link.symlink_to(briefs)
    before = _tree(briefs)
    code, output = _index([str(briefs), "--out", str(link)])
    _one_line_refusal(code, output)
    assert "a link to" in output
    assert os.readlink(link) == str(briefs) and _tree(briefs) == before


def test_an_index_is_replaced_and_user_files_beside_it_survive_cleanup(
    briefs: Path, tmp_path: Path
) -> None:
    """Clean-up removes only the names the publisher makes: a user's `.index.2024-old`
    folder and `.index.lock` file beside the index are neither removed nor truncated."""
    target = tmp_path / "shelf" / "index"
    target.parent.mkdir()
    backup = target.parent / ".index.2024-old"
    backup.mkdir()
    (backup / "keep.txt").write_text("mine")
    lock = target.parent / ".index.lock"
    lock.write_text("also mine")
    settings = Settings(index_dir=target, model="/nonexistent", corpus=[briefs])
    for _ in range(3):  # the third publish removes the first build, and only that
        build(settings, encoder=FakeEncoder())
    assert (target / "manifest.json").is_file()
    assert (backup / "keep.txt").read_text() == "mine" and lock.read_text() == "also mine"
    ours = re.compile(r"\.index\.\d{8}T\d{6}\.[a-z0-9_]{8}")
    builds = [p for p in target.parent.iterdir() if ours.fullmatch(p.name)]
    assert len(builds) == 2  # the served build and the one it replaced


def test_an_empty_folder_becomes_the_index(briefs: Path, tmp_path: Path) -> None:
    target = tmp_path / "index"
    target.mkdir()
    build(Settings(index_dir=target, model="/nonexistent", corpus=[briefs]), encoder=FakeEncoder())
    assert target.is_symlink() and (target / "manifest.json").is_file()


def test_an_index_folder_from_before_links_is_moved_aside_not_deleted(
    briefs: Path, tmp_path: Path
) -> None:
    settings = Settings(index_dir=tmp_path / "index", model="/nonexistent", corpus=[briefs])
    build(settings, encoder=FakeEncoder())
    # Make it an old-style index: a real folder holding the build, no link.
    old = settings.index_dir.resolve()
    settings.index_dir.unlink()
    os.rename(old, settings.index_dir)
    before = _tree(settings.index_dir)
    build(settings, encoder=FakeEncoder())
    assert settings.index_dir.is_symlink()
    aside = [p for p in tmp_path.iterdir() if p.name.startswith(".index.before-links-")]
    assert len(aside) == 1 and _tree(aside[0]) == before


def test_a_damaged_index_of_ours_can_be_rebuilt(briefs: Path, tmp_path: Path) -> None:
    """The refusal must not strand a user whose own index lost its build (a dangling link)."""
    settings = Settings(index_dir=tmp_path / "index", model="/nonexistent", corpus=[briefs])
    build(settings, encoder=FakeEncoder())
    gone = settings.index_dir.resolve()
    for f in sorted(gone.rglob("*"), reverse=True):
        f.rmdir() if f.is_dir() else f.unlink()
    gone.rmdir()
    build(settings, encoder=FakeEncoder())
    assert (settings.index_dir / "manifest.json").is_file()


def test_the_refusal_comes_before_any_work(briefs: Path) -> None:
    encoder = FakeEncoder()
    settings = Settings(index_dir=briefs, model="/nonexistent", corpus=[briefs])
    with pytest.raises(IndexPathTaken):
        build(settings, encoder=encoder)
    assert encoder.calls == 0


def test_the_real_command_exits_3_and_deletes_nothing(briefs: Path) -> None:
    """The reported case as a user ran it: `rag index ~/briefs --out ~/briefs`."""
    before = _tree(briefs)
    done = subprocess.run(
        [sys.executable, "-m", "rag.cli", "index", str(briefs), "--out", str(briefs)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 3, done.stderr
    assert done.stdout == "" and done.stderr.strip().count("\n") == 0, done.stderr
    assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr
    assert _tree(briefs) == before
