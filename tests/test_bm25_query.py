"""The query tokenizer (rag.store.bm25.query_tokens) gives bm25s.tokenize's tokens."""

from __future__ import annotations

import pytest

from rag.store import bm25

TEXTS = [
    "What did the U.S. commit to higher education in Pakistan?",
    "How did Pakistan help end the Cold War — and who paid for it?",
    "Russia’s co\u00adoperation with China, 2024–25",
    "I'm sure they don't; can't we?",
    "naïve café ÉTÉ straße İstanbul",
    "\u212aelvin \u212a9",  # the Kelvin sign lower-cases to an ASCII k
    "".join(map(chr, range(128))) + " ".join(map(chr, range(128))),
    "x1 22 333 __ a_b snake_case CamelCase",
    "東京 都市 and ١٢٣",
    "the of and a an",  # stopwords only
    "a",
    "",
    "   ",
    "recommendations recommended recommending Recommends",
]


@pytest.mark.parametrize("text", TEXTS)
def test_query_tokens_are_the_build_tokenizers(text: str) -> None:
    assert bm25.query_tokens(text) == bm25.tokenize([text])[0]


def test_query_tokens_keep_their_stems_after_the_memory_starts_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bm25, "STEM_CACHE_WORDS", 3)
    bm25._stems(bm25.BM25_PARAMS.stemmer).clear()
    for text in TEXTS:
        assert bm25.query_tokens(text) == bm25.tokenize([text])[0]
    assert len(bm25._stems(bm25.BM25_PARAMS.stemmer)) <= 3


def test_a_stopword_list_it_does_not_know_goes_through_bm25s() -> None:
    params = bm25.BM25_PARAMS.model_copy(update={"stopwords": "de"})
    text = "Die Zusammenarbeit der Länder und die Hilfe"
    assert bm25.query_tokens(text, params) == bm25.tokenize([text], params)[0]


def test_search_scores_equal_bm25s_own_query_path() -> None:
    index = bm25.build(TEXTS)
    for text in TEXTS:
        tokens = bm25.tokenize([text])[0]
        found = bm25.search(index, text, len(TEXTS))
        if not tokens:
            assert found == []
            continue
        scores = index.get_scores(tokens)
        assert found == [(i, float(scores[i])) for i, _ in found]
        assert {i for i, _ in found} == {i for i, s in enumerate(scores) if s > 0}


def test_bm25s_is_imported_without_numba_and_numba_stays_importable():
    """bm25s imports numba whenever it is installed; we never use its numba backend, and
    in a server the import cost 85 MB (rag.store.bm25.import_bm25s)."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from rag.store import bm25\n"
        "index = bm25.build(['Washington and Islamabad signed a trade accord.'])\n"
        "assert bm25.search(index, 'trade accord', 1)\n"
        "assert 'numba' not in sys.modules, 'numba was imported'\n"
        "import numba, bm25s\n"
        "assert numba.njit and not bm25s.NUMBA_AVAILABLE\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
