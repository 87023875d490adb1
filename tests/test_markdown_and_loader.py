"""Markdown briefs and the loader's handling of bad input."""

from pathlib import Path

import pytest

from rag.errors import CorpusFormatError, CorpusNotFound
from rag.parsing import discover, load_documents, parse_file

MD = """---
title: Water Security Brief
author: A. Writer
---

# Water Security Brief

By A. Writer

## Context

Rivers feed the plains.[^1] Dams store \\$2 billion of water.[^src]

### Indus Basin

The treaty dates from 1960.[^1] An orphan marker sits here.[^9]

[^1]: "Indus Waters Treaty," *World Bank*, September 19, 1960, <https://example.org/iwt>
[^src]: Dam statistics, *Water Agency*, 2023,
    continued on a second line.
[^7]: Never cited, *Nobody*.
"""


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def test_markdown_structure_markers_and_definitions(tmp_path):
    doc = parse_file(write(tmp_path, "water.md", MD))
    assert doc.format == "markdown"
    assert doc.title == "Water Security Brief"
    assert doc.front_matter.author == "A. Writer"
    assert [s.path for s in doc.sections if s.title != "Front Matter"] == [
        ("Context",),
        ("Context", "Indus Basin"),
    ]
    assert "Rivers feed the plains.¹ Dams store $2 billion of water.¹⁰" in doc.body
    assert doc.footnote(1).url == "https://example.org/iwt"
    assert doc.footnote(1).publisher == "World Bank"
    assert doc.footnote(10).citation.endswith("continued on a second line")
    assert "[^" not in doc.body


def test_unresolved_marker_is_a_warning_naming_it(tmp_path):
    doc = parse_file(write(tmp_path, "water.md", MD))
    assert any("⁹" in w and "no definition" in w for w in doc.warnings)
    assert any("footnote 7" in w and "never cited" in w for w in doc.warnings)


def test_folder_of_briefs_gets_unique_document_ids(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write(tmp_path / "a", "brief.md", MD)
    write(tmp_path / "b", "brief.md", MD)
    write(tmp_path, "notes.csv", "ignored,file")
    docs = load_documents([tmp_path])
    assert [d.id for d in docs] == ["brief", "brief-2"]


def test_missing_path(tmp_path):
    with pytest.raises(CorpusNotFound, match="no such file or folder"):
        discover([tmp_path / "nope.txt"])


def test_folder_without_briefs(tmp_path):
    write(tmp_path, "data.csv", "a,b")
    with pytest.raises(CorpusFormatError, match="holds no briefs"):
        discover([tmp_path])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "file is empty"),
        (b"  \n\n\t ", "file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "looks binary"),
        ("caf\xe9 au lait is a drink of coffee and hot milk".encode("latin-1"), "not valid UTF-8"),
    ],
)
def test_unusable_files(tmp_path, data, message):
    with pytest.raises(CorpusFormatError, match=message):
        parse_file(write(tmp_path, "brief.txt", data))


def test_plain_text_without_headings_is_one_section(tmp_path):
    doc = parse_file(write(tmp_path, "memo.txt", "Just a memo. " * 30))
    assert len(doc.paragraphs) == 1
    assert doc.paragraphs[0].section.title
