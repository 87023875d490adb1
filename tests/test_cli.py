"""The ``rag`` command, driven as a user would (CliRunner and a real subprocess)."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from rag.cli import app

runner = CliRunner()


def test_help_is_instant_and_imports_no_torch():
    code = (
        "import sys; from rag.cli import app; "
        "from typer.testing import CliRunner; "
        "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0, r.output; "
        "r = CliRunner().invoke(app, ['bench', '--help']); assert r.exit_code == 0, r.output; "
        "heavy = {'torch', 'faiss', 'llama_index', 'sentence_transformers'} & set(sys.modules); "
        "assert not heavy, heavy; print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr


@pytest.mark.model
def test_ask_json_shape(real_index_dir, monkeypatch):
    monkeypatch.setenv("RAG_INDEX_DIR", str(real_index_dir))
    result = runner.invoke(app, ["ask", "How did Pakistan help end the Cold War?", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["question"] == "How did Pakistan help end the Cold War?"
    first = data["passages"][0]
    assert set(first) == {
        "id", "rank", "score", "text", "section", "footnotes", "span", "tokens", "document",
        "pages",
    }  # fmt: skip
    assert first["pages"] == []  # a text brief has no pages
    assert set(first["section"]) == {"title", "path"}
    assert set(first["span"]) == {"start", "end"}
    match = next(
        p
        for p in data["passages"]
        if "Pakistan helped the U.S. reverse the Soviet invasion of Afghanistan" in p["text"]
    )
    assert {"number": 2, "citation": match["footnotes"][-1]["citation"],
            "url": "https://www.jstor.org/stable/4328240"} in match["footnotes"]  # fmt: skip


@pytest.mark.model
def test_ask_readable_output_names_editor(real_index_dir, monkeypatch):
    monkeypatch.setenv("RAG_INDEX_DIR", str(real_index_dir))
    result = runner.invoke(app, ["ask", "Who edited the brief?", "-k", "2"])
    assert result.exit_code == 0, result.output
    first_block = result.stdout.split("\n2.")[0]
    assert "Front Matter" in first_block and "Dr Neelum Nigar" in first_block


@pytest.mark.model
def test_index_command_builds_and_summarises(tmp_path, monkeypatch):
    brief = tmp_path / "mini.md"
    (tmp_path / "second.md").write_text("# Two\n\n## Part\n\nAn orphan marker.[^4]\n")
    brief.write_text(
        "# Mini\n\n## One\n\nA short paragraph about rivers.[^1]\n\n[^1]: Src, *Pub*.\n"
    )
    out = tmp_path / "mini-index"
    result = runner.invoke(app, ["index", str(tmp_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 document(s)" in result.stdout and "1 footnotes" in result.stdout
    assert "warning: second.md: footnote marker ⁴ (4) has no definition" in result.output
    assert (out / "manifest.json").is_file()


@pytest.fixture
def fake_model(monkeypatch):
    """`rag` commands embed with the fast fake encoder (what is printed is under test)."""
    import rag.engine
    from tests.conftest import FakeEncoder

    monkeypatch.setattr(rag.engine, "make_encoder", lambda *args, **kwargs: FakeEncoder())


AMBIGUOUS = {
    "titled.md": "# Rivers of the Indus\n\nBy Amina Rahman\n\nMarch 1, 2024\n\n"
    "# Introduction\n\nThe basin feeds nearly three hundred million people.\n",
    "sectioned.md": "# Introduction\n\nThe Indus Waters Treaty, signed in 1960, divides six "
    "rivers, three to each side, and has been called the most successful water treaty in the "
    "world.\n\n# Allocation\n\nThe eastern rivers went to India.\n",
    "yaml.md": "---\ntitle: Dams\n---\n\n# Introduction\n\nDams store water.\n",
}


def test_index_says_how_a_first_markdown_heading_was_read(tmp_path, fake_model):
    for name, text in AMBIGUOUS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    out = tmp_path / "index"
    result = runner.invoke(app, ["index", str(tmp_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    said = result.output.replace("\n", " ")
    assert (
        'note: titled.md: the first heading "Rivers of the Indus" was read as the title '
        "(a title page follows); give a YAML title to make it a section"
    ) in said
    assert (
        'note: sectioned.md: the first heading "Introduction" was read as a section: nothing '
        "that looks like a title page follows it"
    ) in said
    assert "yaml.md" not in said and "warning" not in said  # a YAML title: not in doubt

    result = runner.invoke(app, ["index", str(tmp_path), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["warnings"] == []
    assert [note.split(":")[0] for note in summary["notes"]] == ["sectioned.md", "titled.md"]
    assert "read as a section" in summary["notes"][0]
    assert "read as the title" in summary["notes"][1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "   "], "question is empty"),
        (["ask", "hi", "--retriever", "magic"], "unknown retriever"),
        (["index", "/definitely/not/here.txt"], "no such file or folder"),
    ],
)
def test_bad_input_is_one_clean_line(args, message, tmp_path):
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "index").exists()  # nothing written


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.txt", b"", "file is empty"),
        ("blob.txt", b"\x00\x01\x02binary", "looks binary"),
    ],
)
def test_index_refuses_bad_files_and_writes_nothing(tmp_path, name, data, message):
    bad = tmp_path / name
    bad.write_bytes(data)
    result = runner.invoke(app, ["index", str(bad), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "out").exists()


def test_index_refuses_folder_without_briefs(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "x.csv").write_text("a,b")
    result = runner.invoke(app, ["index", str(tmp_path / "docs")])
    assert result.exit_code == 2 and "holds no briefs" in result.output


def test_corrupt_index_is_one_line_with_what_to_run(tmp_path, monkeypatch):
    folder = tmp_path / "index"
    folder.mkdir()
    (folder / "manifest.json").write_text("{not json")
    monkeypatch.setenv("RAG_INDEX_DIR", str(folder))
    result = runner.invoke(app, ["ask", "anything"])
    assert result.exit_code == 3
    assert "rag index" in result.output and "Traceback" not in result.output


def test_bench_peer_unknown_is_one_line_before_measuring():
    result = runner.invoke(app, ["bench", "--peer", "haystack"])
    assert result.exit_code == 2
    assert result.output.strip() == "error: unknown peer 'haystack'; use llamaindex"


def test_bench_peer_without_the_extra_says_how_to_install(monkeypatch):
    # As if llama-index were not installed: find_spec answers None for these names.
    for name in ("llama_index", "llama_index.core", "llama_index.embeddings.huggingface"):
        monkeypatch.setitem(sys.modules, name, None)
    result = runner.invoke(app, ["bench", "--peer", "llamaindex"])
    assert result.exit_code == 8  # BenchmarkError's row of EXIT_CODES
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert lines[0].endswith("install with pip install -e '.[peer]'")
