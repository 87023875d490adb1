"""``rag answer`` and ``rag chat`` as a user runs them (real model, real index)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import EXIT_NOT_FOUND, app
from tests.chat.helpers import FOOTNOTE_18_URL, HIGHER_ED_QUESTION
from tests.servers import free_port

pytestmark = pytest.mark.model
runner = CliRunner()


@pytest.fixture(autouse=True)
def _index(real_index_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_INDEX_DIR", str(real_index_dir))
    monkeypatch.setenv("COLUMNS", "200")  # keep URLs on one line in the captured output


def test_answer_quotes_the_sentence_and_lists_its_sources() -> None:
    result = runner.invoke(app, ["answer", HIGHER_ED_QUESTION])
    assert result.exit_code == 0, result.output
    body, sources = result.stdout.split("\nSources\n", 1)
    assert "$19 million" in body and "[1]" in body
    assert sources.lstrip().startswith("[1] Current Pace of Relationship")
    assert FOOTNOTE_18_URL in sources and "May 12, 2022" in sources


def test_answer_json_shape() -> None:
    result = runner.invoke(app, ["answer", HIGHER_ED_QUESTION, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {
        "question", "query", "answer", "found", "generated", "citations", "annotations"
    }  # fmt: skip
    assert data["found"] is True and data["generated"] is False
    assert "$19 million" in data["answer"] and data["citations"][0]["n"] == 1
    first = data["citations"][0]["passage"]
    # The passage is exactly what `rag ask --json` prints.
    asked = json.loads(runner.invoke(app, ["ask", HIGHER_ED_QUESTION, "--json"]).stdout)
    assert set(first) == set(asked["passages"][0])
    assert FOOTNOTE_18_URL in [f["url"] for f in first["footnotes"]]
    for note in data["annotations"]:
        span = data["answer"][note["start_index"] : note["end_index"]]
        assert span.endswith(("[1]", f"<{note['url']}>")), span


@pytest.mark.parametrize("as_json", [False, True])
def test_nothing_found_has_its_own_exit_code(as_json: bool) -> None:
    args = ["answer", "What is the capital of France?", *(["--json"] if as_json else [])]
    result = runner.invoke(app, args)
    assert result.exit_code == EXIT_NOT_FOUND, result.output
    if as_json:
        assert json.loads(result.stdout)["found"] is False
    else:
        assert "I could not find anything about that" in result.stdout


@pytest.mark.parametrize(
    ("question", "message"),
    [("   ", "the question is empty"), ("why? " * 500, "the limit is 2,000")],
)
def test_bad_questions_are_one_line_and_exit_2(question: str, message: str) -> None:
    result = runner.invoke(app, ["answer", question])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_an_unreachable_answer_server_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    monkeypatch.setenv("RAG_LLM_BASE_URL", url)
    monkeypatch.setenv("RAG_LLM_TIMEOUT_S", "5")
    result = runner.invoke(app, ["answer", HIGHER_ED_QUESTION])
    assert result.exit_code == 5, result.output
    assert f"cannot get an answer from {url}/chat/completions" in result.output
    assert "Traceback" not in result.output


def test_chat_reads_questions_from_a_pipe_and_resolves_follow_ups() -> None:
    result = runner.invoke(
        app, ["chat"], input="Who edited the brief?\nand when was it published?\n"
    )
    assert result.exit_code == 0, result.output
    first, second = result.stdout.split("> and when was it published?", 1)
    assert "> Who edited the brief?" in first and "Neelum Nigar" in first
    assert "September" in second and "2024" in second  # the title page's date


def test_chat_commands_and_a_bad_line_do_not_end_the_session() -> None:
    lines = "\n".join(["   ", "why? " * 500, "/reset", "Who edited the brief?", "/exit", "hello"])
    result = runner.invoke(app, ["chat"], input=lines + "\n")
    assert result.exit_code == 0, result.output
    assert "the limit is 2,000" in result.output
    assert "Neelum Nigar" in result.stdout
    assert "> hello" not in result.stdout  # /exit ended the session before it


def test_a_closed_pipe_is_not_a_traceback(real_index_dir: Path) -> None:
    rag = Path(sys.executable).with_name("rag")
    command = [str(rag)] if rag.is_file() else [sys.executable, "-m", "rag.cli"]
    env = {**os.environ, "RAG_INDEX_DIR": str(real_index_dir)}
    producer = subprocess.Popen(
        [*command, "answer", HIGHER_ED_QUESTION],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert producer.stdout is not None and producer.stderr is not None
    producer.stdout.close()  # the reader (`| head -0`) is gone before anything is written
    _, err = producer.communicate(timeout=300)
    assert b"Traceback" not in err and b"BrokenPipeError" not in err, err.decode()
