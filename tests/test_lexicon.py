"""The lexicon's term sets, held as term ids (rag.answering.termsets), say what one
frozenset per row said: checked against that plain reference on real builds and on the
edges (empty rows, stopwords only, repeated texts, words no passage uses)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pytest

from rag.answering.lexicon import _QUESTION_WORDS, Lexicon, _build, terms
from rag.answering.termsets import TermSets, Vocabulary
from rag.chunking.represent import footnote_text, front_matter_facts
from rag.store.index import build_index, load_index
from rag.text import strip_markers
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
