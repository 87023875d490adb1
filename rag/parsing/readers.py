"""File readers registered by suffix (like simonw/llm's registries), instead of an if/else.

A reader turns a file's bytes into a :class:`~rag.parsing.structure.Draft`. Text and
Markdown are decoded here; a PDF reader works from the file itself. ``register`` adds a
format: the loader and folder discovery pick it up from the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rag.errors import CorpusFormatError
from rag.parsing.markdown import parse_markdown
from rag.parsing.plaintext import parse_plaintext
from rag.parsing.structure import Draft
from rag.text import looks_binary

Format = Literal["text", "markdown", "pdf"]


@dataclass(frozen=True)
class ReadOptions:
    """Limits a reader applies (from the settings)."""

    max_pdf_pages: int = 300


@dataclass(frozen=True)
class Read:
    draft: Draft
    page_count: int | None = None


@dataclass(frozen=True)
class Reader:
    format: Format
    suffixes: tuple[str, ...]
    read: Callable[[Path, bytes, ReadOptions], Read]


_READERS: dict[str, Reader] = {}


def register(reader: Reader) -> None:
    for suffix in reader.suffixes:
        _READERS[suffix.lower()] = reader


def suffixes() -> set[str]:
    return set(_READERS)


def reader_for(path: Path) -> Reader:
    """The reader for ``path``'s suffix; a file named explicitly without one is read as text."""
    return _READERS.get(path.suffix.lower(), TEXT)


def _decode(path: Path, data: bytes) -> str:
    if looks_binary(data):
        raise CorpusFormatError(
            f"{path}: looks binary, not a text brief; convert it to .txt or .md first"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusFormatError(
            f"{path}: not valid UTF-8 (byte {exc.start}); save it as UTF-8 and retry"
        ) from None


def _read_text(path: Path, data: bytes, options: ReadOptions) -> Read:
    return Read(parse_plaintext(_decode(path, data)))


def _read_markdown(path: Path, data: bytes, options: ReadOptions) -> Read:
    return Read(parse_markdown(_decode(path, data)))


def _read_pdf(path: Path, data: bytes, options: ReadOptions) -> Read:
    # Deferred: pypdfium2 loads a native library, which `rag --help` must not pay for.
    from rag.parsing.pdf import parse_pdf

    draft, pages = parse_pdf(path, max_pages=options.max_pdf_pages)
    return Read(draft, page_count=pages)


TEXT = Reader("text", (".txt", ".text"), _read_text)
MARKDOWN = Reader("markdown", (".md", ".markdown"), _read_markdown)
PDF = Reader("pdf", (".pdf",), _read_pdf)
for _reader in (TEXT, MARKDOWN, PDF):
    register(_reader)
