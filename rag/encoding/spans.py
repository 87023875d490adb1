"""Vectors of a text's parts from the text's own forward pass.

An index build needs, for every passage, its pooled vector, a pooled vector per sentence
and the content tokens' vectors per sentence. Encoding the sentences again on their own
costs two more forward passes over every token of the library (3.3× the passage tokens,
measured on a generated library). Here one forward pass per passage gives all three: the
passage vector is the mean over all its tokens (exactly what ``encode`` computes), a
sentence's vector the mean over the passage's prefix (the section path, which the
sentence probe also carries) and the sentence's own tokens, and its token vectors the
content tokens inside its character span — each contextualised by the whole passage
rather than by the sentence alone. Quality with and without: docs/performance.md.

A span the tokenizer truncated away (past ``max_seq_length``) is reported as not covered;
the builder encodes that sentence on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.encoding.content import content_positions

if TYPE_CHECKING:
    import numpy as np

Span = tuple[int, int]  # character offsets [start, end) in the encoded text


@dataclass(frozen=True)
class SpanVectors:
    """One text's vectors: ``pooled`` (dimension,), ``spans`` (len(spans), dimension) unit
    rows, ``tokens`` per span its content tokens' unit rows, ``covered`` per span whether
    its tokens survived truncation (when not, its rows above are not to be used)."""

    pooled: np.ndarray
    spans: np.ndarray
    tokens: list[np.ndarray]
    covered: list[bool]


def unit(rows: np.ndarray) -> np.ndarray:
    import numpy as np

    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    out: np.ndarray = (rows / np.maximum(norms, 1e-12)).astype(np.float32)
    return out


def pool_spans(
    hidden: np.ndarray,
    offsets: Sequence[tuple[int, int]],
    tokens: Sequence[str],
    spans: Sequence[Span],
    prefix: int,
) -> SpanVectors:
    """``hidden`` (length, dimension): one text's unpadded hidden states; ``offsets`` and
    ``tokens`` the tokenizer's per token; ``prefix``: the characters before the first span
    that belong to every span's vector (its section path). The special tokens count in
    every mean, as they do in the whole text's."""
    import numpy as np

    length = len(tokens)
    starts = np.array([o[0] for o in offsets[:length]], dtype=np.int64)
    ends = np.array([o[1] for o in offsets[:length]], dtype=np.int64)
    special = ends == 0  # [CLS] and [SEP] have offsets (0, 0); a word piece has end > 0
    context = special | (ends <= prefix)
    # Past the last token kept, the text was truncated: a span ending there is not covered.
    last = int(ends[~special].max()) if (~special).any() else 0
    rows, groups, covered = [], [], []
    for start, end in spans:
        inside = (~special) & (starts >= start) & (ends <= end)
        where = np.flatnonzero(inside)
        ok = bool(where.size) and end <= last
        covered.append(ok)
        if not ok:
            rows.append(np.zeros(hidden.shape[1], dtype=np.float32))
            groups.append(np.zeros((0, hidden.shape[1]), dtype=np.float32))
            continue
        rows.append(hidden[context | inside].mean(axis=0))
        keep = content_positions([tokens[int(j)] for j in where])
        groups.append(unit(hidden[where[keep]]))
    pooled = unit(hidden[:length].mean(axis=0))
    span_rows = unit(np.vstack(rows)) if rows else np.zeros((0, hidden.shape[1]), dtype=np.float32)
    return SpanVectors(pooled, span_rows, groups, covered)
