"""Late interaction: MaxSim between the question's token vectors and each sentence's.

For every content token of the question, take its best cosine match among a sentence's
tokens, and average (ColBERT's MaxSim, normalised by question length). It matches
"Washington" with "U.S." or "rolling back" with "reverse" token by token, where one pooled
vector per text blurs them. Measured on the held-out set: recall@1 0.73 → 0.93 when added
(see the README's evaluation table).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return frozenset(STOPWORDS_EN_PLUS)


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


def pack(groups: Sequence[np.ndarray], dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate per-sentence token arrays; offsets[i]:offsets[i+1] are sentence i's rows."""
    import numpy as np

    sizes = [len(g) for g in groups]
    offsets = np.zeros(len(groups) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(sizes)
    if not groups:
        return np.zeros((0, dim), dtype=np.float32), offsets
    return np.ascontiguousarray(np.vstack(groups), dtype=np.float32), offsets


def maxsim(query: np.ndarray, tokens: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Score of every sentence: mean over query tokens of the best match in the sentence."""
    import numpy as np

    if len(offsets) <= 1 or len(query) == 0:
        return np.zeros(max(len(offsets) - 1, 0), dtype=np.float32)
    sims = query @ tokens.T  # (query tokens, all sentence tokens)
    best = np.maximum.reduceat(sims, offsets[:-1], axis=1)  # (query tokens, sentences)
    mean: np.ndarray = best.mean(axis=0)
    return mean
