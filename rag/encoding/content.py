"""Which word pieces of an encoded text carry content: the ones whose vectors late
interaction (MaxSim) compares. Special tokens, punctuation and stopwords are left out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from rag.store.bm25 import import_bm25s

    import_bm25s()  # the package first, without numba (see there)
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return frozenset(STOPWORDS_EN_PLUS)


@lru_cache(maxsize=1 << 16)  # a vocabulary's pieces: a build asks the same ones again and again
def keep_token(token: str) -> bool:
    """Content word pieces only: no [CLS]/[SEP], punctuation or stopwords."""
    if token.startswith("[") and token.endswith("]"):
        return False
    word = token.removeprefix("##").lower()
    return any(c.isalnum() for c in word) and word not in _stopwords()


_SPECIAL = frozenset({"[CLS]", "[SEP]", "[PAD]", "<s>", "</s>", "<pad>"})


def content_positions(tokens: Sequence[str]) -> list[int]:
    """Positions of the content word pieces of one encoded text; a text of only stopwords
    keeps its non-special tokens (it still needs a vector to compare)."""
    keep = [j for j, token in enumerate(tokens) if keep_token(token)]
    return keep or [j for j, token in enumerate(tokens) if token not in _SPECIAL] or [0]


def content_table(vocab: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Per token id of ``vocab``: whether :func:`keep_token` keeps it, and whether it is not
    special (:func:`content_positions`' fallback), so an encoder picks the content positions
    of a whole batch with one lookup instead of testing every token's string."""
    import numpy as np

    size = max(vocab.values(), default=-1) + 1
    content = np.zeros(size, dtype=bool)
    plain = np.zeros(size, dtype=bool)
    for token, index in vocab.items():
        content[index] = keep_token(token)
        plain[index] = token not in _SPECIAL
    return content, plain
