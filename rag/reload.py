"""Hot reload: serve a newly published index without a restart.

``rag index`` publishes a build by swapping the index link in one atomic rename. A server
notices (a watcher polling the link, or ``POST /admin/reload``), loads and verifies the new
build off the request path, and swaps it in with one assignment (:meth:`Engine.swap`). A
request that already took its snapshot finishes on the old build; the next one sees the new.
A build that fails verification is refused and the old one keeps serving.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.chunking import ChunkParams
from rag.index import check_fresh, load_index
from rag.manifest import MANIFEST

if TYPE_CHECKING:
    from rag.engine import Engine
    from rag.handle import IndexHandle


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
    if not published_changed(engine):
        return None
    settings = engine.settings
    handle = load_index(settings.index_dir)  # every checksum verified
    check_fresh(
        handle.manifest,
        model_path=settings.model,
        params=ChunkParams.from_settings(settings),
        encoder=engine.encoder,
    )
    engine.swap(handle)
    return handle
