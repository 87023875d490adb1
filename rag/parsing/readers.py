"""File readers registered by suffix (like simonw/llm's registries), instead of an if/else.

A reader turns a file's bytes into a :class:`~rag.parsing.structure.Draft`. Text and
Markdown are decoded here; a PDF reader works from the file itself. ``register`` adds a
format: the loader and folder discovery pick it up from the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from rag.errors import CorpusFormatError
from rag.parsing.markdown import parse_markdown
from rag.parsing.plaintext import parse_plaintext
from rag.parsing.structure import Draft
from rag.text import looks_binary

if TYPE_CHECKING:
    from rag.config import Settings

Format = Literal["text", "markdown", "pdf"]


@dataclass(frozen=True)
class ReadOptions:
    """Limits a reader applies (from the settings; the defaults are the settings')."""

    max_pdf_pages: int = 300
    # The PDF budgets (rag/parsing/pdf/budgets.py), one per RAG_PDF_MAX_* setting.
    max_pdf_decoded_mb: int = 256
    max_pdf_form_depth: int = 12
    max_pdf_page_objects: int = 100_000
    max_pdf_text_objects: int = 100_000
    max_pdf_page_chars: int = 50_000
    max_pdf_chars: int = 1_500_000
    max_pdf_memory_mb: int = 1024
    max_pdf_seconds: float = 300.0

    @classmethod
    def from_settings(cls, settings: Settings) -> ReadOptions:
        """Each field from its setting: ``max_pdf_x`` from ``pdf_max_x`` (RAG_PDF_MAX_X)."""
        return cls(
            **{
                f.name: getattr(settings, f.name.replace("max_pdf_", "pdf_max_"))
                for f in fields(cls)
            }
        )


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

    draft, pages = parse_pdf(path, options, data)
    return Read(draft, page_count=pages)


TEXT = Reader("text", (".txt", ".text"), _read_text)
MARKDOWN = Reader("markdown", (".md", ".markdown"), _read_markdown)
PDF = Reader("pdf", (".pdf",), _read_pdf)
for _reader in (TEXT, MARKDOWN, PDF):
    register(_reader)
