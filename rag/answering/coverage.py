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
footnote citations and the title.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from rag.store.derived import per_build
from rag.text import fold_typography

if TYPE_CHECKING:
    from rag.store.index import IndexHandle

# A word as written: letters and digits, joined by inner hyphens, periods or apostrophes
# ("F-16", "U.S.", "Kerry-Lugar-Berman", "1.5", "Russia's").
_WORD = re.compile(r"[A-Za-z0-9]+(?:[-.'][A-Za-z0-9]+)*\.?")
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


# Memoised: a library's words repeat (a 10k-passage library looked up 1.06 million words,
# of far fewer kinds), and keying them was most of the 15 s its coverage took to build.
@lru_cache(maxsize=1 << 17)
def _key(word: str) -> str:
    """A word as looked up: folded, lower case, trailing period and possessive dropped,
    inner periods removed ("U.S." → "us", "Moscow's" → "moscow")."""
    word = fold_typography(word).lower().rstrip(".")
    if word.endswith("'s"):
        word = word[:-2]
    return word.replace(".", "") if _INITIALISM.fullmatch(word + ".") else word


def words_of(text: str) -> list[str]:
    return _WORD.findall(fold_typography(text))


def _initials(run: Sequence[str]) -> set[str]:
    """The initials of every stretch of two or more capitalised words of ``run`` (the
    joiners between them left out), so "the U.S. Center for Strategic and International
    Studies" gives "csis" as well as "uscsis"."""
    if len(run) < 2:  # most runs: nothing to abbreviate
        return set()
    caps = [w for w in run if w[:1].isupper()]
    return {
        "".join(w[0] for w in caps[i:j]).lower()
        for i in range(len(caps))
        for j in range(i + 2, min(len(caps), i + 8) + 1)
    }


def _forms(text: str) -> set[str]:
    """Every lookup key of ``text``: each word, each part of a joined word, and the
    initials of each run of capitalised words ("Center for Strategic and International
    Studies" → "csis"); punctuation ends a run."""
    text = fold_typography(text)
    out: set[str] = set()
    run: list[str] = []
    end = 0
    for match in _WORD.finditer(text):
        word = match.group()
        if text[end : match.start()].strip():  # punctuation between: a new run
            out |= _initials(run)
            run = []
        end = match.end()
        key = _key(word)
        out.add(key)
        if "-" in key:
            out.update(_key(p) for p in key.split("-") if p)
        if word[:1].isupper() or (run and word.lower() in _JOINERS):
            run.append(word)
        else:
            out |= _initials(run)
            run = []
    out |= _initials(run)
    return out


@dataclass(frozen=True)
class Coverage:
    """The lookup keys each brief holds (document id → keys)."""

    forms: dict[str, frozenset[str]]

    def holds(self, term: str, documents: Iterable[str]) -> bool:
        """Whether any of ``documents`` mentions ``term`` (a word as the question wrote it),
        allowing the endings that make "Pakistani" of "Pakistan" or "Americans" of
        "America"."""
        key = _key(term)
        for doc in documents:
            forms = self.forms.get(doc, frozenset())
            if key in forms:
                return True
            if _DESIGNATION.match(key):
                # "F-16" is not "F" and "16": only the designation itself, with or without
                # its hyphen, counts.
                if key.replace("-", "") in forms:
                    return True
                continue
            stems = {key[: -len(s)] for s in _SUFFIXES if key.endswith(s) and len(key) > len(s) + 3}
            if stems & forms or any(key + s in forms for s in _SUFFIXES):
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


def _build(handle: IndexHandle) -> Coverage:
    texts: dict[str, list[str]] = {doc_id: [doc.title] for doc_id, doc in handle.documents.items()}
    for passage in handle.passages:
        texts.setdefault(passage.document.id, []).extend((*passage.section.path, passage.text))
    for doc_id, number in handle.footnote_keys:
        note = handle.footnote((doc_id, number))
        if note is not None:
            texts.setdefault(doc_id, []).append(note.citation)
    return Coverage({doc: frozenset(_forms(" \n".join(parts))) for doc, parts in texts.items()})


@per_build
def coverage(handle: IndexHandle) -> Coverage:
    """The coverage of one index build, made on first use and dropped with the build."""
    return _build(handle)
