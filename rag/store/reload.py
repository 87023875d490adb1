"""Hot reload: serve a newly published index without a restart.

``rag index`` publishes a build by swapping the index link in one atomic rename. A server
notices (a watcher polling the link, or ``POST /admin/reload``), loads and verifies the new
build off the request path, and swaps it in with one assignment (:meth:`Engine.swap`). A
request that already took its snapshot finishes on the old build; the next one sees the new.
A build that fails verification is refused and the old one keeps serving.

One reload at a time: a burst of reload requests right after a bigger build was published
once made each caller load its own copy (200 callers: 5.5 GB, the server unresponsive for
minutes). A lock around the load re-checks the link inside it, and :class:`Reloader` makes
callers that arrive while a reload runs wait for that one and share its result.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from rag.chunking.passages import ChunkParams
from rag.store.index import check_fresh, load_index
from rag.store.manifest import MANIFEST

if TYPE_CHECKING:
    from rag.engine import Engine
    from rag.store.handle import IndexHandle

# Loads are serialised across threads too (a caller of the sync function beside the
# Reloader's): the second finds the link unchanged, inside the lock, and loads nothing.
_loading = threading.Lock()


def published_changed(engine: Engine) -> bool:
    """Whether the index link now points at another build than the one being served."""
    target = engine.settings.index_dir
    served = engine.snapshot().handle.path
    return (target / MANIFEST).is_file() and target.resolve() != served


def reload_published(engine: Engine) -> IndexHandle | None:
    """Load, verify and serve the published build if it is new; ``None`` if nothing changed.

    Raises the loader's :class:`~rag.errors.IndexError_` when the new build is damaged or
    stale; the engine then keeps serving the build it had.
    """
    with _loading:
        if not published_changed(engine):
            return None
        settings = engine.settings
        # every checksum verified
        handle = load_index(settings.index_dir, mapped_budget=settings.mapped_read_bytes)
        check_fresh(
            handle.manifest,
            model_path=settings.model,
            params=ChunkParams.from_settings(settings),
            encoder=engine.encoder,
        )
        engine.swap(handle)
        return handle


class Reloader:
    """Reloads for one event loop (a server worker): the load runs in a worker thread, and
    whoever asks while it runs (the watcher, any number of reload requests) awaits that same
    load and gets its outcome, the new handle or the error, instead of starting another.

    ``swapped`` runs once after each swap, in the worker thread (the server freezes the new
    build's objects there, so collections never scan it).
    """

    def __init__(self, swapped: Callable[[IndexHandle], None] | None = None) -> None:
        self._swapped = swapped
        self._running: asyncio.Future[IndexHandle | None] | None = None
        self.loads = 0  # reloads that loaded a build (for logs and tests)

    async def reload(self, engine: Engine) -> IndexHandle | None:
        """The published build, now served; ``None`` when it already was."""
        if self._running is None:
            self._running = asyncio.ensure_future(asyncio.to_thread(self._load, engine))
            # Forget it once done: the next caller loads afresh (and finds the link
            # unchanged), and a refused build's error does not stay referenced.
            self._running.add_done_callback(self._forget)
        # shield: a caller that goes away (a client hanging up) never cancels the load the
        # others are waiting for.
        return await asyncio.shield(self._running)

    def reload_now(self, engine: Engine) -> IndexHandle | None:
        """:meth:`reload` for a caller in a worker thread (a build that has just published
        its index): loads there, serialised with the loop's reloads by the loading lock."""
        return self._load(engine)

    def _forget(self, done: asyncio.Future[IndexHandle | None]) -> None:
        if self._running is done:
            self._running = None

    def _load(self, engine: Engine) -> IndexHandle | None:
        handle = reload_published(engine)
        if handle is not None:
            self.loads += 1
            if self._swapped is not None:
                self._swapped(handle)
        return handle
