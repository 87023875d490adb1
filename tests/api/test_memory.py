"""The server's memory chores: what requests share is frozen once, and cycles a request
leaves behind are collected by the periodic chore, not left for a rare full collection."""

from __future__ import annotations

import gc
import weakref

from api.memory import release_free_memory, resettle, settle


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cycle collector frees it


def test_settle_freezes_what_exists_and_resettle_thaws_it() -> None:
    try:
        settle()
        assert gc.get_freeze_count() > 0
        resettle()
        assert gc.get_freeze_count() > 0  # frozen again, after a collection
    finally:
        gc.unfreeze()


def test_the_chore_frees_a_cycle_left_by_a_request() -> None:
    gc.disable()  # as if the automatic collector had not come round yet
    try:
        node = Node()
        gone = weakref.ref(node)
        del node
        assert gone() is not None  # unreachable, but still there
        release_free_memory()
        assert gone() is None
    finally:
        gc.enable()
