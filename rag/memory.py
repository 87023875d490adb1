"""Giving freed memory back to the system after a large load.

Reading an index parses tens of megabytes of JSON; the parser's buffers are freed at once,
but glibc's allocator keeps freed heap pages for reuse, so they stay in the process's RSS:
on the 100,000-passage library, reading ``documents.json`` left 165 MB resident where the
documents kept 63 MB. ``malloc_trim(0)`` returns those pages. It only releases memory
that is free; elsewhere than glibc (musl, macOS, Windows) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def release_freed() -> None:
    """Return the allocator's free heap pages to the system (glibc), else nothing."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
