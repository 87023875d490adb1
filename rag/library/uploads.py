"""Uploaded briefs: checked before a byte of them is written, kept under names the project
makes, and removed only when they are the project's own.

An upload's format is told by its content (:mod:`rag.parsing.sniff`), never by the name the
client sent; that name only suggests the brief's id, as a slug of its last part. The file
is kept as ``<upload folder>/<sha256>/<id><suffix>``: the folder is the content's hash, so
identical bytes land on the same path, and the name is the id, so any later build (``rag
index --add``, a folder of briefs) reads the same id from it. The suffix is the format's
own (``.txt``, ``.md``, ``.pdf``, ``.docx``, ``.html``).

The upload folder is marked as the project's (:data:`MARKER`) when it is made; a folder
without the mark that holds anything is refused, and inside a marked one only files of the
shape above whose bytes hash to their folder's name are ever removed, so a user's file is
never touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import secrets
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

from rag.errors import ConfigError, QueryError, UploadTooLarge, UploadUnreadable
from rag.fileio import file_sha256
from rag.parsing.readers import DOCX, HTML, MARKDOWN, PDF, TEXT, Reader, suffixes
from rag.parsing.sniff import sniff
from rag.text import detect_encoding, looks_binary

MARKER = ".brief-rag-uploads"
# A document id: what rag.parsing.loader.slug makes, at most ID_MAX characters.
ID_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
ID_MAX = 200
DERIVED_ID_MAX = 80  # an id made from a file name is cut to this
_SHA_RE = re.compile(r"[0-9a-f]{64}")
_TEMP_RE = re.compile(r"\.upload-[0-9a-f]{16}\.tmp")


@dataclass(frozen=True)
class Upload:
    """A brief taken for the library: its bytes, their hash, the format they are in and
    the id it will have."""

    id: str
    sha256: str
    reader: Reader
    data: bytes = field(repr=False)

    @property
    def suffix(self) -> str:
        return self.reader.suffixes[0]

    @property
    def name(self) -> str:
        """The file name it is kept under (and named by in messages): ``<id><suffix>``."""
        return f"{self.id}{self.suffix}"


def accepted_formats() -> str:
    """``.docx, .htm, …``: the suffixes the reader registry reads."""
    return ", ".join(sorted(suffixes()))


def take_upload(
    data: bytes,
    filename: str | None,
    doc_id: str | None,
    *,
    max_bytes: int,
    budget: Callable[[Reader], tuple[int, str]],
) -> Upload:
    """Check an uploaded brief and name it, or raise :class:`UploadTooLarge` or
    :class:`UploadUnreadable` in one line; nothing is written either way. ``doc_id`` is
    the id asked for (:class:`QueryError` unless it is a document id), else one is made
    from ``filename`` or the content's hash."""
    if len(data) > max_bytes:
        raise UploadTooLarge(
            f"the upload is {len(data):,} bytes, over the budget of {max_bytes:,} "
            "(RAG_MAX_UPLOAD_BYTES); split the brief or raise the budget"
        )
    if not data.strip():
        raise UploadUnreadable("the upload is empty; send a brief with text in it")
    reader = reader_for_upload(data, filename)
    limit, setting = budget(reader)  # each format's own (rag.parsing.readers.ReadOptions)
    if len(data) > limit:
        raise UploadTooLarge(
            f"the upload is {len(data):,} bytes of {reader.format}, over the budget of "
            f"{limit:,} bytes per brief ({setting}); split the brief"
        )
    sha256 = hashlib.sha256(data).hexdigest()
    if doc_id is not None and not is_document_id(doc_id):
        raise QueryError(
            f"the id {doc_id[:ID_MAX]!r} is not a document id: lowercase letters, digits and "
            f"inner hyphens, at most {ID_MAX} characters"
        )
    return Upload(doc_id or id_from_name(filename) or f"brief-{sha256[:12]}", sha256, reader, data)


def is_document_id(text: str) -> bool:
    return len(text) <= ID_MAX and ID_RE.fullmatch(text) is not None


def id_from_name(filename: str | None) -> str | None:
    """A slug of the last part of ``filename`` without its suffix (``../../etc/passwd`` →
    ``passwd``, ``..\\x.md`` → ``x``), or None when nothing usable is left."""
    if not filename:
        return None
    last = PureWindowsPath(PurePosixPath(filename).name).name  # both kinds of separator
    stem = last.rsplit(".", 1)[0] if "." in last.strip(".") else last
    made = re.sub(r"[^a-z0-9]+", "-", stem.lower())[:DERIVED_ID_MAX].strip("-")
    return made if ID_RE.fullmatch(made) else None


def reader_for_upload(data: bytes, filename: str | None) -> Reader:
    """The reader the bytes need, told by their content; the client's suffix only chooses
    between text and Markdown, which no content tells apart."""
    kind = sniff(data)
    if kind == "ole":
        raise _unreadable(
            "an encrypted (password-protected) Office file or an old binary .doc; remove "
            "the password or save it as .docx"
        )
    if kind == "zip":
        if not _is_docx(data):
            raise _unreadable("a ZIP archive that is not a Word .docx")
        return DOCX
    if kind == "pdf":
        return PDF
    if kind == "html":
        return HTML
    _check_text(data)
    suffix = PurePosixPath(PureWindowsPath(filename or "").name).suffix.lower()
    return MARKDOWN if suffix in MARKDOWN.suffixes else TEXT


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _check_text(data: bytes) -> None:
    codec = detect_encoding(data)
    if codec == "utf-8-sig" and looks_binary(data):
        raise _unreadable("binary, not text")
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        why = f"neither a known binary format nor text in {codec} (byte {exc.start})"
        raise _unreadable(why) from None
    if looks_binary(text) or "\x00" in text:
        raise _unreadable("binary, not text")


def _unreadable(why: str) -> UploadUnreadable:
    return UploadUnreadable(
        f"the upload is {why}; a brief is read from these formats (told by the content, "
        f"whatever its name says): {accepted_formats()}"
    )


class UploadFolder:
    """The folder of uploaded briefs (``RAG_UPLOAD_DIR``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, upload: Upload) -> Path:
        return self.root.resolve() / upload.sha256 / upload.name

    def owns(self, path: Path) -> bool:
        """Whether ``path`` is an upload the project made: a regular file
        ``<sha256>/<id><suffix>`` in this (marked) folder, whose bytes have that hash."""
        root = self.root.resolve()
        if not (root / MARKER).is_file():
            return False
        try:
            parts = path.relative_to(root).parts
        except ValueError:
            return False
        if len(parts) != 2 or not _is_our_name(*parts):
            return False
        if path.is_symlink() or not path.is_file():
            return False
        return file_sha256(path) == parts[0]

    def store(self, upload: Upload) -> Path:
        """Write ``upload`` (atomically: a temporary file renamed into place); identical
        bytes already there are left as they are."""
        self._claim()
        path = self.path_of(upload)
        if path.is_file() and not path.is_symlink():
            return path
        path.parent.mkdir(exist_ok=True)
        temp = path.parent / f".upload-{secrets.token_hex(8)}.tmp"
        try:
            with open(temp, "xb") as fh:
                fh.write(upload.data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temp, path)
        finally:
            temp.unlink(missing_ok=True)
        return path

    def sweep(self, keep: set[Path]) -> list[Path]:
        """Remove the uploads not in ``keep`` (resolved paths), temporary files a killed
        write left, and hash folders left empty; only names of the project's own shape."""
        root = self.root.resolve()
        if not (root / MARKER).is_file():
            return []
        removed: list[Path] = []
        for folder in root.iterdir():
            if not _SHA_RE.fullmatch(folder.name) or folder.is_symlink() or not folder.is_dir():
                continue
            for path in sorted(folder.iterdir()):
                if path in keep:
                    continue
                temp = _TEMP_RE.fullmatch(path.name) and path.is_file() and not path.is_symlink()
                if temp or self.owns(path):
                    path.unlink(missing_ok=True)
                    removed.append(path)
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty
        return removed

    def _claim(self) -> None:
        """Make the folder, marked as the project's; refuse one of a user's."""
        root = self.root
        if (root / MARKER).is_file():
            return
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise ConfigError(
                f"{root} is not an upload folder of brief-rag (it has no {MARKER} file and "
                "is not empty), so nothing is written there; set RAG_UPLOAD_DIR to a new or "
                "empty folder"
            )
        root.mkdir(parents=True, exist_ok=True)
        (root / MARKER).write_text(
            "Briefs uploaded to brief-rag, kept as <sha256>/<id>.<format>; the server "
            "removes those no index holds any more.\n",
            encoding="utf-8",
        )


def _is_our_name(folder: str, name: str) -> bool:
    stem, dot, suffix = name.rpartition(".")
    return (
        _SHA_RE.fullmatch(folder) is not None
        and dot == "."
        and f".{suffix}" in {r.suffixes[0] for r in (TEXT, MARKDOWN, PDF, DOCX, HTML)}
        and is_document_id(stem)
    )
