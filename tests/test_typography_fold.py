"""Typography folded for matching: curly quotes, dashes, no-break spaces and soft hyphens
match their plain forms in BM25 and in evidence quotes; the displayed text keeps them."""

import json
import random
import re

import pytest

from rag.errors import IndexStale
from rag.evaluation.evidence import EvidenceLocator
from rag.records import Document
from rag.store import bm25
from rag.store.index import build_index
from rag.store.manifest import Manifest, check_fresh
from rag.text import fold_typography, match_key
from tests.conftest import FakeEncoder, chunk_params, dense_params

CURLY = (
    "Russia’s “strategic partnership” with China\u00a0— announced in 2022 – "
    "reshaped regional poli\u00adcy."
)


def doc(body: str) -> Document:
    return Document(id="d", title="T", source="t.md", sha256="0" * 64, format="markdown", body=body)


# The fold as first written: zero-width and bidi controls deleted, then each character
# translated (rag.text now finds the few characters it changes instead).
_INVISIBLE_RE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def _translated(text: str) -> str:
    from rag.text import _TYPOGRAPHY

    return _INVISIBLE_RE.sub("", text).translate(_TYPOGRAPHY)


def test_ascii_text_has_nothing_to_fold():
    """fold_typography returns ASCII text as it is without looking: that holds only while
    every character it folds is outside ASCII."""
    ascii_text = "".join(map(chr, range(128)))
    assert _translated(ascii_text) == ascii_text
    assert fold_typography(ascii_text) is ascii_text


def test_the_fold_is_the_translation_it_replaced():
    every = "".join(map(chr, range(0x3100))) + "\ufeff\ufeffA\u00ad\u00ad-"
    assert fold_typography(every) == _translated(every)
    rng = random.Random(7)
    alphabet = "ab \u00e9\u00ad\u200b\u202f\u2019\u201c\u2014\ufeff\u3000\u2060\u00a0\u202e"
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(12)))
        assert fold_typography(text) == _translated(text), repr(text)
    assert fold_typography(CURLY * 3) == _translated(CURLY * 3)


def test_fold_keeps_one_character_per_character_or_drops_it():
    assert fold_typography(CURLY) == (
        'Russia\'s "strategic partnership" with China - announced in 2022 - '
        "reshaped regional policy."
    )
    assert fold_typography("plain 'ASCII' - text") == "plain 'ASCII' - text"
    assert match_key("Russia’s") == match_key("russia's")


@pytest.mark.parametrize(
    "quote",
    [
        'Russia\'s "strategic partnership" with China - announced',
        "announced in 2022 - reshaped regional policy",
        "with China — announced",
        "regional poli\u00adcy",
    ],
)
def test_straight_typed_quote_matches_curly_text(quote):
    body = "Intro.\n" + CURLY
    (span,) = EvidenceLocator([doc(body)]).locate(quote)
    shown = body[span.start : span.end]
    # The span is in the original text, which keeps its typography.
    assert match_key(shown) == match_key(quote)
    if "Russia" in quote:
        assert shown.startswith("Russia’s “strategic")


def test_bm25_ranks_the_curly_passage_for_a_straight_query():
    texts = [
        "The partnership of the two navies grew over a decade of joint exercises.",
        "Pakistan’s “all-weather” friendship with Beijing shaped the corridor.",
        "A poli\u00adcy of non\u00adalignment guided the country for decades.",
        "Trade figures with the European Union rose modestly in the period.",
    ]
    retriever = bm25.build(texts)
    assert bm25.search(retriever, 'Pakistan\'s "all-weather" friendship', 4)[0][0] == 1
    assert bm25.search(retriever, "nonalignment policy", 4)[0][0] == 2
    assert bm25.tokenize(["poli\u00adcy"]) == bm25.tokenize(["policy"])


def test_manifest_records_the_fold_and_an_unfolded_index_is_stale(tmp_path, brief_path):
    out = tmp_path / "idx"
    manifest = build_index(
        [brief_path],
        out,
        FakeEncoder(),
        chunk_params(),
        model_path="/nonexistent/fake-model",
        dense=dense_params(),
    )
    assert json.loads((out / "manifest.json").read_text())["bm25"]["fold"] == "typography-1"
    data = manifest.model_dump(mode="json")
    del data["bm25"]["fold"]  # as written before folding existed
    old = Manifest.model_validate(data)
    assert old.bm25.fold is None
    with pytest.raises(IndexStale, match=r"fold.*rag index"):
        check_fresh(old, model_path="/nonexistent", params=chunk_params())
