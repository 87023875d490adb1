""":class:`RowFile`: ranges of rows of a large ``.npy`` table, read with ``pread`` instead of
through a memory map.

A map is the cheap way to open a table bigger than memory, but every page a query touches
stays mapped into the process and counts in its RSS until the process ends: on the
100,000-passage library the token table's map grew to 1.5 GB of the server's RSS over 133
questions, though each question reads about 3 MB of it (the kernel maps a faulting page's
cached neighbours too, 64 KB at a time, and ``MADV_RANDOM`` does not stop that). A read
copies the candidates' rows into a buffer the query owns and frees: the file stays in the
page cache, shared and reclaimable, and out of the process's RSS.

That is for large tables. Tables whose total is within a budget
(:func:`row_files`, ``RAG_MAPPED_READ_MB``) are read through their maps: one gather instead of
one ``pread`` per passage, which measured about 2 ms a question faster on a 10,000-passage
library, for at most the budget's bytes of the server's RSS.

The file descriptor is opened once, with the index, and closed when the :class:`RowFile`
is collected: a server that swapped to a new build and removed the old folder can still
finish a query that took the old handle.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from rag.errors import IndexCorrupt
from rag.store.manifest import REBUILD

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np


def row_files(tables: Sequence[np.ndarray | None], budget: int) -> list[RowFile | None]:
    """How each of a build's large tables is read: ``None`` (through its memory map) for
    every table when the mapped ones' total is at most ``budget`` bytes, else a
    :class:`RowFile` for each mapped table. All or none: a server then holds either every
    table's pages (a library small enough to keep them) or none, never a share that grows
    with the library. ``None`` in ``tables``: a table this build does not read."""
    mapped = [t for t in tables if t is not None and _whole_file(t) is not None]
    if sum(t.nbytes for t in mapped) <= budget:  # no file is opened for them
        return [None] * len(tables)
    return [None if table is None else RowFile.of(table) for table in tables]


def _whole_file(table: np.ndarray) -> tuple[str, int] | None:
    """The file and byte offset behind ``table`` when it is a read-only memory map of a
    whole ``.npy`` array (what :mod:`rag.store.artifacts` opens large tables as), else
    ``None``. Not on a system without ``os.preadv``."""
    import numpy as np

    filename = getattr(table, "filename", None) if isinstance(table, np.memmap) else None
    if not filename or not hasattr(os, "preadv") or table.ndim != 2:
        return None
    offset = int(getattr(table, "offset", 0))
    # A slice of a map keeps its parent's file name and offset: only a map of the whole
    # array has the file's size.
    if not table.flags.c_contiguous or os.path.getsize(filename) != offset + table.nbytes:
        return None
    return filename, offset


class RowFile:
    """The rows of a C-ordered 2-D array stored from byte ``offset`` of ``path``."""

    def __init__(self, path: Path, offset: int, shape: tuple[int, int], dtype: np.dtype) -> None:
        self.path = Path(path)
        self.offset = offset
        self.shape = shape
        self.dtype = dtype
        self.row_bytes = shape[1] * dtype.itemsize
        self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        weakref.finalize(self, os.close, self._fd)  # closed with the last handle using it

    @classmethod
    def of(cls, table: np.ndarray) -> RowFile | None:
        """The file behind ``table`` when it is a read-only memory map of a whole ``.npy``
        array (what :mod:`rag.store.artifacts` opens large tables as), else ``None``: a
        table in memory is read in memory (:func:`_whole_file`)."""
        found = _whole_file(table)
        if found is None:
            return None
        filename, offset = found
        return cls(Path(filename), offset, (int(table.shape[0]), int(table.shape[1])), table.dtype)

    def __len__(self) -> int:
        return self.shape[0]

    def ranges(self, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
        """Rows ``starts[i]:stops[i]`` for every i, concatenated in that order (one read per
        range; a range is one passage's rows, contiguous in the file)."""
        import numpy as np

        lengths = np.asarray(stops, dtype=np.int64) - np.asarray(starts, dtype=np.int64)
        out = np.empty((int(lengths.sum()), self.shape[1]), dtype=self.dtype)
        raw = out.reshape(-1).view(np.uint8).data
        at = 0
        for start, count in zip(np.asarray(starts).tolist(), lengths.tolist(), strict=True):
            if count <= 0:
                continue
            size = count * self.row_bytes
            got = os.preadv(self._fd, [raw[at : at + size]], self.offset + start * self.row_bytes)
            if got != size:  # the file was cut short after it was verified and opened
                raise IndexCorrupt(f"index file {self.path.name} is shorter than it was; {REBUILD}")
            at += size
        return out

    def span(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop``, one read."""
        import numpy as np

        return self.ranges(np.array([start]), np.array([stop]))

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """Rows ``ids`` in that order (repeats allowed); each run of consecutive rows is
        one read (a passage's sentences sit side by side)."""
        import numpy as np

        wanted, back = np.unique(np.asarray(ids, dtype=np.int64), return_inverse=True)
        if len(wanted) == 0:
            return np.empty((0, self.shape[1]), dtype=self.dtype)
        breaks = np.flatnonzero(np.diff(wanted) != 1) + 1
        starts = wanted[np.r_[0, breaks]]
        stops = wanted[np.r_[breaks - 1, len(wanted) - 1]] + 1
        # The runs hold exactly the wanted rows, in order: row j of what is read is wanted[j].
        return self.ranges(starts, stops)[back.reshape(-1)]

    def products(self, vector: np.ndarray, chunk: int = 8192) -> np.ndarray:
        """Every row's dot product with ``vector``, reading ``chunk`` rows at a time (an
        exact scan that maps none of the file)."""
        import numpy as np

        out = np.empty(self.shape[0], dtype=np.float32)
        for start in range(0, self.shape[0], chunk):
            stop = min(start + chunk, self.shape[0])
            out[start:stop] = self.span(start, stop) @ vector
        return out
