"""The library a server changes over HTTP: briefs uploaded and removed, each change built
in turn off the request path and served as soon as it is published.

The shells only translate: a route hands :meth:`Library.upload` the bytes and the names the
client sent, and reports the :class:`~rag.library.builds.BuildRecord` it gets back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING

from rag.config import Settings
from rag.errors import DocumentNotFound, IndexError_, QueryError
from rag.library.builds import BuildQueue, BuildRecord
from rag.library.changes import AddBrief, Builder, Change, Outcome, RemoveBrief
from rag.library.uploads import take_upload
from rag.parsing.readers import ReadOptions
from rag.store.manifest import SourceInfo

if TYPE_CHECKING:
    from rag.engine import Engine
    from rag.store.reload import Reloader


class Library:
    """Changes to the library served by ``engine_of()``, built one at a time; each
    published build is loaded into that engine through ``reloader`` before the build counts
    as done, so a client that sees ``succeeded`` finds the change in its next request."""

    def __init__(
        self, settings: Settings, engine_of: Callable[[], Engine], reloader: Reloader
    ) -> None:
        self.settings = settings
        self._engine_of = engine_of
        self._reloader = reloader
        self._builder: Builder | None = None
        self.builds = BuildQueue(self._run, limit=settings.max_queued_builds)

    def upload(
        self,
        data: bytes,
        filename: str | None,
        doc_id: str | None,
        served: Sequence[SourceInfo] = (),
    ) -> BuildRecord:
        """Check an uploaded brief (size, then format; nothing is written if it fails)
        and queue its build: added, or replacing the brief with its id. Without an id asked
        for, bytes a ``served`` brief already has keep that brief's id and change nothing."""
        settings = self.settings
        upload = take_upload(
            data,
            filename,
            doc_id,
            max_bytes=settings.max_upload_bytes,
            budget=ReadOptions.from_settings(settings).byte_budget,
        )
        held = next((s.id for s in served if s.sha256 == upload.sha256), None)
        if doc_id is None and held is not None:
            upload = dataclasses.replace(upload, id=held)
            return self.builds.submit(AddBrief(upload, unless_held=True))
        return self.builds.submit(AddBrief(upload))

    def remove(self, doc_id: str, served: Collection[str]) -> BuildRecord:
        """Queue the removal of the brief ``doc_id`` (one of the ``served`` ids)."""
        if doc_id not in served:
            raise DocumentNotFound.naming([doc_id], served)
        if set(served) == {doc_id}:
            raise QueryError(
                f"{doc_id!r} is the only brief in the library, which cannot be left empty; "
                "add another brief first"
            )
        return self.builds.submit(RemoveBrief(doc_id))

    def build(self, build_id: str) -> BuildRecord | None:
        return self.builds.get(build_id)

    def _run(self, change: Change) -> Outcome:
        engine = self._engine_of()
        if self._builder is None:
            self._builder = Builder(self.settings, engine.encoder)
        outcome = self._builder.apply(change)
        if outcome.changed:
            try:
                self._reloader.reload_now(engine)
            except IndexError_ as exc:
                raise IndexError_(
                    f"the new index was published, but this server refused to serve it: {exc}"
                ) from None
        return outcome
