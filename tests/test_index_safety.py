"""Only a place where no index was ever built is built on first use; anything damaged is
refused in one line and left as it is (it may have held other briefs)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from rag.config import Settings
from rag.engine import open_engine
from rag.errors import IndexCorrupt
from tests.conftest import FakeEncoder


def _settings(tmp_path: Path) -> Settings:
    return Settings(index_dir=tmp_path / "index", model="/nonexistent")


def test_a_new_place_is_built_on_first_use(tmp_path: Path) -> None:
    engine = open_engine(_settings(tmp_path), encoder=FakeEncoder())
    assert engine.handle.passages and (tmp_path / "index" / "manifest.json").is_file()


def _deleted_manifest(index: Path) -> None:
    (index.resolve() / "manifest.json").unlink()


def _dangling_link(index: Path) -> None:
    target = index.resolve()
    for f in sorted(target.rglob("*"), reverse=True):
        f.rmdir() if f.is_dir() else f.unlink()
    target.rmdir()


def _emptied_folder(index: Path) -> None:
    index.unlink()
    index.mkdir()


@pytest.mark.parametrize("damage", [_deleted_manifest, _dangling_link, _emptied_folder])
def test_a_damaged_index_is_refused_not_rebuilt(
    tmp_path: Path, damage: Callable[[Path], None]
) -> None:
    settings = _settings(tmp_path)
    open_engine(settings, encoder=FakeEncoder())
    index = settings.index_dir
    damage(index)
    before = sorted(os.listdir(tmp_path))
    encoder = FakeEncoder()
    with pytest.raises(IndexCorrupt, match="run `rag index`") as caught:
        open_engine(settings, encoder=encoder)
    assert "\n" not in str(caught.value)
    assert encoder.calls == 0 and sorted(os.listdir(tmp_path)) == before  # nothing was built


def test_an_unwritable_place_is_one_line_and_nothing_is_published(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from rag.cli import app

    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("not a folder")
    result = CliRunner().invoke(app, ["index", "--out", str(in_the_way / "index")])
    assert result.exit_code == 3, result.output
    assert "cannot write the index at" in result.output and "nothing was published" in result.output
    assert "Traceback" not in result.output and result.output.count("\n") <= 2
    assert in_the_way.read_text() == "not a folder"
