"""Small text helpers shared by the parsers, the chunker and the evaluation.

Footnote markers are superscript digits in the clean text. We never apply NFKC, which
would turn ``ally.¹`` into ``ally.1`` and corrupt both the text and the marker.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_TO_SUPER = str.maketrans("0123456789", SUPERSCRIPTS)
_FROM_SUPER = str.maketrans(SUPERSCRIPTS, "0123456789")

MARKER_RE = re.compile(f"[{SUPERSCRIPTS}]+")
# Markdown backslash escapes of ASCII punctuation (CommonMark's list).
_ESCAPE_RE = re.compile(r"\\([!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])")
_SPACE_RE = re.compile(r"\s+")
# Zero-width and bidi controls carry no meaning for matching.
_INVISIBLE = "".join(
    map(chr, (*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2065), 0xFEFF))
)


# What a question made of nothing but these says is nothing: whitespace, control and format
# characters (zero-width spaces and joiners, bidi marks, the BOM) of the Basic Multilingual
# Plane, as ranges that read the same in Python's and JSON Schema's (ECMA) regexes, so an
# API schema can carry the rule the server enforces. A test derives it from unicodedata.
INVISIBLE = (
    r"\x00-\x20\x7f-\xa0\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u1680"
    r"\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u2066-\u206f\u3000\ufeff\ufff9-\ufffb"
)
# "At least one character that is not invisible" (JSON Schema patterns are searched, not
# anchored).
VISIBLE = f"[^{INVISIBLE}]"
_VISIBLE_RE = re.compile(VISIBLE)


def has_visible_text(text: str) -> bool:
    """Whether ``text`` holds anything but whitespace and invisible characters."""
    return _VISIBLE_RE.search(text) is not None


def to_superscript(number: int) -> str:
    return str(number).translate(_TO_SUPER)


def from_superscript(marker: str) -> int:
    return int(marker.translate(_FROM_SUPER))


def unescape_markdown(text: str) -> str:
    """``\\$1.5 billion`` → ``$1.5 billion``."""
    return _ESCAPE_RE.sub(r"\1", text)


def markers_in(text: str) -> list[int]:
    """Footnote numbers in order of appearance, without repeats."""
    seen: dict[int, None] = {}
    for match in MARKER_RE.finditer(text):
        seen.setdefault(from_superscript(match.group()), None)
    return list(seen)


def strip_markers(text: str) -> str:
    return MARKER_RE.sub("", text)


def collapse_space(text: str) -> str:
    return _SPACE_RE.sub(" ", text).strip()


# Typography a reader types differently: curly and low quotes, primes, dashes and the minus
# sign, no-break and other fixed-width spaces; soft hyphens (and the zero-width and bidi
# controls) are deleted. One character in gives at most one out, so offsets map simply.
_TYPOGRAPHY = str.maketrans(
    {
        **dict.fromkeys("‘’‚‛′", "'"),
        **dict.fromkeys("“”„‟″«»", '"'),
        **dict.fromkeys("‐‑‒–—―−", "-"),
        **dict.fromkeys("\u00a0\u2007\u202f\u2000\u2001\u2002\u2003\u2004\u2005\u2006", " "),
        **dict.fromkeys("\u2008\u2009\u200a\u205f\u3000", " "),
        "\u00ad": None,
    }
)
# Recorded in the BM25 index manifest: a change here changes the index's tokens.
TYPOGRAPHY_FOLD = "typography-1"
# The same fold, one replacement per character it changes ("" for those it deletes): they
# are rare, and finding them is 17 times faster than translating every character of a long
# text (the 206 briefs of a 10k-passage library: 0.28 -> 0.016 s).
_FOLDED = {chr(c): to or "" for c, to in _TYPOGRAPHY.items()} | dict.fromkeys(_INVISIBLE, "")
_FOLDED_RE = re.compile(f"[{re.escape(''.join(_FOLDED))}]")


def _folded(match: re.Match[str]) -> str:
    return _FOLDED[match.group()]


def fold_typography(text: str) -> str:
    """``Russia’s — “ally”`` → ``Russia's - "ally"``: the form in which text is matched (BM25
    tokens, evidence quotes), never the form shown. Invisible controls and soft hyphens go,
    typographic quotes, dashes and fixed-width spaces become their ASCII counterparts."""
    # Everything folded is outside ASCII, and most texts are ASCII: checking is a hundred
    # times cheaper than the search and the translation (a 100k-passage library folds
    # 490,000 texts to build its term statistics).
    if text.isascii():
        return text
    return _FOLDED_RE.sub(_folded, text)


def match_key(text: str) -> str:
    """Canonical form for comparing evidence with passages: no markers, no escapes,
    no invisible characters, typography folded (:func:`fold_typography`), whitespace
    collapsed, casefolded."""
    text = fold_typography(unescape_markdown(strip_markers(text)))
    return collapse_space(unicodedata.normalize("NFC", text)).casefold()


def page_label(pages: tuple[int, ...] | list[int]) -> str:
    """``p. 3``, ``pp. 3–4``; empty for briefs without pages (text, Markdown)."""
    if not pages:
        return ""
    return f"p. {pages[0]}" if len(pages) == 1 else f"pp. {pages[0]}–{pages[-1]}"


def looks_binary(data: bytes | str) -> bool:
    """NUL bytes or a high share of control characters mean this is not a text brief:
    in the first 8 KB of the file, or of the text decoded from UTF-16 or UTF-32."""
    sample = data[:8192]
    codes = list(sample) if isinstance(sample, bytes) else [ord(c) for c in sample]
    if 0 in codes:
        return True
    controls = sum(1 for b in codes if b < 32 and b not in (9, 10, 12, 13))
    return bool(codes) and controls / len(codes) > 0.05


_BOMS = (
    # UTF-32 first: its little-endian BOM begins with UTF-16's.
    ((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE), "utf-32"),
    ((codecs.BOM_UTF8,), "utf-8-sig"),
    ((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE), "utf-16"),
)


def detect_encoding(data: bytes) -> str:
    """The codec of a text brief's bytes: the one its BOM names (UTF-8, UTF-16, UTF-32);
    UTF-16 without a BOM, told by NUL bytes in every other position (Latin text has a
    zero high byte: odd positions for little-endian, even for big-endian); else UTF-8
    (``utf-8-sig``, which also reads UTF-8 without a BOM)."""
    for boms, codec in _BOMS:
        if data.startswith(boms):
            return codec
    sample = data[: 8192 & ~1]
    pairs = len(sample) // 2
    if pairs:
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if odd >= pairs / 2 and even <= pairs / 20:
            return "utf-16-le"
        if even >= pairs / 2 and odd <= pairs / 20:
            return "utf-16-be"
    return "utf-8-sig"
