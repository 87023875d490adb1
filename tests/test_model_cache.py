"""The model cache (RAG_MODEL_CACHE, the ONNX export) on hostile ground: a read-only home
falls back to a private temporary folder, a cache path that is a file and a machine with
nowhere to write are one line (exit 4), never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from rag.config import default_model_path
from rag.encoding.onnx_export import _writable_cache, exported_model
from rag.errors import ModelError
from tests.servers import _rag_command, free_port


def test_a_cache_path_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    in_the_way = tmp_path / "cache"
    in_the_way.write_text("mine")
    with pytest.raises(ModelError, match="is a file, not a folder") as caught:
        exported_model(Path(default_model_path()), in_the_way)
    assert "RAG_MODEL_CACHE" in str(caught.value) and "\n" not in str(caught.value)
    assert in_the_way.read_text() == "mine"


def test_an_unwritable_cache_falls_back_to_a_private_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    cache = _writable_cache(blocked / "cache")  # below a file: cannot be made
    assert cache == tmp_path / "tmp" / f"brief-rag-{os.getuid()}" / "models" and cache.is_dir()
    assert cache.parent.stat().st_mode & 0o077 == 0  # private: no one else plants an export


def test_a_fallback_someone_else_can_write_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    shared = tmp_path / f"brief-rag-{os.getuid()}"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    with pytest.raises(ModelError, match="set RAG_MODEL_CACHE to a writable folder"):
        _writable_cache(blocked / "cache")


def _read_only_home(command: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``command`` with ``home`` mounted read-only (a mount namespace of its own)."""
    if shutil.which("unshare") is None:
        pytest.skip("needs util-linux's unshare for a read-only mount")
    home.mkdir()
    script = f'mount -t tmpfs -o ro tmpfs "{home}" && exec "$@"'
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "XDG_"))}
    environ |= {"HOME": str(home), **env}
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "sh", *command],
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if "unshare failed" in done.stderr or "mount: " in done.stderr:
        pytest.skip(f"cannot make a read-only mount here: {done.stderr.strip()}")
    return done


def test_rag_ask_works_with_a_read_only_home(tmp_path: Path) -> None:
    index = tmp_path / "index"
    done = _read_only_home(
        [*_rag_command(), "ask", "Who edited the brief?", "-k", "1"],
        tmp_path / "home",
        RAG_INDEX_DIR=str(index),
    )
    assert done.returncode == 0, done.stderr
    assert "Neelum Nigar" in " ".join(done.stdout.split()) and done.stderr == ""


def test_rag_serve_with_a_cache_that_is_a_file_is_one_line_and_exit_4(tmp_path: Path) -> None:
    in_the_way = tmp_path / "cache"
    in_the_way.write_text("mine")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    environ |= {"RAG_MODEL_CACHE": str(in_the_way), "RAG_PORT": str(free_port())}
    environ |= {"RAG_INDEX_DIR": str(tmp_path / "index")}
    done = subprocess.run(
        [*_rag_command(), "serve"], env=environ, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 4, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "is a file, not a folder" in lines[0], done.stderr
    assert "serving on" not in done.stdout + done.stderr and in_the_way.read_text() == "mine"
