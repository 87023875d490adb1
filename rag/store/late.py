"""Late interaction: MaxSim between the question's token vectors and each sentence's.

For every content token of the question, take its best cosine match among a sentence's
tokens, and average (ColBERT's MaxSim, normalised by question length). It matches
"Washington" with "U.S." or "rolling back" with "reverse" token by token, where one pooled
vector per text blurs them. Measured on the held-out set: recall@1 0.73 → 0.93 when added
(docs/evaluation.md, the retrieval table).

At query time only the passages the cheap legs found are scored (:func:`maxsim_passages`),
as late-interaction engines re-rank a first stage's candidates: the cost is that of the
candidates' tokens, not of the corpus. Token vectors are stored as int8 (:func:`quantize`),
a quarter of float32's bytes: each row is scaled so its largest component is ±127, and since
every row is unit length the scale need not be stored — ``q / ‖q‖`` is the direction back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from rag.store.rowfile import RowFile


def pack(groups: Sequence[np.ndarray], dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate per-sentence token arrays; offsets[i]:offsets[i+1] are sentence i's rows."""
    import numpy as np

    sizes = [len(g) for g in groups]
    offsets = np.zeros(len(groups) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(sizes)
    if not groups:
        return np.zeros((0, dim), dtype=np.float32), offsets
    return np.ascontiguousarray(np.vstack(groups), dtype=np.float32), offsets


def encode_table(
    encode_tokens: Callable[[Sequence[str]], list[np.ndarray]],
    texts: Sequence[str],
    dim: int,
    chunk: int = 4096,
) -> tuple[np.ndarray, np.ndarray]:
    """The int8 token table of ``texts`` and its offsets, quantised ``chunk`` texts at a
    time, so the float32 vectors of a large corpus (4× the bytes) are never all in memory."""
    import numpy as np

    parts: list[np.ndarray] = []
    sizes: list[int] = []
    for start in range(0, len(texts), chunk):
        vectors, offsets = pack(encode_tokens(texts[start : start + chunk]), dim)
        parts.append(quantize(vectors))
        sizes.extend(np.diff(offsets).tolist())
    offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(sizes)
    codes = np.vstack(parts) if parts else np.zeros((0, dim), dtype=np.int8)
    return codes, offsets


def quantize(vectors: np.ndarray) -> np.ndarray:
    """Unit-length float rows → int8 rows, each scaled so its largest |component| is 127."""
    import numpy as np

    peak = np.abs(vectors).max(axis=1, keepdims=True) if len(vectors) else np.ones((0, 1))
    peak[peak == 0] = 1.0
    return np.rint(vectors * (127.0 / peak)).astype(np.int8)


def dequantize(codes: np.ndarray) -> np.ndarray:
    """int8 rows from :func:`quantize` → unit-length float32 rows (float rows pass through)."""
    import numpy as np

    if codes.dtype != np.int8:
        return np.asarray(codes, dtype=np.float32)
    rows = codes.astype(np.float32)
    norms = np.sqrt(np.einsum("ij,ij->i", rows, rows))[:, None]
    norms[norms == 0] = 1.0
    rows /= norms
    return rows


def spans(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """The concatenated ranges ``starts[i]:stops[i]``, without a Python loop."""
    import numpy as np

    lengths = stops - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    shift = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    out: np.ndarray = shift + np.arange(total, dtype=np.int64)
    return out


# A token table up to this many bytes as unit float32 rows (4x its int8 bytes) is kept in
# RAM, converted once at load: one brief is about 1,400 rows (2 MB), and a query then reads
# float rows directly instead of converting and normalising its candidates' int8 rows.
# Larger tables stay memory-mapped int8, so the page cache holds them once for all workers;
# for them the float copy measured no faster (gathering float rows moves 4x the bytes).
FLOAT_TABLE_MAX_BYTES = 16 * 2**20


def query_table(codes: np.ndarray) -> np.ndarray:
    """What the token leg reads: the unit float32 rows of a small int8 table (converted
    once), else the table itself (int8, memory-mapped; converted per query, candidates
    only)."""
    import numpy as np

    if codes.dtype == np.int8 and codes.size * 4 <= FLOAT_TABLE_MAX_BYTES:
        return dequantize(codes)
    return codes


def row_norms(codes: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """Each int8 row's Euclidean norm as float32 (1 for an all-zero row), what turns a
    code's dot product into a cosine: computed once when an index is opened, so a query
    divides by its candidates' norms instead of recomputing them (measured on a 10k-passage
    library as a fifth of the token leg). A memory-mapped table is read with plain file
    reads, not through its map, so computing this leaves none of the table's pages mapped
    into the process (they would count in its RSS), ``chunk`` rows at a time: each chunk's
    float copy and products are its transient memory (65,536 rows raised a 100k library's
    peak RSS at load by 240 MB; 8,192 rows, 30 MB). Empty for a float table."""
    import numpy as np

    if codes.dtype != np.int8 or codes.ndim != 2:
        return np.zeros(0, dtype=np.float32)
    norms = np.empty(len(codes), dtype=np.float32)
    for start, rows in _row_chunks(codes, chunk):
        floats = rows.astype(np.float32)
        norms[start : start + len(rows)] = np.sqrt(np.einsum("ij,ij->i", floats, floats))
    norms[norms == 0] = 1.0
    return norms


def _row_chunks(codes: np.ndarray, chunk: int) -> Iterator[tuple[int, np.ndarray]]:
    """``codes`` ``chunk`` rows at a time; a memory-mapped table's rows are read from its
    file (:class:`rag.store.rowfile.RowFile`), not through the map."""
    import numpy as np

    from rag.store.rowfile import RowFile

    file = RowFile.of(codes)
    for start in range(0, len(codes), chunk):
        stop = min(start + chunk, len(codes))
        yield start, file.span(start, stop) if file else np.asarray(codes[start:stop])


def maxsim_passages(
    query: np.ndarray,
    tokens: np.ndarray,
    token_offsets: np.ndarray,
    passage_sentences: np.ndarray,
    passages: np.ndarray,
    norms: np.ndarray | None = None,
    file: RowFile | None = None,
) -> np.ndarray:
    """MaxSim of the best sentence of each passage in ``passages`` (indices), reading only
    their token rows: ``passage_sentences[p]:passage_sentences[p+1]`` are passage p's
    sentence rows, ``token_offsets[s]:token_offsets[s+1]`` sentence s's token rows.
    ``tokens``: int8 codes (:func:`quantize`) or unit float rows (:func:`query_table`);
    ``norms``: the int8 codes' :func:`row_norms`, computed here per row when not given;
    ``file``: the int8 table's file, its candidates' rows read from it instead of through
    ``tokens``' memory map (:class:`rag.store.rowfile.RowFile`).

    Equals the per-passage maximum of :func:`maxsim` over the whole table, restricted to
    ``passages`` (``-inf`` for a passage without sentences)."""
    import numpy as np

    from rag.store.ranks import segment_max

    passages = np.asarray(passages, dtype=np.int64)
    if len(passages) == 0 or len(query) == 0:
        return np.full(len(passages), -np.inf if len(query) else 0.0, dtype=np.float32)
    s_lo, s_hi = passage_sentences[passages], passage_sentences[passages + 1]
    sentences = spans(s_lo, s_hi)
    # Sentences are in passage order and tokens in sentence order, so a passage's token rows
    # are one slice too: the candidates' rows are the concatenation of one range each.
    starts, stops = token_offsets[s_lo], token_offsets[s_hi]
    sims = _similarities(tokens, starts, stops, query, norms, file)
    sentence_tokens = token_offsets[sentences + 1] - token_offsets[sentences]
    best = segment_max(sims, sentence_tokens, axis=0)  # (candidate sentences, query tokens)
    per_sentence = best.mean(axis=1)
    return segment_max(per_sentence, s_hi - s_lo, axis=0)


def _candidate_rows(tokens: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """The rows ``starts[i]:stops[i]`` concatenated: the table itself (no copy) when the
    ranges tile it, as when the candidates are every passage of a small index."""
    whole = starts[0] == 0 and stops[-1] == len(tokens) and bool((starts[1:] == stops[:-1]).all())
    rows: np.ndarray = tokens if whole else tokens[spans(starts, stops)]
    return rows


def _similarities(
    tokens: np.ndarray,
    starts: np.ndarray,
    stops: np.ndarray,
    query: np.ndarray,
    norms: np.ndarray | None,
    file: RowFile | None = None,
) -> np.ndarray:
    """Cosine of every row ``starts[i]:stops[i]`` with every query token, shape (rows,
    query tokens). int8 codes: the scale is implied by unit length, so each product is
    divided by its code's norm (``norms`` when given for the whole table, else computed for
    these rows); read from ``file`` when given (the same rows as ``tokens``')."""
    import numpy as np

    if tokens.dtype != np.int8:
        return _products(np.asarray(_candidate_rows(tokens, starts, stops), np.float32), query)
    rows = spans(starts, stops)
    # int8 gathered: a quarter of a float gather's bytes. np.take, not fancy indexing:
    # 20,866 rows of a mapped table measured 0.9 against 1.2 ms.
    codes = file.ranges(starts, stops) if file is not None else np.take(tokens, rows, axis=0)
    sims = _products(codes, query)
    if norms is None or len(norms) != len(tokens):  # no norms of the whole table given
        norms, rows = row_norms(codes), np.arange(len(codes))
    sims /= norms[rows][:, None]
    return sims


# Candidate rows are converted from int8 and multiplied a block at a time: a block's float
# rows stay in the CPU's cache between the conversion and the product, where converting every
# candidate row first wrote and re-read tens of megabytes. The block is sized so that its
# rows times the question's tokens stay under this many cells: OpenBLAS then multiplies with
# its small-matrix kernel, which for these skinny products (384 columns, a handful of query
# tokens) measured about three times the speed of its general one (20,866 rows, 7 query
# tokens: 2.9 ms in blocks of 128 rows against 8.7 ms in blocks of 256 or one product).
# Every block has the same shape (the last is padded with zero rows), so every row goes
# through the same kernel: identical rows get identical scores, and ties keep index order.
BLOCK_CELLS = 1024


def block_rows(query_tokens: int) -> int:
    """Rows per block for a question of ``query_tokens`` token vectors: a power of two
    between 32 and 512 with ``rows × query_tokens`` at most :data:`BLOCK_CELLS`."""
    fit = max(1, BLOCK_CELLS // max(1, query_tokens))
    return int(min(512, max(32, 1 << (fit.bit_length() - 1))))


def _products(rows: np.ndarray, query: np.ndarray) -> np.ndarray:
    """``rows @ query.T``, a block of :func:`block_rows` rows at a time, int8 rows converted
    per block. Rows times the query's transpose: with a handful of query tokens OpenBLAS
    measured about a quarter faster this way round. A small float table, held as unit
    floats, is multiplied in place (on the bundled brief's 1,412 rows the token leg measured
    0.52 → 0.35 ms p50 in blocks)."""
    import numpy as np

    size = block_rows(len(query))
    sims = np.empty((len(rows), len(query)), dtype=np.float32)
    block = np.zeros((size, rows.shape[1]), dtype=np.float32)
    convert = rows.dtype != np.float32
    for start in range(0, len(rows), size):
        part = rows[start : start + size]
        if len(part) == size and not convert:
            np.matmul(part, query.T, out=sims[start : start + size])
        elif len(part) == size:
            np.copyto(block, part, casting="unsafe")
            np.matmul(block, query.T, out=sims[start : start + size])
        else:  # the last, short block: zero rows below it keep the block's shape
            block[len(part) :] = 0.0
            np.copyto(block[: len(part)], part, casting="unsafe")
            sims[start:] = (block @ query.T)[: len(part)]
    return sims


def maxsim(query: np.ndarray, tokens: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Score of every sentence: mean over query tokens of the best match in the sentence.
    A full scan of the table, kept as the reference :func:`maxsim_passages` is tested
    against (and for measuring what the candidate re-ranking saves)."""
    import numpy as np

    if len(offsets) <= 1 or len(query) == 0:
        return np.zeros(max(len(offsets) - 1, 0), dtype=np.float32)
    sims = query @ dequantize(tokens).T  # (query tokens, all sentence tokens)
    best = np.maximum.reduceat(sims, offsets[:-1], axis=1)  # (query tokens, sentences)
    mean: np.ndarray = best.mean(axis=0)
    return mean
