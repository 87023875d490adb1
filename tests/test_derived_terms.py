"""What answers derive from a build, held compactly, says what the plain sets said: the
lexicon's term sets as term ids (rag.answering.termsets) against one frozenset per row,
and the coverage's inverted forms against one frozenset per brief, on real builds and on
the edges (empty rows, stopwords only, repeated texts, words no passage or brief uses)."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pytest

from rag.answering import coverage
from rag.answering.lexicon import _QUESTION_WORDS, Lexicon, _build, terms
from rag.answering.termsets import TermSets, Vocabulary
from rag.chunking.represent import footnote_text, front_matter_facts
from rag.store.index import build_index, load_index
from rag.text import fold_typography, strip_markers
from tests.conftest import FakeEncoder, chunk_params, dense_params


@dataclass(frozen=True)
class Reference:
    """The lexicon as it was built before term ids: a frozenset per row, an idf dict."""

    idf: dict[str, float]
    unseen: float
    sentences: tuple[frozenset[str], ...]
    footnotes: tuple[frozenset[str], ...]
    footnote_rows: dict[tuple[str, int], int]


def _reference(handle: Any) -> Reference:
    probes: list[str] = []
    for row, owner in enumerate(handle.sentence_owners.tolist()):
        passage = handle.passages[owner]
        doc = handle.documents.get(passage.document.id)
        if passage.kind == "front_matter" and doc is not None and doc.front_matter is not None:
            facts = [f.probe for f in front_matter_facts(doc.front_matter)]
            probes.append(facts[row - int(handle.passage_sentences[owner])])
        else:
            path = " > ".join(passage.section.path)
            probes.append(f"{path}: {strip_markers(handle.sentences[row])}")
    passages = [" ".join((*p.section.path, p.text)) for p in handle.passages]
    df: dict[str, int] = {}
    for words in terms(passages):
        for word in words:
            df[word] = df.get(word, 0) + 1
    n = len(passages)
    notes = [handle.footnote(key) for key in handle.footnote_keys]
    return Reference(
        idf={word: math.log((n + 1) / (count + 0.5)) for word, count in df.items()},
        unseen=math.log(n + 2) + 1.0,
        sentences=tuple(terms(probes)),
        footnotes=tuple(terms([footnote_text(f) if f else "" for f in notes])),
        footnote_rows={key: row for row, key in enumerate(handle.footnote_keys)},
    )


def _assert_same(built: Lexicon, reference: Reference) -> None:
    assert len(built.sentences) == len(reference.sentences)
    assert list(built.sentences) == list(reference.sentences)
    assert list(built.footnotes) == list(reference.footnotes)
    assert dict(built.idf) == reference.idf
    assert len(built.idf) == len(reference.idf)
    assert built.unseen == reference.unseen
    assert built.footnote_rows == reference.footnote_rows
    # A word that only sentences or footnotes hold has no idf: it weighs as unseen.
    for word in set().union(*reference.sentences, *reference.footnotes) | {"zzyzx", "who"}:
        assert (word in built.idf) == (word in reference.idf)
        assert built.idf.get(word, built.unseen) == reference.idf.get(word, reference.unseen)


def test_the_bundled_brief_has_the_reference_lexicon(real_engine: Any) -> None:
    handle = real_engine.handle
    reference = _reference(handle)
    assert reference.sentences and reference.footnotes
    assert any(p.kind == "front_matter" for p in handle.passages)
    _assert_same(_build(handle), reference)


FRONT = """---
title: "Water, Power and Peace"
author: Amina Rahman
publisher: Centre for River Policy
date: 2024-03-01
---

# Introduction

The Indus Waters Treaty divides six rivers. Who tells what it gives?[^1]

# Climate

Glaciers feed the western rivers.

[^1]: "Indus Waters Treaty," *World Bank*, September 19, 1960.
"""
TRADE = (
    "# Trade Brief\n\n## Trade\n\nBilateral trade between the two countries grew fast in 2020."
    "[^1] It did.[^2]\n\n[^1]: Ministry of Trade, *Annual Report*, May 1, 2020.\n"
    "[^2]: Ibid.\n"
)
WATER = "# Water Brief\n\n## Water\n\nThe river treaty shares water between the provinces.\n"


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Four briefs: one with a title page, footnotes only some cite, one without footnotes,
    and a copy of it (every row of the copy repeats a row of the original)."""
    folder = tmp_path_factory.mktemp("lexicon")
    paths = []
    for name, text in (("front", FRONT), ("trade", TRADE), ("water", WATER), ("copy", WATER)):
        paths.append(folder / f"{name}.md")
        paths[-1].write_text(text, encoding="utf-8")
    out = folder / "index"
    build_index(
        paths, out, FakeEncoder(), chunk_params(), model_path="/nonexistent", dense=dense_params()
    )
    return load_index(out)


def test_a_small_library_has_the_reference_lexicon(library: Any) -> None:
    reference = _reference(library)
    assert len(set(reference.sentences)) < len(reference.sentences)  # repeated rows
    assert any(p.kind == "front_matter" for p in library.passages)
    _assert_same(_build(library), reference)


def test_rows_read_like_a_tuple(library: Any) -> None:
    built, reference = _build(library), _reference(library)
    rows = built.sentences
    assert rows[-1] == reference.sentences[-1]
    assert rows[1:3] == reference.sentences[1:3]
    assert rows[::-1] == reference.sentences[::-1]
    with pytest.raises(IndexError):
        rows[len(rows)]
    assert reference.sentences[0] in rows


def _sets(texts: list[str], dropped: frozenset[str] = _QUESTION_WORDS) -> TermSets:
    return Vocabulary(dropped).sets(texts)


def test_empty_rows() -> None:
    texts = ["", "   ", "the of and a", "who what tell", "—", "x"]
    found = _sets(texts)
    assert list(found) == terms(texts) == [frozenset()] * len(texts)
    assert found.counts(0).tolist() == []


def test_no_rows() -> None:
    found = _sets([])
    assert len(found) == 0 and list(found) == []
    assert found.counts(3).tolist() == [0, 0, 0]


def test_rows_keep_every_word_the_tokenizer_keeps() -> None:
    texts = [
        "Russia’s co\u00adoperation with China, 2024–25",
        "Russia's cooperation with China",
        "naïve café ÉTÉ straße İstanbul 東京 ١٢٣",
        "Who gives? Telling, giving: recommendations recommended",
        "Russia’s co\u00adoperation with China, 2024–25",
    ]
    found = _sets(texts)
    assert list(found) == terms(texts)
    assert found.rows.tolist() == [0, 1, 2, 3, 0]  # the repeated text shares its set
    counts = dict(zip(found.names, found.counts(len(found.names)).tolist(), strict=True))
    assert counts["russia"] == 3 and counts["china"] == 3 and counts["recommend"] == 1
    assert "tell" not in counts and "who" not in counts


def test_the_vocabulary_numbers_terms_in_order_of_first_use() -> None:
    vocabulary = Vocabulary()
    first = vocabulary.sets(["rivers", "treaty rivers"])
    assert vocabulary.names == ["river", "treati"]
    later = vocabulary.sets(["glaciers treaty"])
    assert vocabulary.ids == {"river": 0, "treati": 1, "glacier": 2}
    assert first[1] == frozenset({"river", "treati"}) and later[0] == {"glacier", "treati"}


def test_idf_holds_only_the_passages_words(library: Any) -> None:
    built = _build(library)
    only_notes = set().union(*built.footnotes) - set().union(*built.sentences)
    assert "annual" in only_notes and "annual" not in built.idf
    with pytest.raises(KeyError):
        built.idf["annual"]
    assert built.idf.get("annual", built.unseen) == built.unseen
    assert "zzyzx" not in built.idf
    assert set(built.idf) == set(_reference(library).idf)


def test_the_arrays_are_read_only(library: Any) -> None:
    built = _build(library)
    with pytest.raises(ValueError):
        built.sentences.ids[0] = 1


# ------------------------------------------------------------------------------ coverage


def _reference_initials(run: list[str]) -> set[str]:
    """coverage._initials as first written: the initials joined word by word."""
    if len(run) < 2:
        return set()
    caps = [w for w in run if w[:1].isupper()]
    return {
        "".join(w[0] for w in caps[i:j]).lower()
        for i in range(len(caps))
        for j in range(i + 2, min(len(caps), i + 8) + 1)
    }


def _reference_forms(text: str) -> set[str]:
    """coverage._forms as first written: a match object per word."""
    text = fold_typography(text)
    out: set[str] = set()
    run: list[str] = []
    end = 0
    for match in coverage._WORD.finditer(text):
        word = match.group()
        if text[end : match.start()].strip():
            out |= _reference_initials(run)
            run = []
        end = match.end()
        key = coverage._word_key(word)
        out.add(key)
        if "-" in key:
            out.update(coverage._word_key(p) for p in key.split("-") if p)
        if word[:1].isupper() or (run and word.lower() in coverage._JOINERS):
            run.append(word)
        else:
            out |= _reference_initials(run)
            run = []
    out |= _reference_initials(run)
    return out


def _reference_holds(forms: dict[str, frozenset[str]], term: str, documents: Iterable[str]) -> bool:
    """Coverage.holds as first written, over one frozenset per brief."""
    key = coverage._word_key(term)
    for doc in documents:
        held = forms.get(doc, frozenset())
        if key in held:
            return True
        if coverage._DESIGNATION.match(key):
            if key.replace("-", "") in held:
                return True
            continue
        stems = {
            key[: -len(s)] for s in coverage._SUFFIXES if key.endswith(s) and len(key) > len(s) + 3
        }
        if stems & held or any(key + s in held for s in coverage._SUFFIXES):
            return True
    return False


def _reference_coverage(handle: Any) -> dict[str, frozenset[str]]:
    texts = coverage.texts_of(handle)  # the same texts; the reference is how forms are made
    return {doc: frozenset(_reference_forms(" \n".join(parts))) for doc, parts in texts.items()}


def _held(built: coverage.Coverage) -> dict[str, frozenset[str]]:
    """Each brief's forms, read back out of the inverted coverage."""
    names = {i: form for form, i in built.ids.items()}
    forms: dict[str, set[str]] = {brief: set() for brief in built.briefs}
    for k in range(len(built.offsets) - 1):
        for b in built.holders[built.offsets[k] : built.offsets[k + 1]].tolist():
            forms[built.briefs[b]].add(names[k])
    return {brief: frozenset(held) for brief, held in forms.items()}


def _assert_same_coverage(handle: Any) -> None:
    reference = _reference_coverage(handle)
    built = coverage._build(handle)
    assert _held(built) == reference
    assert list(built.briefs) == list(reference)
    everything = sorted(set().union(*reference.values()))
    rng = random.Random(22)
    terms = rng.sample(everything, min(400, len(everything)))
    terms += [t.upper() for t in terms[:50]] + [t + "s" for t in terms[:50]]
    terms += [t[:-1] for t in terms[:50]] + [t.title() + "'s" for t in terms[:50]]
    terms += ["F-16", "F16", "U.S.", "US", "Pakistani", "Americans", "zzyzx", "CSIS", ""]
    docs = list(reference)
    for term in terms:
        for scope in (docs, [], ["no-such-brief"], docs[:1], docs[-2:]):
            assert built.holds(term, scope) == _reference_holds(reference, term, scope), term


def test_the_bundled_brief_has_the_reference_coverage(real_engine: Any) -> None:
    _assert_same_coverage(real_engine.handle)


def test_a_small_library_has_the_reference_coverage(library: Any) -> None:
    _assert_same_coverage(library)


def test_forms_split_as_the_matches_did() -> None:
    texts = [
        "",
        "...",
        "The U.S.-Pakistan Trade and Investment Framework Agreement (TIFA) met in 2023.",
        "Center for Strategic and International Studies; Kerry-Lugar-Berman Act, F-16s.",
        "Russia’s co\u00adoperation with China — end.Next; U.S. A.B.C. 1.5 percent.",
        "  trailing words AND Capitals Of The Run ,  ",
        "東京 naïve Ünïcode Đà Nẵng İstanbul",
    ]
    rng = random.Random(5)
    pieces = re.findall(r"\S+|\s+", " ".join(texts))
    texts += [" ".join(rng.choices(pieces, k=rng.randrange(30))) for _ in range(300)]
    for text in texts:
        assert coverage._forms(text) == _reference_forms(text), text


def test_a_brief_with_no_words_and_no_briefs() -> None:
    built = coverage.Coverage.of([("empty", set()), ("one", {"river"})])
    assert built.briefs == ("empty", "one")
    assert built.holds("rivers", ["empty", "one"]) and not built.holds("rivers", ["empty"])
    none = coverage.Coverage.of([])
    assert none.briefs == () and not none.holds("river", ["one"])
