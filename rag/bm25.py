"""BM25 over passages (and footnotes) with bm25s; saved as JSON + .npy, never pickle."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import bm25s

BM25_PARAMS: dict[str, str | float] = {
    "method": "lucene",
    "k1": 1.2,
    "b": 0.75,
    "stemmer": "english",
    "stopwords": "en",
}


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def _tokens(texts: Sequence[str]) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False
    )


def build(texts: Sequence[str]) -> bm25s.BM25:
    import bm25s

    retriever = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
    retriever.index(_tokens(texts), show_progress=False)
    return retriever


def save(retriever: bm25s.BM25, folder: Path) -> None:
    retriever.save(str(folder), allow_pickle=False)


def load(folder: Path) -> bm25s.BM25:
    import bm25s

    return bm25s.BM25.load(str(folder), allow_pickle=False)


def search(retriever: bm25s.BM25, query: str, size: int) -> list[tuple[int, float]]:
    """(document index, score) pairs with a positive score, best first."""
    tokens = _tokens([query])
    n_docs = retriever.scores["num_docs"]
    if not tokens or not tokens[0] or n_docs == 0:
        return []
    scores = retriever.get_scores(tokens[0])
    order = scores.argsort()[::-1][: min(size, n_docs)]
    return [(int(i), float(scores[i])) for i in order if scores[i] > 0]
