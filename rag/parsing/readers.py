"""File readers registered by suffix (like simonw/llm's registries), instead of an if/else.

A reader turns a file's bytes into a :class:`~rag.parsing.structure.Draft`. Text and
Markdown are decoded here; the PDF, Word and HTML readers (rag.parsing.pdf, .docx, .html)
are imported when first used. The loader may pick another reader than the suffix's when
the bytes say otherwise (rag.parsing.sniff). ``register`` adds a
format: the loader and folder discovery pick it up from the registry.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from rag.errors import CorpusFormatError
from rag.parsing.markdown import parse_markdown
from rag.parsing.plaintext import parse_plaintext
from rag.parsing.structure import Draft
from rag.text import detect_encoding, looks_binary

if TYPE_CHECKING:
    from rag.config import Settings

Format = Literal["text", "markdown", "pdf", "docx", "html"]


@dataclass(frozen=True)
class ReadOptions:
    """Limits a reader applies: the settings' of the same names (their defaults here too).
    The input budgets bound what one brief may cost to read and index; each error names
    its RAG_ setting."""

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
    # Bytes of one file, checked before it is read: a PDF or a .docx carries its images, so
    # each has a budget of its own, far above the text formats' (RAG_MAX_FILE_BYTES, which
    # also bounds what a .docx's text parts unpack to).
    max_pdf_bytes: int = 200_000_000
    max_docx_bytes: int = 100_000_000
    max_file_bytes: int = 10_000_000
    max_line_chars: int = 1_000_000
    max_footnotes_per_brief: int = 10_000
    max_passages_per_brief: int = 20_000  # applied by the chunker (rag.store.index.build_index)

    @staticmethod
    def setting(name: str) -> str:
        """The settings field of option ``name``: ``max_pdf_x`` is ``pdf_max_x``, the others
        have the same name."""
        return name.replace("max_pdf_", "pdf_max_")

    @classmethod
    def from_settings(cls, settings: Settings) -> ReadOptions:
        """Each field from its setting (:meth:`setting`)."""
        return cls(**{f.name: getattr(settings, cls.setting(f.name)) for f in fields(cls)})

    def byte_budget(self, reader: Reader) -> tuple[int, str]:
        """The most bytes a file for ``reader`` may hold, and the variable that raises it."""
        return getattr(self, reader.byte_budget), f"RAG_{self.setting(reader.byte_budget).upper()}"


@dataclass(frozen=True)
class Read:
    draft: Draft
    page_count: int | None = None


@dataclass(frozen=True)
class Reader:
    format: Format
    suffixes: tuple[str, ...]
    read: Callable[[Path, bytes, ReadOptions], Read]
    # The ReadOptions field bounding the file's bytes, checked before it is read.
    byte_budget: str = "max_file_bytes"


_READERS: dict[str, Reader] = {}


def register(reader: Reader) -> None:
    for suffix in reader.suffixes:
        _READERS[suffix.lower()] = reader


def suffixes() -> set[str]:
    return set(_READERS)


def reader_for(path: Path) -> Reader:
    """The reader for ``path``'s suffix; a file named explicitly without one is read as text."""
    return _READERS.get(path.suffix.lower(), TEXT)


_CODEC_NAMES = {
    "utf-8-sig": "UTF-8",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16",
    "utf-16-be": "UTF-16",
}
_NEWLINE_RE = re.compile(r"\r\n?|\n")


def _decode(path: Path, data: bytes) -> str:
    """UTF-8 (with or without a BOM), UTF-16 or UTF-32 (with a BOM, or UTF-16 told by its
    NUL bytes); a binary file, or any NUL character, is refused."""
    codec = detect_encoding(data)
    if codec == "utf-8-sig" and looks_binary(data):
        raise _binary(path)
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        name = _CODEC_NAMES.get(codec, codec.upper())
        raise CorpusFormatError(
            f"{path}: not valid {name} (byte {exc.start}); save it as UTF-8 and retry"
        ) from None
    if codec != "utf-8-sig" and looks_binary(text):
        raise _binary(path)
    nul = text.find("\x00")
    if nul >= 0:
        raise CorpusFormatError(
            f"{path}: holds a NUL character (character {nul:,}), which a text brief never "
            "does; remove it, or convert the file to .txt or .md first"
        )
    return text


def _binary(path: Path) -> CorpusFormatError:
    return CorpusFormatError(
        f"{path}: looks binary, not a text brief; convert it to .txt or .md first"
    )


def _text(path: Path, data: bytes, options: ReadOptions) -> str:
    """The decoded text, every line within RAG_MAX_LINE_CHARS (sentence splitting is the
    costly step a very long line reaches)."""
    text = _decode(path, data)
    if len(text) <= options.max_line_chars:
        return text
    start, number = 0, 1
    for match in chain(_NEWLINE_RE.finditer(text), [None]):
        end = match.start() if match else len(text)
        if end - start > options.max_line_chars:
            raise CorpusFormatError(
                f"{path}: line {number:,} has {end - start:,} characters, over the budget of "
                f"{options.max_line_chars:,} per line; break it into lines, or raise "
                "RAG_MAX_LINE_CHARS"
            )
        if match:
            start, number = match.end(), number + 1
    return text


def _read_text(path: Path, data: bytes, options: ReadOptions) -> Read:
    return Read(parse_plaintext(_text(path, data, options)))


def _read_markdown(path: Path, data: bytes, options: ReadOptions) -> Read:
    return Read(parse_markdown(_text(path, data, options)))


def _read_pdf(path: Path, data: bytes, options: ReadOptions) -> Read:
    # Deferred: pypdfium2 loads a native library, which `rag --help` must not pay for.
    from rag.parsing.pdf import parse_pdf

    draft, pages = parse_pdf(path, options, data)
    return Read(draft, page_count=pages)


def _read_html(path: Path, data: bytes, options: ReadOptions) -> Read:
    from rag.parsing.html import parse_html

    if detect_encoding(data) == "utf-8-sig" and looks_binary(data):
        raise _binary(path)
    try:
        return Read(parse_html(data))
    except ValueError as exc:
        raise CorpusFormatError(
            f"{path}: not readable as HTML ({exc}); save it again as HTML, or convert it "
            "to .txt or .md"
        ) from None


def _read_docx(path: Path, data: bytes, options: ReadOptions) -> Read:
    from rag.parsing.docx import parse_docx

    return Read(parse_docx(path, data, options.max_file_bytes))


TEXT = Reader("text", (".txt", ".text"), _read_text)
MARKDOWN = Reader("markdown", (".md", ".markdown"), _read_markdown)
PDF = Reader("pdf", (".pdf",), _read_pdf, byte_budget="max_pdf_bytes")
HTML = Reader("html", (".html", ".htm", ".xhtml"), _read_html)
DOCX = Reader("docx", (".docx",), _read_docx, byte_budget="max_docx_bytes")
for _reader in (TEXT, MARKDOWN, PDF, HTML, DOCX):
    register(_reader)
