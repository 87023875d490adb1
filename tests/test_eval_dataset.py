"""The bundled evaluation sets: well-formed, grounded in the brief, paraphrased, covering."""

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from rag.config import PROJECT_ROOT
from rag.evaluation.dataset import load_footnote_questions, load_qa
from rag.evaluation.evidence import EvidenceLocator
from rag.text import match_key

EVAL = PROJECT_ROOT / "eval"
QA_FILES = ["qa.jsonl", "heldout.jsonl", "nonfactoid.jsonl"]


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9$]+", match_key(text))


def six_grams(text: str) -> set[tuple[str, ...]]:
    w = words(text)
    return {tuple(w[i : i + 6]) for i in range(len(w) - 5)}


@pytest.fixture(scope="module")
def brief_grams(brief_path: Path) -> set[tuple[str, ...]]:
    return six_grams(brief_path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", QA_FILES)
def test_every_evidence_quote_occurs_in_the_clean_text(brief, name):
    locator = EvidenceLocator([brief])
    for item in load_qa(EVAL / name):
        for quote in item.evidence:
            spans = locator.locate(quote)
            assert spans, f"{item.id}: {quote!r}"
            for span in spans:
                assert match_key(brief.body[span.start : span.end]) == match_key(quote)


@pytest.mark.parametrize("name", [*QA_FILES, "footnotes.jsonl"])
def test_questions_are_paraphrased_not_copied(name, brief_grams):
    for line in (EVAL / name).read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        copied = six_grams(record["question"]) & brief_grams
        assert not copied, f"{record['id']} copies {' '.join(next(iter(copied)))!r}"


def test_qa_set_covers_sections_footnotes_and_cut_sentences(brief):
    items = load_qa(EVAL / "qa.jsonl")
    assert len(items) >= 60
    per_section = Counter(i.section for i in items)
    for section in brief.sections:
        assert per_section[section.title] >= 3, section.title
    cited = {n for i in items for n in i.footnotes}
    assert cited == set(range(1, 19))
    evidence = " | ".join(match_key(q) for i in items for q in i.evidence)
    for cut in (
        "pakistan helped the u.s. reverse the soviet invasion",
        "fallout of this competition remains especially important",
        "model for other countries to follow",
    ):
        assert cut in evidence


def test_footnote_questions_cover_every_footnote():
    items = load_footnote_questions(EVAL / "footnotes.jsonl")
    assert len(items) >= 15
    assert {i.footnote for i in items} == set(range(1, 19))
