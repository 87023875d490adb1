""":class:`PassageTable`: a build's passages held as columns, a :class:`Passage` made on access.

A tuple of pydantic passages cost 315 MB of anonymous memory for a 100k-passage library:
each instance carries a ``__dict__``, a fields-set ``set`` and its own document, section,
span and footnote objects. Here what repeats is stored once (one :class:`DocumentRef` per
document, one :class:`SectionRef` per distinct section, one string per distinct citation),
the texts are one UTF-8 buffer, the numbers are compact arrays, and footnotes and pages are
offsets into flat columns (most passages have none). A query builds the 10–50 passages it
returns; the per-request scans (a document's rows, a section's rows) read the columns.

The table is immutable: built once from passages (:meth:`PassageTable.of`) or streamed from
``passages.jsonl`` (:meth:`PassageTable.read_jsonl`), which it writes back byte for byte.
"""

from __future__ import annotations

import operator
from array import array
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from pydantic import BaseModel

from rag.records import DocumentRef, FootnoteRef, Passage, SectionRef, Span

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

Kind = Literal["front_matter", "body"]
M = TypeVar("M", bound=BaseModel)

_new = object.__new__
_set = object.__setattr__


def _construct(cls: type[M], values: dict[str, Any]) -> M:
    """What ``cls.model_construct(**values)`` returns when ``values`` names every field of a
    model without extra fields or private attributes, in a fifth of its time: measured on a
    passage, 1.4 µs against 8 µs for ``model_construct`` and 5 µs for validation, and a
    query builds up to 50 of them. The values are trusted: they were validated on the way
    in. (tests/test_passage_table.py checks the result against ``model_construct``'s.)"""
    model = _new(cls)
    _set(model, "__dict__", values)
    _set(model, "__pydantic_fields_set__", set(values))
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model


def _view(column: array[int]) -> NDArray[Any]:
    """A read-only NumPy view of an ``array`` column (no copy)."""
    import numpy as np

    dtype = f"i{column.itemsize}"
    view: NDArray[Any] = np.frombuffer(column, dtype=dtype) if len(column) else np.zeros(0, dtype)
    view.flags.writeable = False
    return view


class PassageTable(Sequence[Passage]):
    """The passages of one build, in build order, as columns.

    ``table[i]`` builds the :class:`Passage` of row ``i`` (equal to the one stored, and
    dumping to the same JSON); a negative index counts from the end and a slice returns a
    ``tuple`` of passages, as the tuple this replaces did. Iterating builds every passage
    one at a time, for the build-time passes that need them all; a request reads the
    columns instead (:meth:`rows_of`, :meth:`rows_in_sections`, :meth:`document_of`, …)."""

    __slots__ = (
        "_citation",
        "_document",
        "_documents",
        "_end",
        "_ids",
        "_kind",
        "_kinds",
        "_note_at",
        "_number",
        "_ordinal",
        "_page_at",
        "_pages",
        "_section",
        "_sections",
        "_start",
        "_text",
        "_text_at",
        "_tokens",
        "_url",
    )

    def __init__(self, columns: _Columns) -> None:
        """Use :meth:`of` or :meth:`read_jsonl`."""
        c = columns
        self._ids: tuple[str, ...] = tuple(c.ids)
        # UTF-8: 40% of the 100k library's texts hold a non-ASCII character (a footnote
        # marker), which makes a str two bytes a character. The buffer the columns grew,
        # kept as it is: a bytes copy raised the load's peak by its 31 MB.
        self._text = c.text
        self._text_at = c.text_at
        self._start, self._end, self._tokens, self._ordinal = c.start, c.end, c.tokens, c.ordinal
        self._document, self._documents = c.document, tuple(c.documents)
        self._section, self._sections = c.section, tuple(c.sections)
        self._kind, self._kinds = c.kind, tuple(c.kinds)
        # Row i's footnote refs are entries note_at[i]:note_at[i+1] of number/citation/url,
        # its pages entries page_at[i]:page_at[i+1] of pages.
        self._note_at, self._number = c.note_at, c.number
        self._citation: tuple[str, ...] = tuple(c.citation)
        self._url: tuple[str | None, ...] = tuple(c.url)
        self._page_at, self._pages = c.page_at, c.pages

    # ------------------------------------------------------------------ building

    @classmethod
    def of(cls, passages: Iterable[Passage]) -> PassageTable:
        """The table of ``passages``, in their order."""
        columns = _Columns()
        for passage in passages:
            columns.add(passage)
        return cls(columns)

    @classmethod
    def read_jsonl(cls, path: Path) -> PassageTable:
        """Stream ``passages.jsonl`` (one passage's JSON a line) into columns: each line is
        validated as a :class:`Passage` and dropped, so the whole file's passage objects
        never exist at once. A line that is not a passage raises pydantic's ValueError."""
        columns = _Columns()
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    columns.add(Passage.model_validate_json(line))
        return cls(columns)

    def write_jsonl(self, path: Path) -> None:
        """One passage's JSON a line: the bytes a tuple of the same passages wrote."""
        with open(path, "w", encoding="utf-8") as fh:
            for passage in self:
                fh.write(passage.model_dump_json() + "\n")

    # ------------------------------------------------------------------ the sequence

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, index: int) -> Passage: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Passage, ...]: ...

    def __getitem__(self, index: int | slice) -> Passage | tuple[Passage, ...]:
        if isinstance(index, slice):
            return tuple(self._passage(i) for i in range(*index.indices(len(self))))
        row, n = operator.index(index), len(self._ids)  # a NumPy integer too, as a tuple took
        if not -n <= row < n:
            raise IndexError(f"passage row {row} out of range for {n} passages")
        return self._passage(row % n)

    def __iter__(self) -> Iterator[Passage]:
        for row in range(len(self._ids)):
            yield self._passage(row)

    def __repr__(self) -> str:
        return f"PassageTable({len(self)} passages, {len(self._documents)} documents)"

    def _passage(self, row: int) -> Passage:
        note_at, page_at = self._note_at, self._page_at
        a, b = note_at[row], note_at[row + 1]
        notes: tuple[FootnoteRef, ...] = (
            tuple(
                _construct(
                    FootnoteRef,
                    {"number": self._number[j], "citation": self._citation[j], "url": self._url[j]},
                )
                for j in range(a, b)
            )
            if b > a
            else ()
        )
        c, d = page_at[row], page_at[row + 1]
        return _construct(
            Passage,
            {
                "id": self._ids[row],
                "document": self._documents[self._document[row]],
                "text": self.text_of(row),
                "section": self._sections[self._section[row]],
                "footnotes": notes,
                "span": _construct(Span, {"start": self._start[row], "end": self._end[row]}),
                "tokens": self._tokens[row],
                "ordinal": self._ordinal[row],
                "kind": self._kinds[self._kind[row]],
                "pages": tuple(self._pages[c:d]) if d > c else (),
            },
        )

    # ------------------------------------------------------------------ one row's fields

    @property
    def ids(self) -> tuple[str, ...]:
        """Each row's passage id."""
        return self._ids

    def document_of(self, row: int) -> DocumentRef:
        return self._documents[self._document[row]]

    def section_of(self, row: int) -> SectionRef:
        return self._sections[self._section[row]]

    def kind_of(self, row: int) -> Kind:
        return self._kinds[self._kind[row]]

    def text_of(self, row: int) -> str:
        return self._text[self._text_at[row] : self._text_at[row + 1]].decode(
            "utf-8", "surrogatepass"
        )

    # ------------------------------------------------------------------ whole columns

    def rows_of(self, documents: Collection[str]) -> NDArray[np.int64]:
        """The rows of the passages of the documents with these ids, in row order."""
        import numpy as np

        wanted = set(documents)
        codes = [i for i, ref in enumerate(self._documents) if ref.id in wanted]
        rows: NDArray[np.int64] = np.flatnonzero(np.isin(_view(self._document), codes))
        return rows

    def rows_in_sections(self, keep: Callable[[SectionRef], bool]) -> NDArray[np.int64]:
        """The rows whose section ``keep`` accepts, in row order (``keep`` is asked once per
        distinct section, not once per row)."""
        import numpy as np

        codes = [i for i, section in enumerate(self._sections) if keep(section)]
        rows: NDArray[np.int64] = np.flatnonzero(np.isin(_view(self._section), codes))
        return rows

    def sections_in(self, rows: Iterable[int] | None = None) -> list[SectionRef]:
        """The distinct sections of ``rows`` (every row when None), in first-row order."""
        import numpy as np

        codes = _view(self._section)
        if rows is not None:
            codes = codes[np.fromiter(rows, dtype=np.int64)]
        _, first = np.unique(codes, return_index=True)
        return [self._sections[int(codes[i])] for i in np.sort(first)]

    def count_by_document(self) -> Counter[str]:
        """How many passages each document id has."""
        import numpy as np

        counts = np.bincount(_view(self._document), minlength=len(self._documents))
        out: Counter[str] = Counter()
        for ref, n in zip(self._documents, counts.tolist(), strict=True):
            out[ref.id] += n
        return out

    def sections_by_document(self) -> dict[str, Counter[SectionRef]]:
        """Per document id, how many passages each of its sections holds."""
        import numpy as np

        width = max(len(self._sections), 1)
        pairs = _view(self._document).astype(np.int64) * width + _view(self._section)
        found, counts = np.unique(pairs, return_counts=True)
        out: dict[str, Counter[SectionRef]] = {}
        for pair, n in zip(found.tolist(), counts.tolist(), strict=True):
            document, section = divmod(pair, width)
            tally = out.setdefault(self._documents[document].id, Counter())
            tally[self._sections[section]] += n
        return out

    def citations(self) -> Iterator[tuple[int, int]]:
        """(row, footnote number) for every footnote marker, in row order, then in the
        order of the passage's refs."""
        note_at, number = self._note_at, self._number
        for row in range(len(self._ids)):
            for j in range(note_at[row], note_at[row + 1]):
                yield row, number[j]


class _Columns:
    """The growing columns :class:`PassageTable` freezes; what repeats is interned."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.text = bytearray()
        self.text_at = array("q", [0])
        self.start, self.end = array("q"), array("q")
        self.tokens, self.ordinal = array("i"), array("i")
        self.document, self.section, self.kind = array("i"), array("i"), array("b")
        self.documents: list[DocumentRef] = []
        self.sections: list[SectionRef] = []
        self.kinds: list[Kind] = []
        self.note_at, self.number = array("q", [0]), array("i")
        self.citation: list[str] = []
        self.url: list[str | None] = []
        self.page_at, self.pages = array("q", [0]), array("i")
        self._codes: dict[tuple[Any, ...], int] = {}  # ("d"|"s"|"k", key) → code
        self._strings: dict[str, str] = {}  # one object per distinct citation and url

    def _code(self, key: tuple[Any, ...], values: list[Any], value: Any) -> int:
        code = self._codes.get(key)
        if code is None:
            code = self._codes[key] = len(values)
            values.append(value)
        return code

    def _string(self, text: str) -> str:
        return self._strings.setdefault(text, text)

    def add(self, p: Passage) -> None:
        self.ids.append(p.id)
        self.text += p.text.encode("utf-8", "surrogatepass")
        self.text_at.append(len(self.text))
        self.start.append(p.span.start)
        self.end.append(p.span.end)
        self.tokens.append(p.tokens)
        self.ordinal.append(p.ordinal)
        doc, section = p.document, p.section
        self.document.append(self._code(("d", doc.id, doc.title), self.documents, doc))
        self.section.append(self._code(("s", section.title, section.path), self.sections, section))
        self.kind.append(self._code(("k", p.kind), self.kinds, p.kind))
        for ref in p.footnotes:
            self.number.append(ref.number)
            self.citation.append(self._string(ref.citation))
            self.url.append(None if ref.url is None else self._string(ref.url))
        self.note_at.append(len(self.number))
        self.pages.extend(p.pages)
        self.page_at.append(len(self.pages))
