"""Sets of stemmed words for many rows (every sentence or footnote of a library), held as
term ids in two flat arrays instead of one frozenset per row.

A frozenset of a dozen words costs 728 bytes before its strings; a 100k-passage library has
390,000 rows, and a question looks at a few dozen. So each row is stored as int32 ids (4
bytes a word), a row's set is made when it is read, and rows whose texts are equal (a
footnote cited twice, a sentence two overlapping passages share, a brief indexed twice)
share one stored set.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import TYPE_CHECKING, overload

from rag.store.bm25 import BM25_PARAMS, stem, stopwords, words

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


class TermSets(Sequence[frozenset[str]]):
    """Row ``r``'s terms, as a frozenset: ``terms[r]``. Stored compressed (CSR): distinct
    set ``s`` holds ``ids[offsets[s]:offsets[s + 1]]``, and row ``r`` is distinct set
    ``rows[r]``; ``names`` turns an id back into its term."""

    __slots__ = ("ids", "names", "offsets", "rows")

    def __init__(
        self,
        names: Sequence[str],
        ids: NDArray[np.int32],
        offsets: NDArray[np.int64],
        rows: NDArray[np.int32],
    ) -> None:
        self.names = names
        self.ids = ids
        self.offsets = offsets
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, row: int) -> frozenset[str]: ...

    @overload
    def __getitem__(self, row: slice) -> tuple[frozenset[str], ...]: ...

    def __getitem__(self, row: int | slice) -> frozenset[str] | tuple[frozenset[str], ...]:
        if isinstance(row, slice):
            return tuple(self[r] for r in range(*row.indices(len(self))))
        names = self.names
        return frozenset([names[i] for i in self.term_ids(row).tolist()])

    def term_ids(self, row: int) -> NDArray[np.int32]:
        """Row ``row``'s term ids (in no particular order); IndexError past the end."""
        found = int(self.rows[row])  # numpy's IndexError (and negative rows) as a tuple's
        return self.ids[int(self.offsets[found]) : int(self.offsets[found + 1])]

    def counts(self, size: int) -> NDArray[np.int64]:
        """How many rows hold each term id below ``size``."""
        import numpy as np

        uses = np.bincount(self.rows, minlength=len(self.offsets) - 1)
        # Exact: float64 counts every integer up to 2**53.
        weights = np.repeat(uses, np.diff(self.offsets)).astype(np.float64)
        counted: NDArray[np.int64] = np.bincount(self.ids, weights, minlength=size)[:size].astype(
            np.int64
        )
        return counted


class TermWeights(Mapping[str, float]):
    """A weight for the first ``len(weights)`` terms of ``ids`` (term → id), read as a
    mapping: the terms past them are not in it, as words no passage uses are not in an
    idf table."""

    __slots__ = ("ids", "weights")

    def __init__(self, ids: Mapping[str, int], weights: NDArray[np.float64]) -> None:
        self.ids = ids
        self.weights = weights

    def __getitem__(self, term: str) -> float:
        found = self.ids[term]
        if found >= len(self.weights):
            raise KeyError(term)
        return float(self.weights[found])

    def __iter__(self) -> Iterator[str]:
        return islice(self.ids, len(self.weights))  # ids are numbered in insertion order

    def __len__(self) -> int:
        return len(self.weights)


class _Words(dict[str, int]):
    """A word as split (lower case, unstemmed) → the id of its stem, or -1 for a stopword
    or a dropped stem; each distinct word is looked up and stemmed once."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        super().__init__()
        self.vocabulary = vocabulary
        found = stopwords(BM25_PARAMS.stopwords)
        if found is None:  # never: BM25_PARAMS's stopwords are English, which bm25 knows
            raise ValueError(f"no stopword list for {BM25_PARAMS.stopwords!r}")
        self.stopwords = found

    def __missing__(self, word: str) -> int:
        found = -1 if word in self.stopwords else self.vocabulary.term_id(stem(word))
        self[word] = found
        return found


class Vocabulary:
    """Term ids for the texts of one build: the stems :func:`rag.store.bm25.tokenize` gives,
    less ``dropped``, numbered in order of first use. Reads texts as the BM25 tokenizer
    does, word for word, but splits, checks and stems each distinct word once, where bm25s
    rebuilds its stopword set for every text."""

    def __init__(self, dropped: frozenset[str] = frozenset()) -> None:
        self.dropped = dropped
        self.ids: dict[str, int] = {}
        self.names: list[str] = []
        self._words = _Words(self)

    def __len__(self) -> int:
        return len(self.names)

    def term_id(self, term: str) -> int:
        if term in self.dropped:
            return -1
        found = self.ids.get(term)
        if found is None:
            found = self.ids[term] = len(self.names)
            self.names.append(term)
        return found

    def rows(
        self, texts: Iterable[str]
    ) -> tuple[NDArray[np.int32], NDArray[np.int64], NDArray[np.int32]]:
        """The term ids of every text, as :class:`TermSets` stores them (ids, offsets,
        rows); each distinct text is read once."""
        import numpy as np

        ids = array("i")
        offsets = array("q", [0])
        rows = array("i")
        seen: dict[str, int] = {}
        lookup = self._words.__getitem__
        for text in texts:
            found = seen.get(text)
            if found is None:
                found = seen[text] = len(offsets) - 1
                held = set(map(lookup, words(text)))
                held.discard(-1)
                ids.extend(held)
                offsets.append(len(ids))
            rows.append(found)
        arrays = (
            np.frombuffer(ids, dtype=np.int32),
            np.frombuffer(offsets, dtype=np.int64),
            np.frombuffer(rows, dtype=np.int32),
        )
        for column in arrays:  # shared by every question: nobody writes to them
            column.flags.writeable = False
        return arrays

    def sets(self, texts: Iterable[str]) -> TermSets:
        """:meth:`rows` as a :class:`TermSets`, naming terms through this vocabulary (so
        terms of later texts are named too)."""
        return TermSets(self.names, *self.rows(texts))
