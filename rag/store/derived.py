"""What is derived from one index build (term statistics, coverage, conclusion sections):
made on first use, held as long as the build is, dropped with it on a reload."""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from rag.store.index import IndexHandle

T = TypeVar("T")


def per_build(make: Callable[[IndexHandle], T]) -> Callable[[IndexHandle], T]:
    """``make`` run once per index build: later calls with the same build get the same
    object; a replaced build's is freed with it (weakly keyed, so a reload leaks nothing).
    Made under a lock, so concurrent first questions build it once."""
    built: weakref.WeakKeyDictionary[IndexHandle, T] = weakref.WeakKeyDictionary()
    lock = threading.Lock()

    def derived(handle: IndexHandle) -> T:
        with lock:
            found = built.get(handle)
            if found is None:
                found = built[handle] = make(handle)
            return found

    return functools.wraps(make)(derived)
