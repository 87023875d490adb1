"""Incremental builds: a rebuild embeds only the text that changed (the embedding cache
beside the index), gives the same index as a fresh build, and `rag index --add/--remove`
change a shelf of briefs in place, publishing a complete new build each time."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from rag.chunking.represent import passage_text, sentence_rows
from rag.cli import app
from rag.config import Settings
from rag.engine import build
from rag.store.index import load_index
from tests.conftest import FakeEncoder

TRADE = (
    "# Trade Brief\n\n## Exports\n\nTextiles led the exports, and trade grew fast.[^1]\n\n"
    "[^1]: Ministry of Commerce, 2023.\n"
)
WATER = (
    "# Water Brief\n\n## Rivers\n\nThe Indus Waters Treaty shares the rivers.\n\n"
    "## Dams\n\nNew dams store water.\n"
)
POWER = "# Power Brief\n\n## Grid\n\nThe grid links the two countries' power plants.\n"


@pytest.fixture
def shelf(tmp_path: Path) -> Path:
    folder = tmp_path / "briefs"
    folder.mkdir()
    (folder / "trade.md").write_text(TRADE)
    (folder / "water.md").write_text(WATER)
    return folder


def _settings(tmp_path: Path) -> Settings:
    return Settings(index_dir=tmp_path / "index", model="/nonexistent")


def test_a_rebuild_of_the_same_briefs_embeds_nothing(shelf: Path, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    first = build(settings, [shelf], encoder=FakeEncoder())
    assert first is not None and first.embedding["passages"].reused == 0
    table = np.array(load_index(settings.index_dir).token_vectors)
    encoder = FakeEncoder()
    again = build(settings, [shelf], encoder=encoder)
    assert again is not None and encoder.calls == 0  # every vector from the cache
    reuse = again.embedding
    assert reuse["passages"].embedded == 0 and reuse["passages"].reused == first.counts.passages
    assert reuse["sentences"].embedded == 0 and reuse["tokens"].embedded == 0
    (cached,) = (tmp_path / ".index.embeddings").glob("*.npz")
    with np.load(cached, allow_pickle=False) as data:
        assert data["token_rows"].dtype == np.int8  # as the index keeps them
    assert np.array_equal(load_index(settings.index_dir).token_vectors, table)


def test_a_changed_brief_alone_is_embedded_again(shelf: Path, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    build(settings, [shelf], encoder=FakeEncoder())
    (shelf / "water.md").write_text(WATER.replace("New dams store water.", "Dams hold floods."))
    (shelf / "power.md").write_text(POWER)
    manifest = build(settings, [shelf], encoder=FakeEncoder())
    assert manifest is not None
    ids = {d.id for d in manifest.documents}
    assert ids == {"trade", "water", "power"}
    passages = manifest.embedding["passages"]
    assert 0 < passages.embedded < manifest.counts.passages  # the new and changed ones only
    assert passages.embedded + passages.reused == manifest.counts.passages


def test_a_cached_build_is_the_same_index_as_a_fresh_one(shelf: Path, tmp_path: Path) -> None:
    cached = _settings(tmp_path)
    build(cached, [shelf], encoder=FakeEncoder())
    (shelf / "power.md").write_text(POWER)
    build(cached, [shelf], encoder=FakeEncoder())
    fresh = Settings(index_dir=tmp_path / "fresh" / "index", model="/nonexistent")
    build(fresh, [shelf], encoder=FakeEncoder())
    a, b = load_index(cached.index_dir), load_index(fresh.index_dir)
    assert [p.id for p in a.passages] == [p.id for p in b.passages]
    assert a.sentences == b.sentences and np.array_equal(a.sentence_owners, b.sentence_owners)
    assert np.array_equal(a.sentence_vectors, b.sentence_vectors)
    assert np.array_equal(a.footnote_vectors, b.footnote_vectors)
    assert np.array_equal(a.token_vectors, b.token_vectors)
    assert a.faiss_index.reconstruct_n(0, a.faiss_index.ntotal).tolist() == (
        b.faiss_index.reconstruct_n(0, b.faiss_index.ntotal).tolist()
    )


def test_a_rebuild_splits_only_the_text_it_has_not_split_before(
    shelf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sentence spans are kept with the embeddings: a rebuild of the same briefs runs the
    sentence splitter on nothing, adding a brief on that brief's text only; and within one
    build a text is split once, though the chunker and the sentence rows both ask."""
    from rag.chunking import sentences

    split: list[str] = []
    real = sentences._sentence_spans
    monkeypatch.setattr(sentences, "_sentence_spans", lambda t: split.append(t) or real(t))
    settings = _settings(tmp_path)
    build(settings, [shelf], encoder=FakeEncoder())
    assert split and len(split) == len(set(split))
    split.clear()
    build(settings, [shelf], encoder=FakeEncoder())
    assert split == []
    (shelf / "power.md").write_text(POWER)
    build(settings, [shelf], encoder=FakeEncoder())
    assert split and all(t in POWER for t in split)


def test_a_damaged_cache_is_ignored(shelf: Path, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    build(settings, [shelf], encoder=FakeEncoder())
    for cached in (tmp_path / ".index.embeddings").glob("*.npz"):
        cached.write_bytes(b"not a cache")
    manifest = build(settings, [shelf], encoder=FakeEncoder())
    assert manifest is not None and manifest.embedding["passages"].reused == 0


@pytest.mark.model
def test_add_remove_and_json_from_the_command_line(shelf: Path, tmp_path: Path) -> None:
    env = {"RAG_INDEX_DIR": str(tmp_path / "index")}
    runner = CliRunner()

    def index(*args: str) -> dict[str, object]:
        done = runner.invoke(app, ["index", *args, "--json"], env=env)
        assert done.exit_code == 0, done.output
        summary: dict[str, object] = json.loads(done.stdout)
        return summary

    first = index(str(shelf / "trade.md"))
    assert first["documents"] == 1 and first["embedded_passages"] == first["passages"]
    power = tmp_path / "power.md"
    power.write_text(POWER)
    added = index("--add", str(shelf / "water.md"), "--add", str(power))
    assert added["ids"] == ["trade", "water", "power"]
    assert added["reused_passages"] == first["passages"]
    assert added["embedded_passages"] == added["passages"] - first["passages"]  # type: ignore[operator]
    removed = index("--remove", "water")
    assert removed["ids"] == ["trade", "power"] and removed["embedded_passages"] == 0
    unknown = runner.invoke(app, ["index", "--remove", "wind"], env=env)
    assert unknown.exit_code == 2 and "the ids are: power, trade" in unknown.output
    shutil.move(power, tmp_path / "moved.md")
    gone = runner.invoke(app, ["index", "--add", str(shelf / "water.md")], env=env)
    assert gone.exit_code == 2 and "--remove power" in gone.output
    both = runner.invoke(app, ["index", str(shelf), "--add", str(power)], env=env)
    assert both.exit_code == 2 and "not both" in both.output


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="Linux /proc only")
def test_the_mapped_artifacts_are_read_at_random(shelf: Path, tmp_path: Path) -> None:
    """The token table and the FAISS files are mapped with MADV_RANDOM (smaps shows "rr"),
    so a query's scattered reads map the pages they touch, not the kernel's read-around."""
    settings = _settings(tmp_path)
    build(settings, [shelf], encoder=FakeEncoder())
    handle = load_index(settings.index_dir)
    folder = str(settings.index_dir.resolve())
    flags: dict[str, bool] = {}
    name = None
    for line in Path("/proc/self/smaps").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 6 and "-" in parts[0] and parts[5].startswith(folder + "/"):
            name = parts[5].rsplit("/", 1)[1]
        elif line.startswith("VmFlags:") and name is not None:
            flags[name] = flags.get(name, True) and "rr" in parts[1:]
            name = None
    assert handle.token_vectors is not None
    assert {"token_vectors.npy", "dense.faiss", "sentences.faiss"} <= set(flags)
    assert all(flags.values()), flags


class RecordingEncoder(FakeEncoder):
    """The fake encoder, keeping every text it was asked to encode (pooled or tokens)."""

    def __init__(self) -> None:
        super().__init__()
        self.pooled: list[str] = []
        self.tokens: list[str] = []

    def encode(self, texts, *, batch_size=32, progress=None):  # type: ignore[no-untyped-def]
        self.pooled.extend(texts)
        return super().encode(texts, batch_size=batch_size, progress=progress)

    def encode_tokens(self, texts, *, batch_size=32):  # type: ignore[no-untyped-def]
        self.tokens.extend(texts)
        return [FakeEncoder.encode(self, t.split() or [t]) for t in texts]


# One sentence said twice (two sentence rows, two token rows of the same text), a footnote
# said twice, and a one-sentence passage (its sentence probe is its passage's text).
REPEATS = (
    "# Repeat Brief\n\n## Ports\n\nGwadar handles cargo. The port grew. Gwadar handles cargo.[^1]"
    "[^2]\n\n## Roads\n\nThe motorway opened in 2023.\n\n"
    "[^1]: Port authority, 2023.\n\n[^2]: Port authority, 2023.\n"
)


def test_a_build_encodes_each_distinct_text_once(tmp_path: Path) -> None:
    folder = tmp_path / "briefs"
    folder.mkdir()
    (folder / "repeats.md").write_text(REPEATS)
    encoder = RecordingEncoder()
    manifest = build(_settings(tmp_path), [folder], encoder=encoder)
    assert manifest is not None
    assert len(encoder.pooled) == len(set(encoder.pooled))  # across passages, probes, notes
    assert len(encoder.tokens) == len(set(encoder.tokens))
    handle = load_index(tmp_path / "index")
    fronts = {d.id: d.front_matter for d in handle.documents.values()}
    rows = [sentence_rows(p, fronts[p.document.id]) for p in handle.passages]
    probes = [text for r in rows for text in r.probes]
    bare = [text for r in rows for text in r.bare]
    assert len(probes) > len(set(probes)) and len(bare) > len(set(bare))  # repeats indexed
    assert set(probes) & {passage_text(p, fronts[p.document.id]) for p in handle.passages}
    counted = manifest.embedding  # a repeat counts as embedded: this build computed it
    assert counted["sentences"].embedded == len(probes) and counted["tokens"].embedded == len(bare)
    assert counted["footnotes"].embedded == 2
    # The index holds what encoding every text on its own gives, repeats included.
    sentence_vectors = handle.sentence_index.reconstruct_n(0, handle.sentence_index.ntotal)
    assert np.array_equal(sentence_vectors, FakeEncoder().encode(probes))
