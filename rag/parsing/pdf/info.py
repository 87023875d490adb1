"""The title, subject and author a PDF's document information dictionary (``/Info``) gives,
read from its bytes.

PDFium runs in a worker process of its own (worker.py) and returns glyphs only; the title is
a few bytes of one object, found here without it: the trailer's (or the cross-reference
stream's) last ``/Info N G R``, then object N, written plainly in the file or packed in an
object stream (``/Type /ObjStm``, Flate-compressed, as WeasyPrint and most writers since PDF
1.5 do). Every step is bounded (the bytes read of an object, the streams opened, the bytes
inflated), and anything unexpected gives None: the caller falls back on the page itself.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

from rag.text import collapse_space

_INFO_RE = re.compile(rb"/Info\s+(\d{1,10})\s+(\d{1,5})\s+R")
_OBJ_RE = re.compile(rb"(?<![0-9])(\d{1,10})\s+\d{1,5}\s+obj\b")
_OBJSTM_RE = re.compile(rb"/Type\s*/ObjStm\b")
_INT_KEY_RE = {
    key: re.compile(rb"/" + key + rb"\s+(\d{1,10})(?![\d.]|\s+\d+\s+R)")
    for key in (b"N", b"First", b"Length")
}
_KEY_RE = {
    key: re.compile(rb"/" + key.encode() + rb"\s*([(<])") for key in ("Title", "Subject", "Author")
}
_OBJECT_MAX = 64 * 1024  # bytes of the Info object looked at
_STREAMS_MAX = 256  # object streams opened in search of it
_INFLATED_MAX = 16 << 20  # bytes inflated in all, over the object streams opened
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
# Titles that name the file or the template, not the brief.
_PLACEHOLDER_RE = re.compile(
    r"^(?:untitled|title|document\d*|microsoft (?:word|powerpoint) - .*)$|"
    r"\.(?:docx?|odt|pdf|indd|pages|rtf|tex|html?|md)$",
    re.I,
)

# /Author is most often the account that made the file ("jdoe", "Windows User", "Owner",
# "Microsoft Office User", "admin2"): what marks a value as an account, not a person.
_ACCOUNT_RE = re.compile(
    r"user|admin|microsoft|owner|windows|computer|[\d@_\\/<>]|"
    r"\b(?:pc|unknown|author|default|guest|test|root|staff|system|office|hp|dell|lenovo)\b",
    re.I,
)
# Between the names of several authors.
_NAMES_SEP_RE = re.compile(r"\s*(?:;|,|&|\band\b)\s*")
# Words of a name that need no capital ("Ayesha bint Khalid", "Jan van Dijk").
_PARTICLES = {"al", "bin", "bint", "da", "de", "del", "der", "di", "du", "ibn", "la", "le"}
_PARTICLES |= {"van", "von"}


@dataclass(frozen=True)
class Info:
    """What the ``/Info`` dictionary says of the brief: its title, its subject (where
    WeasyPrint puts ``<meta name="description">`` and Word its Subject property) and its
    author when that is a person's name (:func:`person_name`)."""

    title: str | None = None
    subject: str | None = None
    author: str | None = None


def person_name(value: str | None) -> str | None:
    """``value`` if it reads as the names of people ("Jane Doe"; "Dr Jane Doe; John Roe" given
    back as "Dr Jane Doe and John Roe"): two to six words to a name, each starting with a
    capital (or a particle such as "van"), and nothing of an account name (a single token
    such as "jdoe", "user", "admin", "owner", "Microsoft", digits, an e-mail address)."""
    if not value or len(value) > 200 or _ACCOUNT_RE.search(value):
        return None
    names = [n for n in _NAMES_SEP_RE.split(value) if n]
    for name in names:
        words = name.split()
        if len(words) < 2 or len(words) > 6:
            return None
        if not all(w[:1].isupper() or w.lower() in _PARTICLES for w in words):
            return None
        if not any(c.isalpha() for c in name) or not words[-1][:1].isupper():
            return None
    if len(names) > 1:
        return f"{', '.join(names[:-1])} and {names[-1]}"
    return names[0] if names else None


def info_fields(data: bytes) -> Info:
    """The ``/Title`` (if it names the brief: not a file name, "Untitled" or "Microsoft
    Word - brief.docx"), ``/Subject`` and ``/Author`` (if a person's name) of the PDF's
    ``/Info`` dictionary."""
    refs = list(_INFO_RE.finditer(data))
    if not refs:
        return Info()
    body = _object(data, int(refs[-1].group(1)))
    if body is None:
        return Info()
    title = _text(body, "Title")
    if title and (_PLACEHOLDER_RE.search(title) or len(title) > 300):
        title = None
    subject = _text(body, "Subject")
    return Info(
        title=title,
        subject=subject if subject and len(subject) <= 4000 else None,
        author=person_name(_text(body, "Author")),
    )


def info_title(data: bytes) -> str | None:
    """The title of :func:`info_fields`."""
    return info_fields(data).title


def _text(body: bytes, key: str) -> str | None:
    match = _KEY_RE[key].search(body)
    if match is None:
        return None
    raw = _string(body, match.start(1))
    return (collapse_space(_decode(raw)) if raw is not None else "") or None


def _object(data: bytes, number: int) -> bytes | None:
    """The text of object ``number``: the last definition in the file, else in a stream."""
    plain = [m for m in _OBJ_RE.finditer(data) if int(m.group(1)) == number]
    if plain:
        start = plain[-1].end()
        end = data.find(b"endobj", start, start + _OBJECT_MAX)
        return data[start : end if end >= 0 else start + _OBJECT_MAX]
    budget = [_INFLATED_MAX]
    for count, match in enumerate(_OBJSTM_RE.finditer(data)):
        if count >= _STREAMS_MAX or budget[0] <= 0:
            return None
        found = _in_object_stream(data, match.start(), number, budget)
        if found is not None:
            return found
    return None


def _int_key(head: bytes, key: bytes) -> int | None:
    match = _INT_KEY_RE[key].search(head)
    return int(match.group(1)) if match else None


def _in_object_stream(data: bytes, at: int, number: int, budget: list[int]) -> bytes | None:
    """Object ``number`` in the object stream whose dictionary holds ``at``; ``budget``
    (bytes that may still be inflated) is spent."""
    head_start = data.rfind(b"<<", max(0, at - 1024), at)
    stream = data.find(b"stream", at, at + 1024)
    if head_start < 0 or stream < 0:
        return None
    head = data[head_start:stream]
    first, length = _int_key(head, b"First"), _int_key(head, b"Length")
    if first is None or (b"/Filter" in head and b"/FlateDecode" not in head):
        return None
    if b"/DecodeParms" in head:
        return None  # predictors: not used for object streams in practice
    start = stream + len(b"stream")
    start += 2 if data.startswith(b"\r\n", start) else 1
    end = start + length if length is not None else data.find(b"endstream", start)
    if end < start:
        return None
    raw = data[start:end]
    if b"/FlateDecode" in head:
        try:
            raw = zlib.decompressobj().decompress(raw, budget[0])
        except zlib.error:
            return None
        budget[0] -= len(raw)
    pairs = raw[:first].split()
    for i in range(0, len(pairs) - 1, 2):
        if pairs[i].isdigit() and int(pairs[i]) == number and pairs[i + 1].isdigit():
            offset = first + int(pairs[i + 1])
            following = pairs[i + 3] if i + 3 < len(pairs) else None
            end_at = first + int(following) if following and following.isdigit() else len(raw)
            return raw[offset : min(end_at, offset + _OBJECT_MAX)]
    return None


def _string(body: bytes, at: int) -> bytes | None:
    """The bytes of the literal ``(…)`` or hex ``<…>`` string at ``at``."""
    if body[at : at + 1] == b"<":
        end = body.find(b">", at)
        if end < 0:
            return None
        digits = re.sub(rb"[^0-9A-Fa-f]", b"", body[at + 1 : end])
        try:
            return bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode())
        except ValueError:
            return None
    out = bytearray()
    depth, i = 0, at
    while i < len(body):
        char = body[i : i + 1]
        if char == b"\\":
            nxt = body[i + 1 : i + 2]
            octal = re.match(rb"[0-7]{1,3}", body[i + 1 : i + 4])
            if octal:
                out.append(int(octal.group(), 8) & 0xFF)
                i += 1 + len(octal.group())
                continue
            if nxt in (b"\n", b"\r"):  # a line continuation
                i += 3 if body[i + 1 : i + 3] == b"\r\n" else 2
                continue
            out += _ESCAPES.get(nxt, nxt)
            i += 2
            continue
        if char == b"(":
            depth += 1
            if depth == 1:
                i += 1
                continue
        elif char == b")":
            depth -= 1
            if depth == 0:
                return bytes(out)
        out += char
        i += 1
    return None


def _decode(raw: bytes) -> str:
    if raw.startswith(b"\xfe\xff"):
        return raw[2:].decode("utf-16-be", "replace")
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", "replace")
    return raw.decode("latin-1")  # PDFDocEncoding, where the two differ no title cares
