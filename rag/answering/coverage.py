"""What the briefs cover: the names, acronyms and numbers each brief holds, so a question
about something no brief mentions ("Did the U.S. sell F-16s to Pakistan?") is declined with
what is missing, instead of being answered by the nearest sentences about something else.

Cosine similarity cannot do this alone: "F-16 fighter jets" lies close to a brief's naval
exercise, and the no-answer threshold sees a good match. A question's *distinctive* terms
(names, acronyms, numbers, model designations) are what such a question turns on, and
whether a brief holds them is a lookup, not a judgement. Common words are not checked:
users paraphrase ("allotted" for "allocated"), and a missing common word proves nothing.

The forms of each brief are built once per index build (on first use, held as long as the
build is), from everything a brief's answers can quote: passages, section titles,
footnote citations and the title. They are held inverted, each form with the briefs that
hold it as an int32 array, instead of a frozenset per brief: a 100k-passage library has a
million (brief, form) pairs, and a question looks up a few forms.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from typing import TYPE_CHECKING, TypeVar

from rag.store.derived import per_build
from rag.text import fold_typography

_V = TypeVar("_V")

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from rag.store.index import IndexHandle

# A word as written: letters and digits, joined by inner hyphens, periods or apostrophes
# ("F-16", "U.S.", "Kerry-Lugar-Berman", "1.5", "Russia's").
_WORD = re.compile(r"[A-Za-z0-9]+(?:[-.'][A-Za-z0-9]+)*\.?")
# A text cut into [what comes before the first word, the word, what comes between it and
# the next, the next word, ...]: the same words, without a match object for each.
_SPLIT = re.compile(f"({_WORD.pattern})").split
# Words that join the parts of a name and are left out of its initials.
_JOINERS = frozenset({"of", "and", "for", "the", "on", "in", "to", "&"})
# Capitalised words of the question form or of the document itself, not of its topic.
_NOT_NAMES = frozenset(
    {"i", "brief", "briefs", "paper", "report", "document", "author", "editor", "ok"}
)
# A model designation: letters then digits ("F-16", "JF-17", "MQ-9", "S-400").
_DESIGNATION = re.compile(r"^[a-z]{1,4}-?\d+[a-z]?$")
_SUFFIXES = ("'s", "s", "es", "n", "an", "ian", "i", "ese")
_INITIALISM = re.compile(r"(?:[a-z]\.)+[a-z]?")


def _word_key(word: str) -> str:
    """A word as looked up: folded, lower case, trailing period and possessive dropped,
    inner periods removed ("U.S." → "us", "Moscow's" → "moscow")."""
    word = fold_typography(word).lower().rstrip(".")
    if word.endswith("'s"):
        word = word[:-2]
    return word.replace(".", "") if _INITIALISM.fullmatch(word + ".") else word


# A question's words, remembered across questions; a build remembers its own (_Memo).
_key = lru_cache(maxsize=1 << 12)(_word_key)


class _Memo(dict[str, _V]):
    """``make(text)`` worked out once per text, for one build: a library's words and runs of
    names repeat (a 10k-passage library looked up 1.06 million words, of far fewer kinds,
    and keying them was most of the 15 s its coverage took to build). Dropped with the
    build's other scratch: a memory held by the module stayed full (131,072 words, about
    25 MB) for the server's life."""

    def __init__(self, make: Callable[[str], _V]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, text: str) -> _V:
        found = self[text] = self.make(text)
        return found


def words_of(text: str) -> list[str]:
    return _WORD.findall(fold_typography(text))


def _initials(run: Sequence[str], stretches: Callable[[str], frozenset[str]]) -> frozenset[str]:
    """The initials of every stretch of two or more capitalised words of ``run`` (the
    joiners between them left out), so "the U.S. Center for Strategic and International
    Studies" gives "csis" as well as "uscsis"; ``stretches``: :func:`_stretches`, or a
    build's memory of it."""
    if len(run) < 2:  # most runs: nothing to abbreviate
        return _NONE
    return stretches("".join(w[0] for w in run if w[:1].isupper()))


_NONE: frozenset[str] = frozenset()


def _stretches(letters: str) -> frozenset[str]:
    """Every run of 2 to 8 of a name's initials ``letters``, lower-cased."""
    return frozenset(
        letters[i:j].lower()
        for i in range(len(letters))
        for j in range(i + 2, min(len(letters), i + 8) + 1)
    )


def _forms(
    text: str,
    key: Callable[[str], str] = _key,
    stretches: Callable[[str], frozenset[str]] = _stretches,
) -> set[str]:
    """Every lookup key of ``text``: each word, each part of a joined word, and the
    initials of each run of capitalised words ("Center for Strategic and International
    Studies" → "csis"); punctuation ends a run. ``key`` and ``stretches``: a build's
    memories of :func:`_word_key` and :func:`_stretches`."""
    parts = _SPLIT(fold_typography(text))
    out: set[str] = set()
    run: list[str] = []
    for i in range(1, len(parts), 2):
        word = parts[i]
        if run and parts[i - 1].strip():  # punctuation between: a new run
            out |= _initials(run, stretches)
            run = []
        found = key(word)
        out.add(found)
        if "-" in found:
            out.update(key(p) for p in found.split("-") if p)
        if word[:1].isupper() or (run and word.lower() in _JOINERS):
            run.append(word)
        elif run:
            out |= _initials(run, stretches)
            run = []
    out |= _initials(run, stretches)
    return out


def _looked_up(key: str) -> set[str]:
    """The forms that count as a brief mentioning ``key``: the key itself, and the same
    word with or without one of the endings that make "Pakistani" of "Pakistan" or
    "Americans" of "America"; for a designation, only itself with or without its hyphen
    ("F-16" is not "F" and "16")."""
    if _DESIGNATION.match(key):
        return {key, key.replace("-", "")}
    stems = {key[: -len(s)] for s in _SUFFIXES if key.endswith(s) and len(key) > len(s) + 3}
    return {key, *stems, *(key + s for s in _SUFFIXES)}


@dataclass(frozen=True, eq=False)
class Coverage:
    """The lookup keys the briefs hold, inverted: key ``k`` (``ids[key]``) is held by the
    briefs ``briefs[b]`` for ``b`` in ``holders[offsets[k]:offsets[k + 1]]``."""

    ids: dict[str, int]
    briefs: tuple[str, ...]
    holders: NDArray[np.int32]
    offsets: NDArray[np.int64]

    @classmethod
    def of(cls, forms: Iterable[tuple[str, Iterable[str]]]) -> Coverage:
        """From the keys each brief holds ((document id, keys) pairs, each document once;
        read one at a time, so a build never holds every brief's set)."""
        import numpy as np

        ids: dict[str, int] = {}
        keys = array("i")
        owners = array("i")
        briefs: list[str] = []
        for brief, held in forms:
            start = len(keys)
            keys.extend({ids.setdefault(form, len(ids)) for form in held})
            owners.extend(repeat(len(briefs), len(keys) - start))
            briefs.append(brief)
        by_key = np.frombuffer(keys, dtype=np.int32)
        order = np.argsort(by_key, kind="stable")
        holders = np.frombuffer(owners, dtype=np.int32)[order]
        offsets = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(np.bincount(by_key, minlength=len(ids)), out=offsets[1:])
        holders.flags.writeable = offsets.flags.writeable = False  # shared by every question
        return cls(ids, tuple(briefs), holders, offsets)

    def holds(self, term: str, documents: Iterable[str]) -> bool:
        """Whether any of ``documents`` mentions ``term`` (a word as the question wrote it),
        allowing the endings that make "Pakistani" of "Pakistan" or "Americans" of
        "America"."""
        scope: set[str] | None = None
        for form in _looked_up(_key(term)):
            found = self.ids.get(form)
            if found is None:
                continue
            if scope is None:
                scope = set(documents)
            held = self.holders[int(self.offsets[found]) : int(self.offsets[found + 1])]
            if any(self.briefs[b] in scope for b in held.tolist()):
                return True
        return False


def distinctive(question: str) -> list[str]:
    """The terms a question turns on, as written: numbers, acronyms, model designations
    and capitalised names (a capital at the question's start is grammar, not a name)."""
    found: list[str] = []
    for i, word in enumerate(words_of(question)):
        word = word.rstrip(".")
        # "Kerry-Lugar-Berman" is three names and "80-plus" one number; "F-16" and
        # "U.S." stay whole.
        whole = _DESIGNATION.match(word.lower()) or re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", word)
        for j, part in enumerate([word] if whole else word.split("-")):
            key = _key(part)
            if not key or key in _NOT_NAMES:
                continue
            has_digit = any(c.isdigit() for c in part)
            acronym = sum(c.isupper() for c in part) >= 2
            name = (i > 0 or j > 0) and part[:1].isupper()
            if has_digit or acronym or name:
                found.append(part)
    return list(dict.fromkeys(found))


def missing(question: str, coverage: Coverage, documents: Sequence[str]) -> tuple[str, ...]:
    """The distinctive terms of ``question`` that none of ``documents`` mentions."""
    return tuple(t for t in distinctive(question) if not coverage.holds(t, documents))


# Words for the document itself ("Does the publication reflect ISSI's position?"): a brief
# rarely calls itself so, and they say nothing of what it covers.
_DOCUMENT_NOUNS = frozenset(
    {"brief", "paper", "report", "document", "publication", "study", "article", "author"}
    | {"writer", "editor", "publisher"}
)
_YES_NO = re.compile(
    r"^\W*(?:did|does|do|is|are|was|were|has|have|had|can|could|will|would)\b", re.I
)


def asks_yes_or_no(question: str) -> bool:
    return bool(_YES_NO.match(question))


def unasserted(question: str, coverage: Coverage, documents: Sequence[str]) -> tuple[str, ...]:
    """For a yes-or-no question ("Did the U.S. sanction Pakistan's ballistic missile
    program?"): its content words that no brief in scope mentions, when they are more than
    half of them. A brief that holds most of a claim's words may confirm or deny it; one
    that holds fewer than half cannot, and its nearest sentences are about something else.
    Other questions are left to the names and numbers (:func:`missing`): they may be
    paraphrased freely."""
    from rag.store.bm25 import tokenize

    if not _YES_NO.match(question):
        return ()
    words = [w.rstrip(".") for w in words_of(question)[1:]]
    content = [
        w
        for w, t in zip(words, tokenize(words), strict=True)
        if t and len(w) >= 4 and _key(w) not in _DOCUMENT_NOUNS
    ]
    absent = tuple(w for w in content if not coverage.holds(w, documents))
    return absent if content and 2 * len(absent) > len(content) else ()


def texts_of(handle: IndexHandle) -> dict[str, list[str]]:
    """Each brief's texts its answers can quote: title, passages with their section
    paths, footnote citations."""
    texts: dict[str, list[str]] = {doc_id: [doc.title] for doc_id, doc in handle.documents.items()}
    for passage in handle.passages:
        texts.setdefault(passage.document.id, []).extend((*passage.section.path, passage.text))
    for doc_id, number in handle.footnote_keys:
        note = handle.footnote((doc_id, number))
        if note is not None:
            texts.setdefault(doc_id, []).append(note.citation)
    return texts


def _build(handle: IndexHandle) -> Coverage:
    texts = texts_of(handle)
    # The same runs of names come back across a library's briefs as words do: remembered,
    # a 100k-passage library's forms took 2.7 s instead of 3.8.
    keys, stretches = _Memo(_word_key), _Memo(_stretches)
    return Coverage.of(
        (doc, _forms(" \n".join(parts), keys.__getitem__, stretches.__getitem__))
        for doc, parts in texts.items()
    )


@per_build
def coverage(handle: IndexHandle) -> Coverage:
    """The coverage of one index build, made on first use and dropped with the build."""
    return _build(handle)
