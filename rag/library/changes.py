"""One change to the library (a brief added or replaced, a brief removed), built and
published as a complete new index, the way ``rag index --add``/``--remove`` do.

The published manifest is read, changed and rebuilt under the index's build lock, so two
changes (from this server, another worker or the CLI) never lose one another. Every brief
kept keeps its id. Whatever happens, the upload folder is swept afterwards: uploads no
published index holds (a replaced or removed brief's, or the new one of a failed build) are
removed, and only those.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rag.chunking.passages import ChunkParams
from rag.config import Settings
from rag.encoding.protocol import Encoder
from rag.errors import CorpusNotFound, DocumentNotFound, QueryError, RagError
from rag.fileio import build_lock
from rag.library.uploads import Upload, UploadFolder
from rag.parsing import ReadOptions
from rag.store.index import build_index
from rag.store.manifest import Manifest, SourceInfo, read_manifest
from rag.store.publish import check_target, writing
from rag.store.vectors import DenseIndexParams

log = logging.getLogger("rag.library")


@dataclass(frozen=True)
class AddBrief:
    """Add ``upload`` to the library, replacing the brief that has its id, if any; with
    ``unless_held``, nothing changes if that brief already has these very bytes (an id
    made for the upload, not asked for: the same file sent again under another name)."""

    upload: Upload
    unless_held: bool = False

    @property
    def document(self) -> str:
        return self.upload.id


@dataclass(frozen=True)
class RemoveBrief:
    document: str


Change = AddBrief | RemoveBrief


@dataclass(frozen=True)
class Outcome:
    """What a change did to the library: ids added, replaced (new content) and removed,
    and the library's size after it. ``changed`` is False when nothing needed building
    (the same bytes uploaded again under the same id)."""

    added: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    documents: int = 0
    passages: int = 0
    changed: bool = True
    # What reading the briefs said ("x.md: the first heading … was read as the title"),
    # each prefixed with its file's name, as `rag index` prints them.
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


class Builder:
    """Applies changes to the library published at ``settings.index_dir``, embedding with
    the encoder that makes vectors for ``query_encoder`` (loaded once, on the first build)."""

    def __init__(self, settings: Settings, query_encoder: Encoder) -> None:
        self.settings = settings
        self.query_encoder = query_encoder
        self.folder = UploadFolder(settings.uploads())
        self._embedder: Encoder | None = None

    def apply(self, change: Change) -> Outcome:
        target = self.settings.index_dir
        with writing(target):
            check_target(target)
        with writing(target), build_lock(target):
            before = read_manifest(target.resolve(), shown=target)
            try:
                return self._apply(change, before)
            finally:
                self._sweep(target)

    def _apply(self, change: Change, before: Manifest) -> Outcome:
        sources = {s.id: s for s in before.documents}
        kept = {Path(s.path): s.id for s in before.documents if s.id != change.document}
        if isinstance(change, RemoveBrief):
            if change.document not in sources:
                raise DocumentNotFound.naming([change.document], sources)
            _check_present(kept)
            return self._rebuild(before, kept)
        upload = change.upload
        path = self.folder.path_of(upload)
        old = sources.get(upload.id)
        held = old is not None and old.sha256 == upload.sha256
        if held and (change.unless_held or str(path) == sources[upload.id].path):
            return _summary(before, before, changed=False)
        _check_present(kept)  # before the upload is written
        self.folder.store(upload)
        return self._rebuild(before, {**kept, path: upload.id}, shown=(path, upload.name))

    def _rebuild(
        self, before: Manifest, ids: Mapping[Path, str], shown: tuple[Path, str] | None = None
    ) -> Outcome:
        """Build the library of ``ids``; errors name an upload by ``shown`` (its path on
        this server, the name to show instead), not by a path that means nothing to a client."""
        if not ids:
            raise QueryError("that would leave the library with no brief; keep at least one")
        try:
            after = self._build(ids)
        except RagError as exc:
            if shown is None:
                raise
            raise type(exc)(" ".join(str(exc).replace(str(shown[0]), shown[1]).split())) from None
        return _summary(before, after)

    def _build(self, ids: Mapping[Path, str]) -> Manifest:
        settings = self.settings
        if self._embedder is None:
            from rag.engine import index_encoder

            self._embedder = index_encoder(settings, self.query_encoder)
        return build_index(
            list(ids),
            settings.index_dir,
            self._embedder,
            ChunkParams.from_settings(settings),
            model_path=settings.model,
            dense=DenseIndexParams.from_settings(settings),
            batch_size=settings.batch_size,
            read_options=ReadOptions.from_settings(settings),
            query_encoder=self.query_encoder,
            ids=ids,
        )

    def _sweep(self, target: Path) -> None:
        """Remove the uploads the published index does not hold (under the build lock:
        no other build is placing one meanwhile). A sweep that fails costs disk space, not
        the change: it is logged, and the next build sweeps again."""
        try:
            published = read_manifest(target.resolve(), shown=target)
            self.folder.sweep({Path(s.path) for s in published.documents})
        except (OSError, RagError) as exc:
            log.warning("uploads not swept: %s", exc)


def _check_present(kept: Mapping[Path, str]) -> None:
    gone = [(path, doc_id) for path, doc_id in kept.items() if not path.is_file()]
    if gone:
        path, doc_id = gone[0]
        raise CorpusNotFound(
            f"{path}: the file of the indexed brief {doc_id!r} is gone, so the library "
            f"cannot be rebuilt; remove the brief {doc_id!r} first, or put the file back"
        )


def _summary(before: Manifest, after: Manifest, *, changed: bool = True) -> Outcome:
    old = {s.id: _content(s) for s in before.documents}
    new = {s.id: _content(s) for s in after.documents}
    return Outcome(
        added=tuple(sorted(new.keys() - old.keys())),
        replaced=tuple(sorted(i for i in new.keys() & old.keys() if new[i] != old[i])),
        removed=tuple(sorted(old.keys() - new.keys())),
        documents=after.counts.documents,
        passages=after.counts.passages,
        changed=changed,
        warnings=tuple(after.warnings),
        notes=tuple(after.notes),
    )


def _content(source: SourceInfo) -> tuple[str, str]:
    return source.sha256, source.path
