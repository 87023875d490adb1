"""The token table of a large index is read with ``pread`` (rag.store.rowfile), not through
its memory map: the same rows, the same scores, and no page of the map in the process."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from rag.errors import IndexCorrupt
from rag.retrieval.retriever import token_ranking
from rag.store import late
from rag.store.index import build_index, load_index
from rag.store.rowfile import RowFile
from tests.conftest import FakeEncoder, chunk_params, dense_params


def _saved(tmp_path: Path, array: np.ndarray) -> np.ndarray:
    path = tmp_path / "table.npy"
    np.save(path, array, allow_pickle=False)
    table: np.ndarray = np.load(path, mmap_mode="r", allow_pickle=False)
    return table


def test_ranges_are_the_rows_of_the_map_in_the_order_asked(tmp_path):
    rng = np.random.default_rng(3)
    array = rng.integers(-127, 128, size=(500, 24), dtype=np.int8)
    table = _saved(tmp_path, array)
    file = RowFile.of(table)
    assert file is not None and len(file) == 500
    starts = np.array([410, 0, 37, 37, 499, 120])
    stops = np.array([450, 3, 37, 60, 500, 121])  # one empty range, the last row
    want = np.vstack([array[a:b] for a, b in zip(starts, stops, strict=True)])
    np.testing.assert_array_equal(file.ranges(starts, stops), want)
    assert file.ranges(np.array([], np.int64), np.array([], np.int64)).shape == (0, 24)


def test_only_a_map_of_a_whole_file_has_a_row_file(tmp_path):
    table = _saved(tmp_path, np.ones((10, 4), dtype=np.int8))
    assert RowFile.of(table[2:5]) is None  # a slice keeps its parent's file name
    assert RowFile.of(np.asarray(table)) is None
    assert RowFile.of(np.ones((10, 4), dtype=np.int8)) is None


def test_a_file_cut_short_after_opening_is_a_corrupt_index(tmp_path):
    table = _saved(tmp_path, np.ones((100, 8), dtype=np.int8))
    file = RowFile.of(table)
    assert file is not None
    os.truncate(file.path, file.offset + 10 * 8)
    with pytest.raises(IndexCorrupt, match="shorter than it was"):
        file.ranges(np.array([5]), np.array([50]))


def test_a_removed_file_is_still_read_by_the_handle_that_opened_it(tmp_path):
    array = np.arange(60, dtype=np.int8).reshape(10, 6)
    table = _saved(tmp_path, array)
    file = RowFile.of(table)
    assert file is not None
    del table
    os.unlink(tmp_path / "table.npy")  # as a reload sweeps an old build's folder
    np.testing.assert_array_equal(file.ranges(np.array([7]), np.array([9])), array[7:9])


def _mapped_kb(path: Path) -> int:
    """Resident kB of this process's maps of ``path`` (Linux ``/proc/self/smaps``)."""
    target, total, inside = str(path.resolve()), 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and len(fields) >= 5 and ":" not in fields[0]:
            inside = len(fields) == 6 and fields[5] == target
        elif inside and fields[0] == "Rss:":
            total += int(fields[1])
    return total


def _build(brief_path: Path, out: Path, *, graphs: bool = False) -> Path:
    """The brief indexed with the fake encoder; ``graphs``: every vector index a graph."""
    dense = (
        dense_params(hnsw_min_passages=10, hnsw_min_sentences=10, hnsw_min_footnotes=5)
        if graphs
        else dense_params()
    )
    build_index(
        [brief_path], out, FakeEncoder(), chunk_params(), model_path="/nonexistent", dense=dense
    )
    return out


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="Linux /proc only")
def test_a_large_table_is_searched_without_mapping_its_pages(tmp_path, brief_path, monkeypatch):
    monkeypatch.setattr("rag.store.late.FLOAT_TABLE_MAX_BYTES", 0)  # the int8 map, read
    _build(brief_path, tmp_path / "index")
    handle = load_index(tmp_path / "index")
    assert handle.token_file is not None
    table = handle.path / "token_vectors.npy"
    qtokens = FakeEncoder().encode_tokens(["CENTCOM commander visit to Pakistan"])[0]
    pool = list(range(len(handle.passages)))
    got = token_ranking(handle, qtokens, 20, pool)
    assert _mapped_kb(table) == 0
    # What the map would have given: the same passages, the same scores.
    want = late.maxsim_passages(
        qtokens,
        np.asarray(handle.token_table),
        handle.token_offsets,
        handle.passage_sentences,
        np.asarray(pool),
        handle.token_norms,
    )
    assert _mapped_kb(table) > 0  # the check can see a mapped page
    order = sorted(range(len(pool)), key=lambda i: (-want[i], i))[:20]
    assert [i for i, _ in got] == [pool[i] for i in order]
    np.testing.assert_allclose([s for _, s in got], want[order], rtol=1e-6)


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="Linux /proc only")
def test_graph_hits_are_scored_from_the_float_rows_without_mapping_them(tmp_path, brief_path):
    from rag.config import Settings
    from rag.retrieval.retriever import RetrievalParams, Retriever

    out = _build(brief_path, tmp_path / "index", graphs=True)
    handle = load_index(out)
    exact = (handle.exact_passages, handle.exact_sentences, handle.exact_footnotes)
    assert all(e.file is not None for e in exact)
    retriever = Retriever(handle, FakeEncoder(), RetrievalParams.from_settings(Settings()))
    stored = [handle.path / f"{kind}_vectors.npy" for kind in ("passage", "sentence", "footnote")]
    floats = np.load(stored[0], allow_pickle=False)  # read, not mapped
    for question in ("CENTCOM commander visit", "Which source reports the visit?"):
        hits = retriever.search(question, k=5)
        # The cosine shown is the float vectors' exact one, not the 8-bit codes'.
        qvec = FakeEncoder().encode([question])[0]
        for hit in hits:
            if hit.dense_score is not None:
                row = handle.by_id[hit.passage.id]
                want = float(floats[row] @ qvec)
                assert hit.dense_score == pytest.approx(want, abs=2e-6)
    assert [_mapped_kb(path) for path in stored] == [0, 0, 0]


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="Linux /proc only")
def test_reloading_a_graph_index_again_and_again_leaks_no_file(tmp_path, brief_path, monkeypatch):
    """Each handle of a large index holds four open files (the token table, the float rows
    behind three graphs); a reload storm must not pile them up."""
    import gc

    monkeypatch.setattr("rag.store.late.FLOAT_TABLE_MAX_BYTES", 0)
    out = _build(brief_path, tmp_path / "index", graphs=True)
    handle = load_index(out)
    assert handle.token_file is not None and handle.exact_sentences.file is not None
    del handle
    gc.collect()
    before = len(list(Path("/proc/self/fd").iterdir()))
    for _ in range(25):
        load_index(out)
    gc.collect()
    assert len(list(Path("/proc/self/fd").iterdir())) <= before


def test_tables_within_the_budget_are_read_through_their_maps(tmp_path, brief_path, monkeypatch):
    """All or none: every large table is read through its map when their total fits
    ``mapped_budget``, each with ``pread`` when it does not; the hits are the same."""
    from rag.config import Settings
    from rag.retrieval.retriever import RetrievalParams, Retriever

    monkeypatch.setattr("rag.store.late.FLOAT_TABLE_MAX_BYTES", 0)  # the int8 map, read
    out = _build(brief_path, tmp_path / "index", graphs=True)
    tables = [
        "token_vectors.npy",
        *(f"{k}_vectors.npy" for k in ("passage", "sentence", "footnote")),
    ]
    total = sum((out / name).stat().st_size for name in tables)
    mapped = load_index(out, mapped_budget=total)
    read = load_index(out, mapped_budget=total // 2)  # over: none mapped, not some
    exact = ("exact_passages", "exact_sentences", "exact_footnotes")
    assert mapped.token_file is None and all(getattr(mapped, e).file is None for e in exact)
    assert read.token_file is not None and all(getattr(read, e).file is not None for e in exact)
    params = RetrievalParams.from_settings(Settings())
    for question in ("CENTCOM commander visit to Pakistan", "Which source reports the visit?"):
        hits = [Retriever(h, FakeEncoder(), params).search(question, k=8) for h in (mapped, read)]
        assert [(h.passage.id, h.score, h.dense_score) for h in hits[0]] == [
            (h.passage.id, h.score, h.dense_score) for h in hits[1]
        ]
    assert _mapped_kb(out.resolve() / "token_vectors.npy") > 0  # the mapped handle's reads


def test_an_engine_reads_through_maps_within_its_settings_budget(tmp_path, brief_path, monkeypatch):
    from rag.config import Settings
    from rag.engine import open_engine

    monkeypatch.setattr("rag.store.late.FLOAT_TABLE_MAX_BYTES", 0)
    out = _build(brief_path, tmp_path / "index")
    settings = Settings(index_dir=out, model="/nonexistent", mapped_read_mb=0)
    engines = [
        open_engine(settings.model_copy(update={"mapped_read_mb": mb}), encoder=FakeEncoder())
        for mb in (0, 256)
    ]
    assert engines[0].handle.token_file is not None  # 0: always pread
    assert engines[1].handle.token_file is None
