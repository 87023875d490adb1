"""BM25 over passages (and footnotes) with bm25s; saved as JSON + .npy, never pickle."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from rag.text import TYPOGRAPHY_FOLD, fold_typography

if TYPE_CHECKING:
    import bm25s
    import numpy as np
    import Stemmer


class BM25Params(BaseModel):
    """How a BM25 index scores and tokenizes. The builder reads this object and the manifest
    records the same object, so the two cannot disagree."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Literal["robertson", "lucene", "bm25l", "bm25+", "atire"]
    k1: float
    b: float
    stemmer: str
    stopwords: str
    # How text is folded before tokenizing (rag.text.TYPOGRAPHY_FOLD); None for indexes
    # built before folding, whose tokens keep curly quotes, dashes and soft hyphens, so the
    # manifest check calls them stale.
    fold: str | None = None


BM25_PARAMS = BM25Params(
    method="lucene", k1=1.2, b=0.75, stemmer="english", stopwords="en", fold=TYPOGRAPHY_FOLD
)


def import_bm25s() -> None:
    """Import bm25s without numba when numba is not loaded yet. bm25s imports numba
    whenever it is installed (ranx, the metrics cross-check, installs it) for a backend we
    never ask for (we score with NumPy, ``backend="numpy"``); in a server that import cost
    85 MB of RSS and 0.3 s. Hiding numba for the one import makes bm25s take its no-numba
    path; numba stays importable afterwards for whoever does use it."""
    import sys

    if "bm25s" in sys.modules or "numba" in sys.modules:
        return
    sys.modules["numba"] = None  # type: ignore[assignment]  # the import system's "absent"
    try:
        import bm25s  # noqa: F401
    finally:
        del sys.modules["numba"]


@lru_cache(maxsize=2)
def _stemmer(language: str) -> Stemmer.Stemmer:
    import Stemmer

    return Stemmer.Stemmer(language)


def tokenize(texts: Sequence[str], params: BM25Params = BM25_PARAMS) -> list[list[str]]:
    """Stemmed words without stopwords: the one tokenizer of BM25 and the answer gate.
    Typography is folded first (``params.fold``), so ``Russia’s`` and ``Russia's``, or a
    word split by a soft hyphen and the same word typed whole, give the same tokens."""
    import_bm25s()
    import bm25s

    if params.fold is not None and params.fold != TYPOGRAPHY_FOLD:
        raise ValueError(f"unknown BM25 text fold {params.fold!r}")
    folded = [fold_typography(t) for t in texts] if params.fold else list(texts)
    tokens: list[list[str]] = bm25s.tokenize(
        folded,
        stopwords=params.stopwords,
        stemmer=_stemmer(params.stemmer),
        return_ids=False,
        show_progress=False,
    )
    return tokens


# bm25s.tokenize's defaults, which tokenize() keeps: lower-cased, words of two or more word
# characters, its English stopwords.
_WORDS = re.compile(r"(?u)\b\w\w+\b").findall
# The same split for ASCII text, where a word character is the same in either mode: twice
# as fast, and most texts are ASCII.
_ASCII_WORDS = re.compile(r"\b\w\w+\b", re.ASCII).findall
# Stems remembered per word for queries; past this many the memory starts again.
STEM_CACHE_WORDS = 50_000


@lru_cache(maxsize=2)
def stopwords(name: str) -> frozenset[str] | None:
    """The stopwords bm25s.tokenize drops for ``name`` (None: a list the fast paths here do
    not know, so their texts go through bm25s itself)."""
    import_bm25s()  # the package first, without numba
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) if name in ("en", "english") else None


def words(text: str, params: BM25Params = BM25_PARAMS) -> list[str]:
    """The words of ``text`` that :func:`tokenize` stems or drops as stopwords, in order:
    typography folded (``params.fold``), lower-cased, split as bm25s splits."""
    if params.fold is not None and params.fold != TYPOGRAPHY_FOLD:
        raise ValueError(f"unknown BM25 text fold {params.fold!r}")
    folded = (fold_typography(text) if params.fold else text).lower()
    return _ASCII_WORDS(folded) if folded.isascii() else _WORDS(folded)


def stem(word: str, params: BM25Params = BM25_PARAMS) -> str:
    """One word's stem, as :func:`tokenize` stems it."""
    found: str = _stemmer(params.stemmer).stemWord(word)
    return found


@lru_cache(maxsize=2)
def _stems(language: str) -> dict[str, str]:
    return {}


def query_tokens(text: str, params: BM25Params = BM25_PARAMS) -> list[str]:
    """``tokenize([text], params)[0]`` for one question, token for token, without bm25s's
    per-call set-up (three progress bars, a vocabulary for the batch): the same split,
    stopwords and stemmer, each word's stem remembered. A question's words cost a few
    microseconds instead of a third of a millisecond, on the event loop of every search."""
    dropped = stopwords(params.stopwords)
    if dropped is None or (params.fold is not None and params.fold != TYPOGRAPHY_FOLD):
        return tokenize([text], params)[0]
    stems = _stems(params.stemmer)
    out: list[str] = []
    for word in words(text, params):
        if word in dropped:
            continue
        found = stems.get(word)
        if found is None:
            if len(stems) >= STEM_CACHE_WORDS:
                stems.clear()
            found = stems[word] = stem(word, params)
        out.append(found)
    return out


# Stands in for a text with no indexable word (only stopwords, or no footnotes at all):
# bm25s cannot index an empty vocabulary, and this token never occurs in a query.
_PLACEHOLDER = "\x00empty"


def build(texts: Sequence[str], params: BM25Params = BM25_PARAMS) -> bm25s.BM25:
    import_bm25s()
    import bm25s

    tokens = [t or [_PLACEHOLDER] for t in tokenize(texts, params)] if texts else [[_PLACEHOLDER]]
    retriever = bm25s.BM25(method=params.method, k1=params.k1, b=params.b)
    retriever.index(tokens, show_progress=False)
    return retriever


def save(retriever: bm25s.BM25, folder: Path) -> None:
    retriever.save(str(folder), allow_pickle=False)


def load(folder: Path) -> bm25s.BM25:
    import_bm25s()
    import bm25s

    retriever: bm25s.BM25 = bm25s.BM25.load(str(folder), allow_pickle=False)
    return retriever


def scores(
    retriever: bm25s.BM25, query: str, params: BM25Params = BM25_PARAMS
) -> np.ndarray | None:
    """The BM25 score of every document for ``query`` (None when the query has no terms
    or the index no documents)."""
    tokens = query_tokens(query, params)
    n_docs = int(retriever.scores["num_docs"])
    if not tokens or n_docs == 0:
        return None
    found: np.ndarray = retriever.get_scores(tokens)
    return found


def ranked(found: np.ndarray, size: int) -> np.ndarray:
    """The documents with a positive score in ``found``, best first, at most ``size``; ties
    keep document order, so equal scores always rank the same way. Selecting among the
    positive scores alone is the same ranking, and on a 100k-passage library a selection
    over every score (mostly equal zeros, which slow numpy's partition) took 7 ms."""
    import numpy as np

    from rag.store.ranks import top_order

    held = np.flatnonzero(found > 0)
    order: np.ndarray = held[top_order(found[held], size)]
    return order


def search(
    retriever: bm25s.BM25, query: str, size: int, params: BM25Params = BM25_PARAMS
) -> list[tuple[int, float]]:
    """(document index, score) pairs with a positive score, best first. ``params`` must be
    those the index was built with (the query is tokenized the same way)."""
    found = scores(retriever, query, params)
    if found is None:
        return []
    return [(int(i), float(found[i])) for i in ranked(found, size)]
