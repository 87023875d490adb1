"""What keeps a query's cost from growing with the corpus: the token leg re-ranks only the
cheap legs' candidates, token vectors are int8, the dense index turns HNSW above a size,
and top-k selection does not sort the whole corpus (fake encoder, no model)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings
from rag.retrieval.retriever import (
    RetrievalParams,
    Retriever,
    candidate_pool,
    dense_ranking,
    sentence_ranking,
    token_ranking,
)
from rag.store import late, vectors
from rag.store.index import build_index, load_index
from rag.store.ranks import segment_max, top_order
from tests.conftest import FakeEncoder, chunk_params, dense_params


def _build(brief_path: Path, out: Path, **dense: object):
    return build_index(
        [brief_path],
        out,
        FakeEncoder(),
        chunk_params(),
        model_path="/nonexistent",
        dense=dense_params(**dense),
    )


@pytest.fixture(scope="module")
def handle(tmp_path_factory, brief_path):
    out = tmp_path_factory.mktemp("scale") / "idx"
    _build(brief_path, out)
    return load_index(out)


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


# --------------------------------------------------------------------------- ranking helpers


@pytest.mark.parametrize("k", [0, 1, 3, 7, 50, 200])
def test_top_order_equals_the_full_stable_sort(k):
    rng = np.random.default_rng(k)
    scores = rng.integers(0, 5, size=120).astype(np.float32)  # many ties
    scores[::17] = -np.inf
    expected = np.lexsort((np.arange(len(scores)), -scores))[:k]
    assert top_order(scores, k).tolist() == expected.tolist()


def test_segment_max_with_empty_segments():
    values = np.array([[1, 5, 2, 7, 3]], dtype=np.float32)
    lengths = np.array([0, 2, 0, 3, 0])
    out = segment_max(values, lengths, axis=1)
    assert out.tolist() == [[-np.inf, 5, -np.inf, 7, -np.inf]]
    assert late.spans(np.array([3, 9, 4]), np.array([5, 9, 6])).tolist() == [3, 4, 4, 5]


# --------------------------------------------------------------------------- token leg


def test_candidate_maxsim_equals_the_full_scan(handle):
    rng = np.random.default_rng(0)
    query = _unit(rng.normal(size=(6, handle.token_vectors.shape[1])))
    per_sentence = late.maxsim(query, handle.token_vectors, handle.token_offsets)
    full = np.full(len(handle.passages), -np.inf, dtype=np.float32)
    np.maximum.at(full, handle.sentence_owners, per_sentence)
    candidates = rng.choice(len(handle.passages), size=20, replace=False)
    got = late.maxsim_passages(
        query, handle.token_vectors, handle.token_offsets, handle.passage_sentences, candidates
    )
    np.testing.assert_allclose(got, full[candidates], rtol=1e-5, atol=1e-6)
    everyone = np.arange(len(handle.passages))
    got_all = late.maxsim_passages(
        query, handle.token_vectors, handle.token_offsets, handle.passage_sentences, everyone
    )
    np.testing.assert_allclose(got_all, full, rtol=1e-5, atol=1e-6)


def test_token_ranking_of_candidates_is_the_full_ranking_restricted(handle):
    qtokens = FakeEncoder().encode_tokens(["CENTCOM commander visit to Pakistan"])[0]
    full = token_ranking(handle, qtokens, len(handle.passages))
    pool = list(range(0, len(handle.passages), 3))
    restricted = [(i, s) for i, s in full if i in set(pool)]
    got = token_ranking(handle, qtokens, len(handle.passages), pool)
    assert [i for i, _ in got] == [i for i, _ in restricted]
    assert np.allclose([s for _, s in got], [s for _, s in restricted], atol=1e-6)


def test_search_scores_tokens_only_for_the_cheap_legs_candidates(handle, monkeypatch):
    seen: list[list[int] | None] = []
    original = token_ranking

    def spy(h, q, depth, candidates=None):
        seen.append(None if candidates is None else list(candidates))
        return original(h, q, depth, candidates)

    monkeypatch.setattr("rag.retrieval.retriever.token_ranking", spy)
    params = RetrievalParams.from_settings(Settings(candidates=5, token_candidates=8))
    retriever = Retriever(handle, FakeEncoder(), params)
    question = "security cooperation with the United States"
    retriever.search(question, retriever="hybrid")
    qvec = FakeEncoder().encode([question])[0]
    from rag.retrieval.retriever import bm25_ranking

    cheap = candidate_pool(
        dense_ranking(handle, qvec, 8),
        sentence_ranking(handle, qvec, 8),
        bm25_ranking(handle, question, 8),
    )
    assert seen == [cheap] and len(cheap) < len(handle.passages)


# --------------------------------------------------------------------------- int8 storage


def test_token_vectors_are_stored_as_int8(handle):
    assert handle.token_vectors.dtype == np.int8
    path = handle.path / "token_vectors.npy"
    float32_bytes = handle.token_vectors.size * 4
    assert path.stat().st_size <= 0.25 * float32_bytes + 256  # + the .npy header


def test_int8_round_trip_scores_within_tolerance():
    rng = np.random.default_rng(1)
    # Transformer token vectors have a few large components; mimic that.
    raw = rng.normal(size=(2000, 384))
    raw[:, 7] *= 8
    vectors = _unit(raw)
    back = late.dequantize(late.quantize(vectors))
    assert np.allclose(np.linalg.norm(back, axis=1), 1.0, atol=1e-5)
    cosine = np.einsum("ij,ij->i", vectors, back)
    assert cosine.min() > 0.999
    query = _unit(rng.normal(size=(8, 384)))
    offsets = np.arange(0, 2001, 20)
    exact = late.maxsim(query, vectors, offsets)
    packed = late.maxsim(query, late.quantize(vectors), offsets)
    assert np.abs(exact - packed).max() < 0.005


# --------------------------------------------------------------------------- HNSW


def test_hnsw_index_round_trips_and_the_manifest_says_so(tmp_path, brief_path):
    import faiss

    out = tmp_path / "idx"
    manifest = _build(brief_path, out, hnsw_min_passages=10, hnsw_m=16, hnsw_ef_search=40)
    on_disk = json.loads((out / "manifest.json").read_text())["dense_index"]
    passages = manifest.counts.passages
    assert on_disk == {
        "type": "IndexHNSWSQ",
        "metric": "inner_product",
        "vectors": passages,
        "hnsw_min_passages": 10,
        "m": 16,
        "ef_construction": 80,
        "ef_search": 40,
    }
    handle = load_index(out)
    index = handle.faiss_index
    assert isinstance(index, faiss.IndexHNSWSQ) and index.metric_type == faiss.METRIC_INNER_PRODUCT
    assert index.hnsw.efSearch == 40
    # The graph's codes are approximate; its hits are scored again from the float rows,
    # read from their file.
    assert handle.exact_passages.file is not None
    vectors = np.asarray(handle.passage_vectors)
    assert np.abs(index.reconstruct_n(0, index.ntotal) - vectors).max() > 1e-5  # 8-bit codes
    # Each passage's own vector finds itself first; scores are exact inner products.
    for i in range(0, passages, 7):
        ranking = dense_ranking(handle, vectors[i], 60)  # deeper than efSearch
        assert ranking[0][0] == i and abs(ranking[0][1] - 1.0) < 1e-4
        assert len(ranking) == min(60, passages)
    hits = Retriever(handle, FakeEncoder(), RetrievalParams.from_settings(Settings())).search(
        "CENTCOM commander visit", k=3
    )
    assert any("CENTCOM" in h.passage.text for h in hits)


def test_small_corpus_stays_flat(handle):
    import faiss

    assert isinstance(handle.faiss_index, faiss.IndexFlatIP)
    assert handle.manifest.dense_index.type == "IndexFlatIP"


# --------------------------------------------------------------------------- export


@pytest.mark.parametrize("fmt", ["qdrant", "opensearch"])
def test_export_writes_every_passage_with_its_vector_and_footnotes(handle, fmt):
    from rag.store.export import export_lines, opensearch_mapping

    lines = [json.loads(line) for line in export_lines(handle, fmt, batch=5)]
    if fmt == "opensearch":
        actions, docs = lines[::2], lines[1::2]
        assert [a["index"]["_id"] for a in actions] == [p.id for p in handle.passages]
        dim = opensearch_mapping(handle)["mappings"]["properties"]["vector"]["dimension"]
        assert dim == handle.faiss_index.d
    else:
        docs = [point["payload"] | {"vector": point["vector"]} for point in lines]
        assert [point["id"] for point in lines] == list(range(len(handle.passages)))
    assert len(docs) == len(handle.passages)
    vectors = handle.faiss_index.reconstruct_n(0, handle.faiss_index.ntotal)
    np.testing.assert_array_equal(vectors, handle.passage_vectors)
    for row, doc in enumerate(docs):
        passage = handle.passages[row]
        assert doc["passage_id"] == passage.id and doc["section_path"] == list(passage.section.path)
        assert [f["number"] for f in doc["footnotes"]] == [f.number for f in passage.footnotes]
        assert np.allclose(doc["vector"], vectors[row], atol=1e-6)


# --------------------------------------------------------------------------- sentence HNSW


def _sentence_graph(brief_path: Path, out: Path):
    """The brief with a sentence HNSW: the threshold below its row count, and the graph's
    share limit lifted so a test-sized corpus walks the graph instead of scanning."""
    return _build(brief_path, out, hnsw_min_sentences=10, hnsw_m=16, hnsw_ef_search=40)


def test_sentence_hnsw_round_trips_and_the_manifest_says_so(tmp_path, brief_path, handle):
    import faiss

    out = tmp_path / "idx"
    manifest = _sentence_graph(brief_path, out)
    on_disk = json.loads((out / "manifest.json").read_text())["sentence_index"]
    assert on_disk == {
        "type": "IndexHNSWSQ",
        "metric": "inner_product",
        "vectors": len(handle.sentences),
        "hnsw_min_sentences": 10,
        "m": 16,
        "ef_construction": 80,
        "ef_search": 40,
    }
    assert manifest.dense_index.type == "IndexFlatIP"  # each index has its own threshold
    graph = load_index(out)
    assert isinstance(graph.sentence_index, faiss.IndexHNSWSQ)
    assert graph.sentence_index.metric_type == faiss.METRIC_INNER_PRODUCT
    # The float rows are stored beside the graph, memory-mapped but read with pread; a flat
    # index's exact rows are its own.
    np.testing.assert_array_equal(graph.sentence_vectors, handle.sentence_vectors)
    assert not graph.sentence_vectors.flags.writeable
    assert graph.exact_sentences.file is not None and handle.exact_sentences.file is None
    rows = np.array([7, 3, 3, 0])
    np.testing.assert_array_equal(graph.exact_sentences.take(rows), handle.sentence_vectors[rows])
    np.testing.assert_array_equal(handle.exact_sentences.take(rows), handle.sentence_vectors[rows])


def test_small_corpus_keeps_the_exact_sentence_scan(handle):
    import faiss

    assert isinstance(handle.sentence_index, faiss.IndexFlatIP)
    assert handle.manifest.sentence_index.type == "IndexFlatIP"
    assert handle.manifest.sentence_index.hnsw_min_sentences == Settings().hnsw_min_sentences


def test_sentence_graph_ranking_finds_the_exact_top(tmp_path, brief_path, handle, monkeypatch):
    import dataclasses

    from rag.store.vectors import ExactVectors, build_sentences

    monkeypatch.setattr("rag.retrieval.retriever.GRAPH_MAX_SHARE", 1.0)
    out = tmp_path / "idx"
    _sentence_graph(brief_path, out)
    graph = load_index(out)
    # Each sentence's own vector finds its passage first, with cosine 1.
    for row in range(0, len(graph.sentences), 5):
        top = sentence_ranking(graph, graph.sentence_vectors[row], 5)[0]
        assert top[0] == graph.sentence_owners[row] and abs(top[1] - 1.0) < 1e-4
    hits = Retriever(graph, FakeEncoder(), RetrievalParams.from_settings(Settings())).search(
        "CENTCOM commander visit", k=3
    )
    assert any("CENTCOM" in h.passage.text for h in hits)
    # The fake encoder's vectors are nearly orthogonal, which no graph navigates; on
    # Gaussian vectors (as a model's are spread) the walk equals the exact scan.
    rng = np.random.default_rng(3)
    vectors = _unit(rng.normal(size=handle.sentence_vectors.shape))
    index = build_sentences(vectors, dense_params(hnsw_min_sentences=10, hnsw_ef_search=40))
    walk = dataclasses.replace(graph, sentence_index=index, exact_sentences=ExactVectors(vectors))
    scan = dataclasses.replace(handle, exact_sentences=ExactVectors(vectors))
    for qvec in _unit(rng.normal(size=(10, vectors.shape[1]))):
        exact, walked = sentence_ranking(scan, qvec, 5), sentence_ranking(walk, qvec, 5)
        assert [i for i, _ in walked] == [i for i, _ in exact]
        assert np.allclose([s for _, s in walked], [s for _, s in exact], atol=1e-5)


def test_sentence_graph_search_falls_back_to_the_scan_when_deep(tmp_path, brief_path, handle):
    # Asking for every passage (a section filter does) would walk most of the graph.
    out = tmp_path / "idx"
    _sentence_graph(brief_path, out)
    graph = load_index(out)
    qvec = FakeEncoder().encode(["security cooperation"])[0]
    everyone = len(handle.passages)
    assert sentence_ranking(graph, qvec, everyone) == sentence_ranking(handle, qvec, everyone)


def test_damaged_sentence_index_is_refused(tmp_path, brief_path):
    from rag.errors import IndexCorrupt

    out = tmp_path / "idx"
    _sentence_graph(brief_path, out)
    path = out / "sentences.faiss"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt, match=r"sentences\.faiss.*checksum.*rag index"):
        load_index(out)
    path.write_bytes(bytes(data[: len(data) // 3]))  # cut short: faiss cannot read it
    with pytest.raises(IndexCorrupt, match=r"sentences\.faiss in .* cannot be read.*rag index"):
        load_index(out, verify=False)


# --------------------------------------------------------------------------- token kernel


def test_small_token_table_is_held_as_unit_floats(handle):
    assert handle.token_table.dtype == np.float32
    assert handle.token_table.shape == handle.token_vectors.shape
    np.testing.assert_allclose(np.linalg.norm(handle.token_table, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(handle.token_table, late.dequantize(handle.token_vectors))


def test_large_token_table_stays_memory_mapped_int8(handle, monkeypatch):
    monkeypatch.setattr("rag.store.late.FLOAT_TABLE_MAX_BYTES", 0)
    table = late.query_table(handle.token_vectors)
    assert table is handle.token_vectors and isinstance(table, np.memmap)


def test_float_table_and_whole_table_give_the_int8_scores(handle):
    rng = np.random.default_rng(5)
    query = _unit(rng.normal(size=(7, handle.token_vectors.shape[1])))
    args = (handle.token_offsets, handle.passage_sentences)
    for candidates in (
        np.sort(rng.choice(len(handle.passages), size=9, replace=False)),
        np.arange(len(handle.passages)),  # every passage: the table itself, no gather
        np.arange(3, 11),  # one run of consecutive passages
    ):
        codes = late.maxsim_passages(query, handle.token_vectors, *args, candidates)
        floats = late.maxsim_passages(query, handle.token_table, *args, candidates)
        np.testing.assert_allclose(floats, codes, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- footnote HNSW


def test_footnote_hnsw_is_recorded_and_gates_as_the_scan(tmp_path, brief_path, handle):
    import faiss

    from rag.errors import IndexCorrupt
    from rag.retrieval.retriever import best_footnote, footnote_ranking

    out = tmp_path / "idx"
    _build(brief_path, out, hnsw_min_footnotes=5, hnsw_m=16, hnsw_ef_search=40)
    on_disk = json.loads((out / "manifest.json").read_text())["footnote_index"]
    assert on_disk["type"] == "IndexHNSWSQ" and on_disk["hnsw_min_footnotes"] == 5
    assert on_disk["vectors"] == len(handle.footnote_keys)
    assert handle.manifest.footnote_index.type == "IndexFlatIP"
    graph = load_index(out)
    assert isinstance(graph.footnote_index, faiss.IndexHNSWSQ)
    assert graph.exact_footnotes.file is not None
    np.testing.assert_array_equal(graph.footnote_vectors, handle.footnote_vectors)
    params = RetrievalParams.from_settings(Settings())
    encoder = FakeEncoder()
    # A citation's own vector is its best match, through the graph as through the scan.
    for row in range(len(handle.footnote_keys)):
        vector = handle.footnote_vectors[row]
        assert abs(best_footnote(graph, vector) - best_footnote(handle, vector)) < 1e-5
    for question in ("Which source reports the CENTCOM visit?", "Dawn newspaper report"):
        qvec = encoder.encode([question])[0]
        assert footnote_ranking(graph, question, qvec, params, 0.0) == footnote_ranking(
            handle, question, qvec, params, 0.0
        )
    path = out / "footnotes.faiss"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt, match=r"footnotes\.faiss.*checksum.*rag index"):
        load_index(out)


# --------------------------------------------------------------------------- kernels


def test_fused_notes_is_rrf_of_the_full_rankings():
    from rag.retrieval.retriever import fused_notes, rrf
    from rag.store.ranks import top_order

    rng = np.random.default_rng(11)
    for n in (1, 7, 300):
        # Rounded scores, so ties (broken by index) occur in both lists.
        sims = np.round(rng.normal(size=n), 1).astype(np.float32)
        lexical = np.maximum(np.round(rng.normal(size=n), 1), 0.0)
        dense = [(int(i), float(sims[i])) for i in top_order(sims, n)]
        lex = [(int(i), float(lexical[i])) for i in top_order(lexical, n) if lexical[i] > 0]
        for depth in (1, 5, n):
            want = rrf([(dense, 1.0), (lex, 1.0)], 60)[:depth]
            assert fused_notes(sims, lexical, 60, depth) == want
            assert fused_notes(sims, None, 60, depth) == rrf([(dense, 1.0)], 60)[:depth]


def test_row_norms_read_from_the_file_equal_the_in_memory_ones(tmp_path):
    rng = np.random.default_rng(3)
    codes = rng.integers(-127, 128, size=(1000, 24), dtype=np.int8)
    codes[7] = 0  # an empty row's norm is 1, as the query-time division takes it
    np.save(tmp_path / "t.npy", codes, allow_pickle=False)
    mapped = np.load(tmp_path / "t.npy", mmap_mode="r", allow_pickle=False)
    floats = codes.astype(np.float32)
    want = np.sqrt(np.einsum("ij,ij->i", floats, floats))
    want[want == 0] = 1.0
    for table in (codes, mapped):
        np.testing.assert_array_equal(late.row_norms(table, chunk=64), want)
    # a slice of the map keeps the file's name and offset but not its rows
    np.testing.assert_array_equal(late.row_norms(mapped[100:300], chunk=64), want[100:300])
    assert late.row_norms(floats).shape == (0,)


def test_blocked_int8_kernel_gives_the_per_query_scores(handle, monkeypatch):
    """With precomputed norms the int8 rows are converted and multiplied a block at a time;
    the scores equal the unblocked computation's to float rounding, and a passage repeated
    elsewhere in the table (another block, another place in its block) scores the same."""
    monkeypatch.setattr("rag.store.late.BLOCK_CELLS", 16)  # blocks of 32 rows: many of them
    rng = np.random.default_rng(9)
    query = _unit(rng.normal(size=(5, handle.token_vectors.shape[1])))
    codes = np.asarray(handle.token_vectors)
    norms = late.row_norms(codes)
    args = (handle.token_offsets, handle.passage_sentences)
    for candidates in (np.sort(rng.choice(len(handle.passages), 9, replace=False)), np.arange(3)):
        plain = late.maxsim_passages(query, codes, *args, candidates)
        blocked = late.maxsim_passages(query, codes, *args, candidates, norms)
        np.testing.assert_allclose(blocked, plain, rtol=1e-6, atol=1e-6)


def test_a_large_table_is_opened_with_its_norms_and_ranks_as_the_float_one(handle, monkeypatch):
    monkeypatch.setattr("rag.store.late.FLOAT_TABLE_MAX_BYTES", 0)
    mapped = load_index(handle.path)
    assert mapped.token_table.dtype == np.int8
    assert mapped.token_norms.shape == (len(mapped.token_vectors),)
    assert handle.token_norms.shape == (0,)  # the small table is unit floats: no norms
    qtokens = FakeEncoder().encode_tokens(["CENTCOM commander visit to Pakistan"])[0]
    pool = list(range(0, len(handle.passages), 2))
    got = token_ranking(mapped, qtokens, 20, pool)
    want = token_ranking(handle, qtokens, 20, pool)
    assert [i for i, _ in got] == [i for i, _ in want]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in want], atol=1e-5)


def test_identical_passages_score_identically_wherever_their_rows_fall():
    rng = np.random.default_rng(4)
    sentence = rng.integers(-127, 128, size=(37, 48), dtype=np.int8)
    filler = rng.integers(-127, 128, size=(1000, 48), dtype=np.int8)
    # one passage of one sentence at row 0, the same passage again at row 1,037
    codes = np.vstack([sentence, filler, sentence])
    offsets = np.array([0, 37, 1037, 1074])
    passage_sentences = np.array([0, 1, 2, 3])
    norms = late.row_norms(codes)
    for tokens in (1, 3, 7, 12, 40):
        query = _unit(rng.normal(size=(tokens, 48)))
        got = late.maxsim_passages(query, codes, offsets, passage_sentences, np.arange(3), norms)
        assert got[0] == got[2]


@pytest.mark.parametrize(("tokens", "rows"), [(1, 512), (3, 256), (7, 128), (12, 64), (40, 32)])
def test_block_rows_keep_rows_times_tokens_small(tokens, rows):
    assert late.block_rows(tokens) == rows


def test_a_float_table_is_multiplied_in_blocks_with_the_same_scores(handle, monkeypatch):
    """The bundled brief's table is unit floats; its product runs in blocks too (the last
    padded), and identical rows score identically wherever they fall."""
    rng = np.random.default_rng(12)
    query = _unit(rng.normal(size=(6, handle.token_table.shape[1])))
    whole = handle.token_table @ query.T
    monkeypatch.setattr("rag.store.late.BLOCK_CELLS", 16)
    blocked = late._products(handle.token_table, query)
    np.testing.assert_allclose(blocked, whole, rtol=1e-5, atol=1e-6)
    twice = np.vstack([handle.token_table[:5], handle.token_table[:40], handle.token_table[:5]])
    sims = late._products(twice, query)
    np.testing.assert_array_equal(sims[:5], sims[45:])


def test_a_handle_made_without_norms_has_none(handle):
    from dataclasses import fields

    from rag.store.handle import IndexHandle

    given = {
        f.name: getattr(handle, f.name) for f in fields(IndexHandle) if f.name != "token_norms"
    }
    assert IndexHandle(**given).token_norms.shape == (0,)


def test_a_scope_is_scored_exactly_not_walked(tmp_path, brief_path, handle, monkeypatch):
    """A scoped search (a brief, a section) asks for every passage it allows; behind a
    graph those passages and their sentences are scored from the float rows, without a
    walk (asking a 100k library's graph for every passage took 2.6 s), and rank as the flat
    index's exact scan does."""
    out = tmp_path / "idx"
    _build(brief_path, out, hnsw_min_passages=10, hnsw_min_sentences=10)
    graph = load_index(out)
    walks: list[int] = []
    walk = vectors.search
    monkeypatch.setattr(vectors, "search", lambda *a: walks.append(1) or walk(*a))
    everyone = len(handle.passages)
    rng = np.random.default_rng(8)
    for size in (1, 7, everyone // 2):
        allowed = {int(i) for i in rng.choice(everyone, size=size, replace=False)}
        for question in ("security cooperation", "higher education funding"):
            qvec = FakeEncoder().encode([question])[0]
            for rank in (dense_ranking, sentence_ranking):
                want = [(i, s) for i, s in rank(handle, qvec, everyone) if i in allowed]
                walks.clear()  # the flat index's scan above is a search too
                got = rank(graph, qvec, everyone, allowed)
                assert not walks, rank.__name__
                assert [i for i, _ in got] == [i for i, _ in want], rank.__name__
                np.testing.assert_allclose([s for _, s in got], [s for _, s in want], atol=1e-6)


def test_a_graphs_code_error_bounds_its_cosines(tmp_path, brief_path):
    """The 8-bit graph's cosines are within ``code_error`` of the exact ones, which is what
    lets the sentence leg skip reading passages that cannot reach its top."""
    from rag.store.vectors import search

    out = tmp_path / "idx"
    _build(brief_path, out, hnsw_min_sentences=10)
    graph = load_index(out)
    exact = graph.exact_sentences
    assert exact.half_steps is not None and (exact.half_steps > 0).all()
    rng = np.random.default_rng(11)
    for qvec in _unit(rng.normal(size=(20, graph.sentence_index.d))).astype(np.float32):
        scores, ids = search(graph.sentence_index, qvec, 30)
        found = ids >= 0
        error = np.abs(scores[found] - exact.take(ids[found]) @ qvec)
        assert error.max() <= exact.code_error(qvec)
        assert error.max() > 0  # the codes are approximate: the bound is not vacuous


def test_export_of_a_graph_index_writes_the_float_vectors_not_its_codes(tmp_path, brief_path):
    from rag.store.export import export_lines

    out = tmp_path / "idx"
    _build(brief_path, out, hnsw_min_passages=10)
    graph = load_index(out)
    floats = np.load(out / "passage_vectors.npy", allow_pickle=False)
    points = [json.loads(line) for line in export_lines(graph, "qdrant", batch=7)]
    assert len(points) == len(floats) == len(graph.passages)
    for point in points:
        np.testing.assert_allclose(point["vector"], floats[point["id"]], atol=1e-6)
