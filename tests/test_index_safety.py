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


@pytest.mark.model
def test_a_killed_build_leaves_the_published_index_alone_and_is_cleaned_up(
    tmp_path: Path,
) -> None:
    """The real ``rag index`` SIGKILLed at several points of a rebuild: the published index
    is untouched and still verifies; the next build succeeds and removes the leftovers."""
    import shutil
    import signal
    import subprocess
    import time

    from rag.config import bundled_brief
    from tests.servers import _rag_command

    index = tmp_path / "index"
    extra = tmp_path / "water.md"
    extra.write_text("# Water\n\n## Rivers\n\nThe Indus Waters Treaty shares six rivers.\n")
    command = [*_rag_command(), "index", str(bundled_brief()), "--out", str(index)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=600)
    published = index.resolve()
    manifest = (index / "manifest.json").read_bytes()

    killed = 0
    for delay in (0.5, 1.5, 3.0):  # while loading the model, parsing, embedding, writing
        # Without the embedding cache, so each rebuild embeds everything again (with it, a
        # rebuild of the same briefs takes under a second and finishes before the kill).
        shutil.rmtree(tmp_path / ".index.embeddings", ignore_errors=True)
        rebuild = subprocess.Popen([*command, str(extra)], env=env, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        rebuild.send_signal(signal.SIGKILL)
        if rebuild.wait(timeout=30) == 0:  # it finished first: what it published is the index
            published, manifest = index.resolve(), (index / "manifest.json").read_bytes()
            continue
        killed += 1
        assert index.resolve() == published
        assert (index / "manifest.json").read_bytes() == manifest
        open_engine(Settings(index_dir=index), auto_build=False)  # verifies every checksum

    assert killed >= 2  # the machine was not so fast that nothing was ever killed
    subprocess.run([*command, str(extra)], env=env, check=True, capture_output=True, timeout=600)
    assert (
        open_engine(Settings(index_dir=index), auto_build=False).handle.manifest.counts.documents
        == 2
    )
    # Left: the index link, the build it points at, the one it replaced, and the lock.
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".index"))
    assert len([n for n in leftovers if ".link-" in n]) == 0
    assert len([n for n in leftovers if n.startswith(".index.2")]) <= 2, leftovers


def _older_schema(index: Path) -> None:
    """The published build's manifest as an older version wrote it (schema 5)."""
    import json

    manifest = index.resolve() / "manifest.json"
    data = json.loads(manifest.read_text())
    data["schema_version"] = 5
    manifest.write_text(json.dumps(data))


def test_a_stale_index_of_the_configured_briefs_is_rebuilt_from_them(
    tmp_path: Path, brief_path: Path
) -> None:
    """After an upgrade the index of the briefs `make run` indexes is rebuilt from them,
    with a line saying why, instead of stopping every command until `rag index` is run."""
    from rag.store.index import BuildProgress

    settings = _settings(tmp_path).model_copy(update={"corpus": [brief_path]})
    open_engine(settings, encoder=FakeEncoder())
    old_build = settings.index_dir.resolve()
    _older_schema(settings.index_dir)
    said: list[str] = []
    engine = open_engine(settings, encoder=FakeEncoder(), progress=BuildProgress(say=said.append))
    assert engine.handle.passages and settings.index_dir.resolve() != old_build
    assert said == [
        f"index at {settings.index_dir} has schema version 5, this version reads "
        f"{engine.handle.manifest.schema_version}; rebuilding it from the same briefs"
    ]


def test_a_stale_index_of_other_briefs_is_refused_and_left_as_it_is(
    tmp_path: Path, brief_path: Path
) -> None:
    from rag.errors import IndexStale

    other = tmp_path / "other.md"
    other.write_text("# Other\n\n## Part\n\nA brief the settings do not name.\n")
    settings = _settings(tmp_path).model_copy(update={"corpus": [other]})
    open_engine(settings, encoder=FakeEncoder())
    _older_schema(settings.index_dir)
    before = sorted(os.listdir(tmp_path))
    elsewhere = settings.model_copy(update={"corpus": [brief_path]})  # now names another
    for stale in (elsewhere, settings.model_copy(update={"corpus": [other, brief_path]})):
        encoder = FakeEncoder()
        with pytest.raises(IndexStale, match=r"schema version 5.*run `rag index`"):
            open_engine(stale, encoder=encoder)
        assert encoder.calls == 0 and sorted(os.listdir(tmp_path)) == before
    with pytest.raises(IndexStale):  # and never without auto_build, even of the same briefs
        open_engine(settings, encoder=FakeEncoder(), auto_build=False)


def test_workers_finding_one_stale_index_rebuild_it_once(tmp_path: Path, brief_path: Path) -> None:
    """A rebuild asked to replace a build that is no longer the published one does nothing:
    the second of two workers that found the same stale index."""
    from rag.engine import build

    settings = _settings(tmp_path).model_copy(update={"corpus": [brief_path]})
    open_engine(settings, encoder=FakeEncoder())
    stale = settings.index_dir.resolve()
    assert build(settings, encoder=FakeEncoder(), replacing=stale) is not None
    fresh = settings.index_dir.resolve()
    encoder = FakeEncoder()
    assert build(settings, encoder=encoder, replacing=stale) is None
    assert settings.index_dir.resolve() == fresh and encoder.calls == 0


@pytest.mark.model
def test_rag_ask_after_an_upgrade_rebuilds_the_bundled_index_and_answers(
    tmp_path: Path, real_index_dir: Path
) -> None:
    """What a user who updated sees: the old bundled index is rebuilt (from the embedding
    cache beside it, so in seconds), one line says why, and the question is answered."""
    import shutil

    from typer.testing import CliRunner

    from rag.cli import app

    shelf = tmp_path / "shelf"
    shutil.copytree(real_index_dir.parent, shelf, symlinks=True)
    index = shelf / real_index_dir.name
    _older_schema(index)
    result = CliRunner().invoke(
        app, ["ask", "U.S. commitment to higher education"], env={"RAG_INDEX_DIR": str(index)}
    )
    assert result.exit_code == 0, result.output
    assert "has schema version 5" in result.output and "rebuilding it from the same briefs" in (
        result.output
    )
    assert "Traceback" not in result.output and "1." in result.output  # the hits
    assert open_engine(Settings(index_dir=index), auto_build=False).handle.passages
