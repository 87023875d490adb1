"""Find brief files, read them safely and hand each to the parser for its format."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

from rag.errors import CorpusFormatError, CorpusNotFound
from rag.parsing.readers import ReadOptions, reader_for, suffixes
from rag.parsing.sniff import reader_for_bytes
from rag.parsing.structure import assemble
from rag.records import Document


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "document"


def discover(paths: Iterable[Path]) -> list[Path]:
    """Expand files and folders into brief files (.txt, .md, .pdf, .docx, .html), in a
    stable order."""
    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise CorpusNotFound(f"{path}: no such file or folder; check the path and try again")
        if path.is_dir():
            # is_file() follows links and is true only of regular files: a folder walk skips
            # FIFOs, devices and sockets (and links to them) without opening them.
            files = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes()
            )
            if not files:
                raise CorpusFormatError(
                    f"{path}: folder holds no briefs "
                    "(.txt, .md, .markdown, .pdf, .docx or .html files)"
                )
            found.extend(files)
        else:
            _check_regular(path, path.stat().st_mode)
            found.append(path)
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return unique


def parse_file(
    path: Path, doc_id: str | None = None, options: ReadOptions | None = None
) -> Document:
    """Read one brief with the reader for its suffix; raise :class:`CorpusFormatError`
    (naming the file) when it is not a usable brief."""
    options = options or ReadOptions()
    reader = reader_for(path)
    data = read_regular(path, *options.byte_budget(reader))
    if not data.strip():
        raise CorpusFormatError(f"{path}: file is empty; give a brief with text in it")
    sniffed = reader_for_bytes(path, reader, data)
    # The bytes may be of a format with a smaller budget than the suffix's (HTML named .pdf).
    limit, setting = options.byte_budget(sniffed)
    if sniffed is not reader and len(data) > limit:
        raise _over_budget(path, len(data), limit, setting)
    reader = sniffed
    read = reader.read(path, data, options)
    draft = read.draft
    if not draft.items and not draft.front_matter:
        raise CorpusFormatError(f"{path}: no text found to index")
    if len(draft.definitions) > options.max_footnotes_per_brief:
        raise CorpusFormatError(
            f"{path}: {len(draft.definitions):,} footnote definitions, over the budget of "
            f"{options.max_footnotes_per_brief:,} per brief; split the file, or raise "
            "RAG_MAX_FOOTNOTES_PER_BRIEF"
        )
    return assemble(
        draft,
        doc_id=doc_id or slug(path.stem),
        source=path.name,
        sha256=hashlib.sha256(data).hexdigest(),
        fmt=reader.format,
        page_count=read.page_count,
    )


_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _check_regular(path: Path, mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    raise CorpusFormatError(
        f"{path}: is {kind}, not a regular file; save the brief to a .txt, .md, .pdf, .docx "
        "or .html file and give that path"
    )


def read_regular(path: Path, limit: int | None, setting: str = "RAG_MAX_FILE_BYTES") -> bytes:
    """The bytes of ``path``, a regular file of at most ``limit`` bytes (None: any size;
    ``setting`` raises it).

    Checked before anything is read: a FIFO, device or socket is refused (opened without
    blocking, so a pipe with no writer cannot hang us, and checked again on the open file,
    so a swap after the first look is caught too), and so is a file over the budget. At
    most ``limit + 1`` bytes are read, so a file growing under us cannot exceed it either.
    """
    try:
        _check_regular(path, os.stat(path).st_mode)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise CorpusFormatError(
            f"{path}: cannot be opened ({exc.strerror}); check that it exists and is readable"
        ) from None
    with os.fdopen(fd, "rb", buffering=0) as fh:
        info = os.fstat(fd)
        _check_regular(path, info.st_mode)
        if limit is not None and info.st_size > limit:
            raise _over_budget(path, info.st_size, limit, setting)
        chunks: list[bytes] = []
        size, cap = 0, (limit + 1 if limit is not None else None)
        while cap is None or size < cap:
            try:
                chunk = fh.read(1 << 20 if cap is None else min(1 << 20, cap - size))
            except OSError as exc:
                raise CorpusFormatError(
                    f"{path}: could not be read ({exc.strerror}); check the file and retry"
                ) from None
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    if limit is not None and size > limit:
        raise _over_budget(path, None, limit, setting)
    return b"".join(chunks)


def _over_budget(path: Path, size: int | None, limit: int, setting: str) -> CorpusFormatError:
    what = f"{size:,} bytes" if size is not None else "grew while being read, and is"
    return CorpusFormatError(
        f"{path}: {what} over the budget of {limit:,} bytes per brief; split the file, "
        f"or raise {setting}"
    )


def load_documents(paths: Iterable[Path], options: ReadOptions | None = None) -> list[Document]:
    """Parse every brief under ``paths``; document ids are unique slugs of the file names."""
    return [doc for _, doc in load_sources(paths, options)]


def load_sources(
    paths: Iterable[Path],
    options: ReadOptions | None = None,
    ids: Mapping[Path, str] | None = None,
) -> list[tuple[Path, Document]]:
    """Like :func:`load_documents`, keeping the file each document was read from. ``ids``
    pins the id of some files (by resolved path; a library keeps its briefs' ids across
    builds); the others get slugs of their names that none of those take."""
    documents: list[tuple[Path, Document]] = []
    pinned = dict(ids or {})
    used: set[str] = set(pinned.values())
    for path in discover(paths):
        if path in pinned:
            documents.append((path, parse_file(path, pinned[path], options)))
            continue
        base = slug(path.stem)
        doc_id, n = base, 2
        while doc_id in used:
            doc_id, n = f"{base}-{n}", n + 1
        used.add(doc_id)
        documents.append((path, parse_file(path, doc_id, options)))
    return documents
