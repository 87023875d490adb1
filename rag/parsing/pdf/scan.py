"""A bounded look at a PDF's raw bytes, before PDFium is given the file.

PDFium pays for a page inside one call that cannot be interrupted or metered:
FPDF_LoadPage parses the page's content and, recursively, every form XObject it draws,
inflating each stream whole in memory. Measured: a 2 KB file whose forms draw each other
ten times per level, six levels deep, took 11.6 s and 1.7 GB in FPDF_LoadPage alone; one
page whose 1 MB content stream inflates to 1 GiB took 5 s and 2.07 GB; a 6 MB content stream
of a million ``(a)Tj`` took 338 MB. PDFium's page-object API (FPDFPage_CountObjects, ...)
counts only after that. So this module reads the file itself, and refuses it first when:

1. its streams inflate past ``max_pdf_decoded_mb`` in all. Every stream PDFium would inflate
   to read text (all but images and attached files, which it does not) is inflated here
   once, in chunks of at most 1 MiB that are counted and dropped: the work stops at the
   limit, and memory stays at a few MiB whatever the stream holds.
2. a page would draw more than ``max_pdf_page_objects`` objects or nest forms deeper than
   ``max_pdf_form_depth``, or the pages so far hold more than ``max_pdf_text_objects``
   text objects. Each content stream a page or a form draws is inflated once more
   (within the same limit), counting its drawing operators and the forms it draws by name;
   a page's objects are then summed over the graph of forms, each form's total computed
   once (memoised), so a form drawn a million times costs one sum, not a million.

Everything here is linear in the file's size plus the inflated bytes: a regular
expression finds the objects and streams, and only the dictionaries of streams and of the
objects the page tree leads to are parsed. Inflating runs at zlib's speed (0.8 s for the
default 256 MiB); LZWDecode, rare since PDF 1.2, is decoded in Python (~1 MB of input/s).

What it cannot see (an encrypted file's streams, filters it does not decode, an object
table PDFium resolves otherwise than the last definition in the file, fonts' glyph
programs) the worker's memory and time limits bound instead (worker.py). Its counts are
estimates erring high (a one-letter word "s" in a string counts as a stroke), far below
the defaults on any real page.
"""

from __future__ import annotations

import bisect
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from rag.errors import CorpusFormatError
from rag.parsing.pdf.budgets import over

if TYPE_CHECKING:
    from rag.parsing.readers import ReadOptions

CHUNK = 1 << 20  # most bytes a decoder hands on at once
_RAW_CHUNK = 64 << 10  # raw bytes fed to a decoder at once
_MAX_NESTING = 64  # arrays and dictionaries inside each other, page tree levels, references

_WS = rb"\x00\t\n\x0c\r "
_DELIM = rb"()<>\[\]{}/%"
_REGULAR_RE = re.compile(rb"[^" + _WS + _DELIM + rb"]*")
_SPACE_RE = re.compile(rb"(?:[" + _WS + rb"]+|%[^\r\n]*)*")
_INT_RE = re.compile(rb"[+-]?\d+")
_REF_TAIL_RE = re.compile(rb"[" + _WS + rb"]+(\d+)[" + _WS + rb"]+R(?![^" + _WS + _DELIM + rb"])")
_OBJ_RE = re.compile(
    rb"(\d{1,10})[" + _WS + rb"]+(\d{1,5})[" + _WS + rb"]+obj(?![^" + _WS + _DELIM + rb"])"
)
_STREAM_RE = re.compile(rb">>(?:[" + _WS + rb"]|%[^\r\n]*)*stream[ \t]*(?:\r\n|\n|\r)?")
_STREAM_KEYWORD_RE = re.compile(rb"stream[ \t]*(?:\r\n|\n|\r)?")
_TRAILER_RE = re.compile(rb"trailer(?![^" + _WS + _DELIM + rb"])")
_ESCAPE_RE = re.compile(rb"#([0-9A-Fa-f]{2})")
_STRING_STOP_RE = re.compile(rb"[()\\]")
# What makes PDFium a page object: showing text (Tj TJ ' "), painting a path (S s f F f* B
# B* b b*), drawing an XObject (Do), a shading (sh), an inline image (BI). Counted as tokens
# (delimiters turned to spaces, then split: ~45 MB/s on dense content, ~800 on blank), so a
# one-letter word in a string counts too: the count errs high.
_TEXT_OPERATORS = (b"Tj", b"TJ", b"'", b'"')
_PAINT_OPERATORS = (b"S", b"s", b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*")
_OPERATORS = (*_TEXT_OPERATORS, b"Do", b"sh", b"BI", *_PAINT_OPERATORS)
_TO_SPACES = bytes.maketrans(b"\x00\t\n\x0c\r ()<>[]{}/%", b" " * 16)
_DO_RE = re.compile(
    rb"/([^" + _WS + _DELIM + rb"]{1,127})[" + _WS + rb"]{1,127}Do(?=[" + _WS + _DELIM + rb"]|$)"
)
_CARRY = 512  # bytes kept between chunks: "/name Do" cut in two is still whole in one


class _Unparsable(Exception):
    pass


class _Over(Exception):
    """Inflating went past the decoded-bytes limit."""


class _Tangled(Exception):
    """Streams overlapping each other: decoders were fed far more than the file holds."""


class Name(str):
    pass


class Ref(NamedTuple):
    num: int
    gen: int


@dataclass(eq=False)
class Stream:
    info: dict[str, object]  # its dictionary
    start: int  # first byte of its data in the file
    end: int  # one past its last byte (Length or the next endstream, whichever is further)


def _name(raw: bytes) -> Name:
    return Name(_ESCAPE_RE.sub(lambda m: bytes([int(m[1], 16)]), raw).decode("latin-1"))


class _Parser:
    """PDF objects (the syntax of dictionaries and arrays), from ``pos`` in ``data``."""

    def __init__(self, data: bytes, pos: int) -> None:
        self.data = data
        self.pos = pos

    def skip(self) -> None:
        match = _SPACE_RE.match(self.data, self.pos)
        self.pos = match.end() if match else self.pos

    def value(self, depth: int = 0) -> object:
        if depth > _MAX_NESTING:
            raise _Unparsable
        self.skip()
        data, pos = self.data, self.pos
        if pos >= len(data):
            raise _Unparsable
        if data.startswith(b"<<", pos):
            self.pos += 2
            out: dict[str, object] = {}
            while True:
                self.skip()
                if self.data.startswith(b">>", self.pos):
                    self.pos += 2
                    return out
                key = self.value(depth + 1)
                if not isinstance(key, Name):
                    raise _Unparsable
                out[key] = self.value(depth + 1)
        char = data[pos : pos + 1]
        if char == b"[":
            self.pos += 1
            items: list[object] = []
            while True:
                self.skip()
                if self.data.startswith(b"]", self.pos):
                    self.pos += 1
                    return items
                items.append(self.value(depth + 1))
        if char == b"(":
            return self._literal()
        if char == b"<":
            end = data.find(b">", pos)
            if end < 0:
                raise _Unparsable
            self.pos = end + 1
            return b""
        if char == b"/":
            token = _REGULAR_RE.match(data, pos + 1)
            assert token is not None  # the pattern matches the empty string
            self.pos = token.end()
            return _name(token.group())
        token = _REGULAR_RE.match(data, pos)
        assert token is not None
        word = token.group()
        if not word:
            raise _Unparsable  # a stray ) > ] } where a value belongs
        self.pos = token.end()
        if _INT_RE.fullmatch(word):
            ref = _REF_TAIL_RE.match(data, self.pos)
            if ref:
                self.pos = ref.end()
                return Ref(int(word), int(ref[1]))
            return int(word)
        try:
            return float(word)
        except ValueError:
            return None  # true, false, null, or an operator such as "stream"

    def _literal(self) -> bytes:
        depth, pos = 0, self.pos
        while True:
            stop = _STRING_STOP_RE.search(self.data, pos)
            if stop is None:
                raise _Unparsable
            pos = stop.end()
            char = stop.group()
            if char == b"\\":
                pos += 1
            elif char == b"(":
                depth += 1
            else:
                depth -= 1
                if depth == 0:
                    self.pos = pos
                    return b""


# Decoders: each turns an iterator of chunks into an iterator of chunks, a chunk at a time,
# stopping at its own end-of-data mark, as PDFium's do.
Decoder = Callable[[Iterator[bytes], dict[str, object]], Iterator[bytes]]


def _inflate(source: Iterator[bytes], parms: dict[str, object]) -> Iterator[bytes]:
    inflater = zlib.decompressobj()
    for chunk in source:
        while chunk:
            try:
                out = inflater.decompress(chunk, CHUNK)
            except zlib.error:
                return
            if out:
                yield out
            if inflater.eof:
                return
            chunk = inflater.unconsumed_tail
    try:
        yield inflater.flush()
    except zlib.error:
        return


def _lzw(source: Iterator[bytes], parms: dict[str, object]) -> Iterator[bytes]:
    early = 0 if parms.get("EarlyChange") == 0 else 1
    table = [bytes([i]) for i in range(256)] + [b"", b""]
    width, bits, held = 9, 0, 0
    previous = b""
    out = bytearray()
    for chunk in source:
        for byte in chunk:
            held, bits = (held << 8) | byte, bits + 8
            if bits < width:
                continue
            bits -= width
            code, held = held >> bits, held & ((1 << bits) - 1)
            if code == 256:
                del table[258:]
                width, previous = 9, b""
                continue
            if code == 257:
                yield bytes(out)
                return
            if code < len(table):
                entry = table[code]
                if previous and len(table) < 4096:
                    table.append(previous + entry[:1])
            elif code == len(table) and previous:
                entry = previous + previous[:1]
                if len(table) < 4096:
                    table.append(entry)
            else:
                yield bytes(out)
                return
            out += entry
            previous = entry
            if len(table) + early >= 1 << width and width < 12:
                width += 1
            if len(out) >= CHUNK:
                yield bytes(out)
                out.clear()
    yield bytes(out)


def _ascii_hex(source: Iterator[bytes], parms: dict[str, object]) -> Iterator[bytes]:
    odd = b""
    for chunk in source:
        end = chunk.find(b">")
        digits = odd + re.sub(rb"[^0-9A-Fa-f]", b"", chunk if end < 0 else chunk[:end])
        odd, digits = (digits[-1:], digits[:-1]) if len(digits) % 2 else (b"", digits)
        yield bytes.fromhex(digits.decode("ascii"))
        if end >= 0:
            if odd:
                yield bytes.fromhex((odd + b"0").decode("ascii"))
            return


def _a85_groups(text: bytes) -> int:
    """Length of the longest prefix of ``text`` made of whole groups (5 digits or "z")."""
    if b"z" not in text:
        return len(text) - len(text) % 5
    i = 0
    while i < len(text):
        step = 1 if text[i : i + 1] == b"z" else 5
        if i + step > len(text):
            break
        i += step
    return i


def _ascii85(source: Iterator[bytes], parms: dict[str, object]) -> Iterator[bytes]:
    import base64

    rest = b""
    for chunk in source:
        end = chunk.find(b"~")
        text = rest + re.sub(rb"[^!-uz]", b"", chunk if end < 0 else chunk[:end])
        whole = len(text) if end >= 0 else _a85_groups(text)
        try:
            yield base64.a85decode(text[:whole])
        except ValueError:
            return
        rest = text[whole:]
        if end >= 0:
            return


def _run_length(source: Iterator[bytes], parms: dict[str, object]) -> Iterator[bytes]:
    rest = b""
    for chunk in source:
        data, i, out = rest + chunk, 0, bytearray()
        while i < len(data):
            n = data[i]
            if n == 128:
                yield bytes(out)
                return
            if n < 128:
                if i + n + 2 > len(data):
                    break
                out += data[i + 1 : i + n + 2]
                i += n + 2
            else:
                if i + 2 > len(data):
                    break
                out += data[i + 1 : i + 2] * (257 - n)
                i += 2
            if len(out) >= CHUNK:
                yield bytes(out)
                out = bytearray()
        rest = data[i:]
        yield bytes(out)


_DECODERS: dict[str, Decoder] = {
    "FlateDecode": _inflate,
    "Fl": _inflate,
    "LZWDecode": _lzw,
    "LZW": _lzw,
    "ASCIIHexDecode": _ascii_hex,
    "AHx": _ascii_hex,
    "ASCII85Decode": _ascii85,
    "A85": _ascii85,
    "RunLengthDecode": _run_length,
    "RL": _run_length,
    "Crypt": lambda source, parms: source,  # the identity crypt filter (encrypted: unread)
}


def _looks_zlib(head: bytes) -> bool:
    return len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0


@dataclass
class _Stats:
    """What one content stream draws: objects (of them text), and forms or images by
    resource name."""

    ops: int = 0
    texts: int = 0
    calls: Counter[str] = field(default_factory=Counter)


class Drawn(NamedTuple):
    """What a page or a form draws, its forms' drawings included."""

    objects: int
    texts: int
    depth: int  # of forms inside forms


class _Scan:
    def __init__(self, path: Path, data: bytes, options: ReadOptions) -> None:
        self.path = path
        self.data = data
        self.options = options
        self.decoded_limit = options.max_pdf_decoded_mb << 20
        self.decoded = 0
        self.fed = 0
        self.fed_limit = 4 * len(data) + (1 << 20)
        self.headers: list[int] = []  # where each "N G obj" ends, in file order
        # Object number -> (order in the file, home, position): home 0 is the file itself,
        # else the object stream starting there; the definition latest in the file wins.
        self.where: dict[int, tuple[int, int, int]] = {}
        self.objstm: dict[int, bytes] = {}  # file position of an object stream -> its data
        self.cache: dict[int, object] = {}  # object number -> the object
        self.parsed: dict[int, object] = {}  # file position -> the object parsed there
        self.stats: dict[int, _Stats] = {}
        self.totals: dict[tuple[int, int], Drawn] = {}
        self.on_path: set[int] = set()
        self.resources_seen: list[object] = []  # keeps ids in `totals` keys alive

    # -- objects ---------------------------------------------------------------------

    def index(self) -> None:
        for match in _OBJ_RE.finditer(self.data):
            self.headers.append(match.end())
            self.where[int(match[1])] = (match.start(), 0, match.end())

    def _parse_at(self, pos: int) -> object:
        if pos in self.parsed:
            return self.parsed[pos]
        self.parsed[pos] = None  # a Length that names its own object finds nothing
        parser = _Parser(self.data, pos)
        try:
            value = parser.value()
        except (_Unparsable, RecursionError):
            return None
        if isinstance(value, dict):
            parser.skip()
            keyword = _STREAM_KEYWORD_RE.match(self.data, parser.pos)
            if keyword:
                value = Stream(value, keyword.end(), self._end(value, keyword.end()))
        self.parsed[pos] = value
        return value

    def _end(self, info: dict[str, object], start: int) -> int:
        end = self.data.find(b"endstream", start)
        end = len(self.data) if end < 0 else end
        length = self.get(info.get("Length"))
        if isinstance(length, int) and 0 <= length <= len(self.data) - start:
            end = max(end, start + length)
        return end

    def get(self, value: object, depth: int = 0) -> object:
        """``value`` with a reference replaced by the object it names (None if none)."""
        while isinstance(value, Ref) and depth < _MAX_NESTING:
            depth += 1
            if value.num in self.cache:
                value = self.cache[value.num]
                continue
            where = self.where.get(value.num)
            if where is None:
                return None
            _, home, pos = where
            resolved: object = None
            if home == 0:
                resolved = self._parse_at(pos)
            else:
                data = self.objstm.get(home)
                if data is not None:
                    try:
                        resolved = _Parser(data, pos).value()
                    except (_Unparsable, RecursionError):
                        resolved = None
            self.cache[value.num] = resolved
            value = resolved
        return None if isinstance(value, Ref) else value

    def dict_of(self, value: object) -> dict[str, object]:
        value = self.get(value)
        if isinstance(value, Stream):
            return value.info
        return value if isinstance(value, dict) else {}

    # -- inflating -------------------------------------------------------------------

    def _raw(self, start: int, end: int) -> Iterator[bytes]:
        view = memoryview(self.data)
        for offset in range(start, end, _RAW_CHUNK):
            piece = bytes(view[offset : min(end, offset + _RAW_CHUNK)])
            self.fed += len(piece)
            if self.fed > self.fed_limit:
                raise _Tangled
            yield piece

    def _filters(self, info: dict[str, object]) -> list[tuple[str, dict[str, object]]]:
        filters = self.get(info.get("Filter"))
        parms = self.get(info.get("DecodeParms"))
        names = filters if isinstance(filters, list) else [filters]
        parm_list = parms if isinstance(parms, list) else [parms] * len(names)
        out = []
        for i, name in enumerate(names):
            name = self.get(name)
            if not isinstance(name, Name):
                break
            parm = self.get(parm_list[i]) if i < len(parm_list) else None
            out.append((str(name), parm if isinstance(parm, dict) else {}))
        return out

    def decode(self, stream: Stream) -> Iterator[bytes]:
        """The stream's bytes as PDFium decodes them to read text: its filters up to the
        first image codec (DCT, JPX, JBIG2, CCITT), which PDFium leaves to rendering."""
        filters = self._filters(stream.info)
        if not filters and _looks_zlib(self.data[stream.start : stream.start + 2]):
            # No filter it can name (one hidden behind a broken reference?): PDFium might
            # still inflate it, so count what inflating would give (erring high).
            filters = [("FlateDecode", {})]
        chunks: Iterator[bytes] = self._raw(stream.start, stream.end)
        for name, parms in filters:
            decoder = _DECODERS.get(name)
            if decoder is None:
                break
            chunks = decoder(chunks, parms)
        return chunks

    def count(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.decoded += len(chunk)
            if self.decoded > self.decoded_limit:
                raise _Over
            yield chunk

    def streams(self) -> None:
        """Inflate every stream PDFium could inflate (step 1); load the object streams."""
        seen: set[int] = set()
        for match in _STREAM_RE.finditer(self.data):
            start = match.end()
            owner = bisect.bisect_right(self.headers, match.start()) - 1
            value = self._parse_at(self.headers[owner]) if owner >= 0 else None
            if isinstance(value, Stream) and value.start == start:
                stream = value
            else:  # a "stream" keyword no object owns: count it as bare bytes, or zlib
                stream = Stream({}, start, self._end({}, start))
            if stream.start in seen:
                continue
            seen.add(stream.start)
            kind = self.get(stream.info.get("Type"))
            if self.get(stream.info.get("Subtype")) == "Image" or kind == "EmbeddedFile":
                continue  # not inflated by PDFium to read text (contents are checked later)
            if kind == "ObjStm":
                self._object_stream(match.start(), stream)
                continue
            filters = self._filters(stream.info)
            if not filters and not _looks_zlib(self.data[start : start + 2]):
                self.decoded += stream.end - stream.start  # stored as is: no work to count
                if self.decoded > self.decoded_limit:
                    raise _Over
                continue
            for _ in self.count(self.decode(stream)):
                pass
        self.cache.clear()  # objects met before the object stream holding them was read

    def _object_stream(self, order: int, stream: Stream) -> None:
        kept = bytearray()
        for chunk in self.count(self.decode(stream)):
            if len(kept) < 64 << 20:  # objects further in are left to the worker's limits
                kept += chunk
        data = bytes(kept)
        self.objstm[stream.start] = data
        first = self.get(stream.info.get("First"))
        count = self.get(stream.info.get("N"))
        if not isinstance(first, int) or not isinstance(count, int):
            return
        numbers = _INT_RE.findall(data[:first], 0)[: 2 * max(0, count)]
        for num, offset in zip(numbers[::2], numbers[1::2], strict=False):
            where = self.where.get(int(num))
            if where is None or where[0] < order:  # the later definition wins
                self.where[int(num)] = (order, stream.start, first + int(offset))

    # -- pages and forms (step 2) ----------------------------------------------------------

    def root(self) -> object:
        """The catalog named by the last trailer (or cross-reference stream) in the file:
        the document as last saved."""
        found: list[tuple[int, object]] = []
        for match in _TRAILER_RE.finditer(self.data):
            try:
                trailer = _Parser(self.data, match.end()).value()
            except (_Unparsable, RecursionError):
                continue
            if isinstance(trailer, dict) and "Root" in trailer:
                found.append((match.start(), trailer["Root"]))
        for num, (_, home, pos) in list(self.where.items()):
            if home == 0 and b"/XRef" in self.data[pos : pos + 200]:
                info = self.dict_of(Ref(num, 0))
                if info.get("Type") == "XRef" and "Root" in info:
                    found.append((pos, info["Root"]))
        return max(found, key=lambda item: item[0])[1] if found else None

    def pages(self) -> Iterator[dict[str, object]]:
        """Page dictionaries in page-tree order, with inherited Resources filled in."""
        visited: set[int] = set()
        for root in [self.root()]:
            catalog = self.dict_of(root)
            stack: list[tuple[object, object, int]] = [(catalog.get("Pages"), None, 0)]
            while stack:
                ref, inherited, depth = stack.pop()
                node = self.get(ref)
                if not isinstance(node, dict) or id(node) in visited or depth > _MAX_NESTING:
                    continue
                visited.add(id(node))
                resources = node.get("Resources", inherited)
                kids = self.get(node.get("Kids"))
                if isinstance(kids, list) and node.get("Type") != "Page":
                    stack.extend((kid, resources, depth + 1) for kid in reversed(kids))
                else:
                    yield {**node, "Resources": resources}

    def _stats(self, stream: Stream) -> _Stats:
        if stream.start in self.stats:
            return self.stats[stream.start]
        stats = _Stats()
        limit = self.options.max_pdf_page_objects
        image = self.get(stream.info.get("Subtype")) == "Image"
        chunks = self.decode(stream)
        carry = b""
        for chunk in self.count(chunks) if image else chunks:  # images: uncounted in step 1
            text = carry + chunk
            spaced = text.translate(_TO_SPACES)
            # Whole tokens before the cut, which is at a delimiter _CARRY bytes from the end.
            cut = spaced.rfind(b" ", 0, max(0, len(text) - _CARRY)) + 1
            self._tally(stats, text, spaced, cut)
            carry = text[cut:]
            if stats.ops > limit:
                break
        else:
            self._tally(stats, carry, carry.translate(_TO_SPACES), len(carry))
        self.stats[stream.start] = stats
        return stats

    @staticmethod
    def _tally(stats: _Stats, text: bytes, spaced: bytes, cut: int) -> None:
        tokens = Counter(spaced[:cut].split())
        stats.ops += sum(tokens[op] for op in _OPERATORS)
        stats.texts += sum(tokens[op] for op in _TEXT_OPERATORS)
        if tokens[b"Do"]:
            stats.calls.update(_name(m[1]) for m in _DO_RE.finditer(text) if m.start() < cut)

    def _contents(self, value: object) -> list[Stream]:
        value = self.get(value)
        items = value if isinstance(value, list) else [value]
        return [s for s in (self.get(item) for item in items) if isinstance(s, Stream)]

    def draws(self, contents: list[Stream], resources: object, page: int) -> Drawn:
        """What ``contents`` draw with ``resources``, their forms' drawings included."""
        limit = self.options.max_pdf_page_objects
        xobjects = self.dict_of(self.dict_of(resources).get("XObject"))
        objects = texts = depth = 0
        for stream in contents:
            stats = self._stats(stream)
            objects, texts = objects + stats.ops, texts + stats.texts
            for name, times in stats.calls.items():
                form = self.get(xobjects.get(name))
                if not isinstance(form, Stream) or self.get(form.info.get("Subtype")) != "Form":
                    continue
                inner = self._form(form, resources, page)
                objects, texts = objects + times * inner.objects, texts + times * inner.texts
                depth = max(depth, inner.depth + 1)
                if objects > limit:  # enough: the page is refused (stop before the ints grow)
                    return Drawn(objects, texts, depth)
        return Drawn(objects, texts, depth)

    def _form(self, form: Stream, inherited: object, page: int) -> Drawn:
        # A form without resources of its own uses its caller's (as PDFium does).
        resources = form.info.get("Resources") or inherited
        key = (form.start, id(resources))
        if key in self.totals:
            return self.totals[key]
        self.resources_seen.append(resources)
        depth_limit = self.options.max_pdf_form_depth
        # Deeper than the limit, or a form that draws itself (PDFium cuts such loops short).
        if len(self.on_path) >= depth_limit or form.start in self.on_path:
            raise over(self.path, "form_depth", depth_limit, page)
        self.on_path.add(form.start)
        try:
            drawn = self.draws([form], resources, page)
        finally:
            self.on_path.discard(form.start)
        self.totals[key] = drawn
        return drawn

    def check_pages(self) -> None:
        options = self.options
        texts = 0
        for number, page in enumerate(self.pages(), start=1):
            if number > options.max_pdf_pages:
                return  # the worker refuses the page count
            contents = self._contents(page.get("Contents"))
            drawn = self.draws(contents, page.get("Resources"), number)
            if drawn.depth > options.max_pdf_form_depth:
                raise over(self.path, "form_depth", options.max_pdf_form_depth, number)
            if drawn.objects > options.max_pdf_page_objects:
                raise over(self.path, "page_objects", options.max_pdf_page_objects, number)
            texts += drawn.texts
            if texts > options.max_pdf_text_objects:
                raise over(self.path, "text_objects", options.max_pdf_text_objects, number)


def encrypted(data: bytes) -> bool:
    return re.search(rb"/Encrypt(?![^" + _WS + _DELIM + rb"])", data) is not None


def scan(path: Path, data: bytes, options: ReadOptions) -> None:
    """Raise the one-line error if the PDF in ``data`` goes over a budget steps 1 and 2 of
    the module's docstring check; return quietly otherwise (or if it cannot tell)."""
    state = _Scan(path, data, options)
    state.index()
    try:
        state.streams()
        if not encrypted(data):  # encrypted content streams cannot be read here
            state.check_pages()
    except _Over:
        raise over(path, "decoded_mb", options.max_pdf_decoded_mb) from None
    except _Tangled:
        raise CorpusFormatError(
            f"{path}: damaged PDF, its streams overlap each other; re-export it from its source"
        ) from None
