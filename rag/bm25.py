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


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Stemmed words without stopwords: the one tokenizer of BM25 and the answer gate."""
    import bm25s

    return bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False
    )


# Stands in for a text with no indexable word (only stopwords, or no footnotes at all):
# bm25s cannot index an empty vocabulary, and this token never occurs in a query.
_PLACEHOLDER = "\x00empty"


def build(texts: Sequence[str]) -> bm25s.BM25:
    import bm25s

    tokens = [t or [_PLACEHOLDER] for t in tokenize(texts)] if texts else [[_PLACEHOLDER]]
    retriever = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
    retriever.index(tokens, show_progress=False)
    return retriever


def save(retriever: bm25s.BM25, folder: Path) -> None:
    retriever.save(str(folder), allow_pickle=False)


def load(folder: Path) -> bm25s.BM25:
    import bm25s

    return bm25s.BM25.load(str(folder), allow_pickle=False)


def search(retriever: bm25s.BM25, query: str, size: int) -> list[tuple[int, float]]:
    """(document index, score) pairs with a positive score, best first."""
    tokens = tokenize([query])
    n_docs = retriever.scores["num_docs"]
    if not tokens or not tokens[0] or n_docs == 0:
        return []
    import numpy as np

    scores = retriever.get_scores(tokens[0])
    # Ties keep document order, so equal scores always rank the same way.
    order = np.lexsort((np.arange(len(scores)), -scores))[: min(size, n_docs)]
    return [(int(i), float(scores[i])) for i in order if scores[i] > 0]
