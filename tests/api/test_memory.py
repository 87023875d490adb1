"""The server's memory chores: what requests share is frozen once, and cycles a request
leaves behind are collected by the periodic chore, not left for a rare full collection."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from api.memory import release_free_memory, resettle, settle
from rag.config import Settings
from rag.engine import open_engine
from rag.store.index import load_index
from tests.conftest import FakeEncoder


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cycle collector frees it


def test_settle_freezes_what_exists_and_resettle_freezes_what_came_since() -> None:
    try:
        settle()
        assert gc.get_freeze_count() > 0
        arrived = [[i] for i in range(1000)]  # a new build's objects, tracked by the collector
        # (Counting frozen objects cannot tell: others may be freed in between.) A frozen
        # object is in no generation the collector scans.
        assert all(gc.is_tracked(o) for o in arrived)
        scanned = {id(o) for o in gc.get_objects()}
        assert all(id(o) in scanned for o in arrived)
        resettle()
        scanned = {id(o) for o in gc.get_objects()}
        assert not any(id(o) in scanned for o in arrived)
    finally:
        gc.unfreeze()


def test_a_replaced_index_is_freed_without_any_collection(tmp_path: Path) -> None:
    """What resettle relies on: a handle holds no reference cycles, so a frozen one is
    freed by reference counting alone once the engine lets it go, with no collection
    scanning the heap (which held the event loop for 380-480 ms per reload)."""
    settings = Settings(index_dir=tmp_path / "index", model="/nonexistent")
    engine = open_engine(settings, encoder=FakeEncoder())
    engine.search("aid to Pakistan")
    old = weakref.ref(engine.snapshot().handle)
    gc.disable()
    try:
        settle()
        engine.swap(load_index(settings.index_dir))
        assert old() is None
    finally:
        gc.unfreeze()
        gc.enable()


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
