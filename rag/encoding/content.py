"""Which word pieces of an encoded text carry content: the ones whose vectors late
interaction (MaxSim) compares. Special tokens, punctuation and stopwords are left out."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
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
