"""What the `rag` command prints, read as a newcomer would: flags that read as flags, help
wrapped on word boundaries, and queries on a built index that write nothing to stderr and
pad no line with spaces in a pipe."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import typer

from rag.cli import app
from tests.servers import _rag_command


def _rag(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    environ |= {"COLUMNS": "80", **(env or {})}
    return subprocess.run(
        [*_rag_command(), *args], env=environ, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize("command", ["ask", "answer", "eval", "index", "serve", "bench"])
def test_help_shows_flags_as_flags_and_wraps_on_words(command: str) -> None:
    done = _rag(command, "--help")
    assert done.returncode == 0, done.stderr
    assert "<bool>" not in done.stdout
    for line in done.stdout.splitlines():
        assert len(line) <= 80 and line == line.rstrip(), line
    # Wrapped on word boundaries: every word of the command's own help text comes out whole
    # (a break inside a word would leave two fragments, neither of them a word of it).
    # (A break after a hyphen, "cross-" / "validation", is a word boundary too.)
    printed = set(re.sub(r"-\n\s+", "-", done.stdout).split())
    click_command = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    texts = [click_command.help or ""] + [p.help or "" for p in click_command.params]
    for word in " ".join(texts).split():
        assert word in printed, word
    if command in ("ask", "answer", "eval"):
        assert "--json " in done.stdout or "--json\n" in done.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("ask", "How did Pakistan help end the Cold War?"),
        ("answer", "What did the U.S. commit to higher education in Pakistan?"),
    ],
)
def test_a_query_on_a_built_index_is_quiet_and_unpadded(
    real_index_dir: Path, args: tuple[str, ...]
) -> None:
    done = _rag(*args, env={"RAG_INDEX_DIR": str(real_index_dir)})
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no progress bar, no stray line
    assert done.stdout.strip()
    padded = [line for line in done.stdout.splitlines() if line != line.rstrip()]
    assert padded == []
