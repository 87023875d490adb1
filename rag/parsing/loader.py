"""Find brief files, read them safely and hand each to the parser for its format."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from rag.errors import CorpusFormatError, CorpusNotFound
from rag.parsing.readers import ReadOptions, reader_for, suffixes
from rag.parsing.structure import assemble
from rag.records import Document


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "document"


def discover(paths: Iterable[Path]) -> list[Path]:
    """Expand files and folders into brief files (.txt, .md, .pdf), in a stable order."""
    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise CorpusNotFound(f"{path}: no such file or folder; check the path and try again")
        if path.is_dir():
            files = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes()
            )
            if not files:
                raise CorpusFormatError(
                    f"{path}: folder holds no briefs (.txt, .md, .markdown or .pdf files)"
                )
            found.extend(files)
        else:
            found.append(path)
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return unique


def parse_file(
    path: Path, doc_id: str | None = None, options: ReadOptions | None = None
) -> Document:
    """Read one brief with the reader for its suffix; raise :class:`CorpusFormatError`
    (naming the file) when it is not a usable brief."""
    data = path.read_bytes()
    if not data.strip():
        raise CorpusFormatError(f"{path}: file is empty; give a brief with text in it")
    reader = reader_for(path)
    read = reader.read(path, data, options or ReadOptions())
    draft = read.draft
    if not draft.items and not draft.front_matter:
        raise CorpusFormatError(f"{path}: no text found to index")
    return assemble(
        draft,
        doc_id=doc_id or slug(path.stem),
        source=path.name,
        sha256=hashlib.sha256(data).hexdigest(),
        fmt=reader.format,
        page_count=read.page_count,
    )


def load_documents(paths: Iterable[Path], options: ReadOptions | None = None) -> list[Document]:
    """Parse every brief under ``paths``; document ids are unique slugs of the file names."""
    return [doc for _, doc in load_sources(paths, options)]


def load_sources(
    paths: Iterable[Path], options: ReadOptions | None = None
) -> list[tuple[Path, Document]]:
    """Like :func:`load_documents`, keeping the file each document was read from."""
    documents: list[tuple[Path, Document]] = []
    used: set[str] = set()
    for path in discover(paths):
        base = slug(path.stem)
        doc_id, n = base, 2
        while doc_id in used:
            doc_id, n = f"{base}-{n}", n + 1
        used.add(doc_id)
        documents.append((path, parse_file(path, doc_id, options)))
    return documents
