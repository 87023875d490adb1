"""RAG_API_KEY means what it says: an empty or blank key, or one with spaces around it, is a
configuration error in one line, and `rag serve` never opens its port with it."""

from __future__ import annotations

import os
import subprocess

import pytest

from rag.config import load_settings
from rag.errors import ConfigError
from tests.servers import _rag_command, free_port


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("", "the API key is empty"),
        ("   ", "the API key is empty"),
        ("\n", "the API key is empty"),
        (" secret", "spaces or line breaks around it"),
        ("secret\n", "spaces or line breaks around it"),
    ],
)
def test_a_key_that_cannot_mean_what_it_says_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str, says: str
) -> None:
    monkeypatch.setenv("RAG_API_KEY", value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert says in message and "RAG_API_KEY" in message and "\n" not in message
    assert value.strip() == "" or value.strip() not in message  # the key is never echoed


def test_a_real_key_and_no_key_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_API_KEY", "s3cret-with inner space")
    key = load_settings().api_key
    assert key is not None and key.get_secret_value() == "s3cret-with inner space"
    monkeypatch.delenv("RAG_API_KEY")
    assert load_settings().api_key is None


@pytest.mark.parametrize("value", ["", "  key  "])
def test_rag_serve_refuses_to_start_in_one_line(value: str) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env |= {"RAG_API_KEY": value, "RAG_PORT": str(port), "RAG_HOST": "127.0.0.1"}
    done = subprocess.run(
        [*_rag_command(), "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: invalid configuration: RAG_API_KEY")
    assert "serving on" not in done.stdout + done.stderr and "Traceback" not in done.stderr
