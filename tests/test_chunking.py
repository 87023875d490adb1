"""Passages: bounded in tokens, sentence-aligned, inside one section, markers attached."""

import itertools

import pytest
from pydantic import ValidationError

from rag.chunking.passages import ChunkParams, chunk_document
from rag.chunking.tokens import count_tokens
from rag.config import Settings
from rag.parsing import parse_file
from rag.text import MARKER_RE
from tests.conftest import chunk_params


@pytest.mark.parametrize("max_tokens", [40, 80, 120, 200])
def test_passages_respect_bounds_and_sections(brief, max_tokens):
    params = chunk_params(max_tokens=max_tokens)
    passages = chunk_document(brief, params)
    for p in passages:
        assert p.tokens <= max_tokens
        assert p.tokens == count_tokens(p.text, params.tokenizer)
        assert brief.body[p.span.start : p.span.end] == p.text
        section = next(s for s in brief.sections if s.path == p.section.path)
        assert section.span.start <= p.span.start and p.span.end <= section.span.end
        # Never starts with a marker that belongs to the previous sentence.
        assert not MARKER_RE.match(p.text)
        assert "\n\n" not in p.text  # never spans two paragraphs


def test_every_body_sentence_is_covered(brief):
    passages = chunk_document(brief, chunk_params(max_tokens=60))
    covered = set()
    for p in passages:
        covered.update(range(p.span.start, p.span.end))
    for para in brief.paragraphs:
        text_chars = [
            i for i in range(para.span.start, para.span.end) if not brief.body[i].isspace()
        ]
        assert all(i in covered for i in text_chars)


def test_footnotes_attached_with_citation_and_url(brief):
    passages = chunk_document(brief, chunk_params())
    cold_war = next(p for p in passages if "end of the Cold War.²" in p.text)
    refs = {f.number: f for f in cold_war.footnotes}
    assert refs[2].url == "https://www.jstor.org/stable/4328240"
    assert "Weinbaum" in refs[2].citation
    assert sorted({f.number for p in passages for f in p.footnotes}) == list(range(1, 19))


def test_front_matter_is_one_passage(brief):
    passages = chunk_document(brief, chunk_params())
    front = [p for p in passages if p.kind == "front_matter"]
    assert len(front) == 1
    assert "Edited by\nDr Neelum Nigar" in front[0].text
    assert front[0].section.title == "Front Matter"


def test_overlap_shares_one_sentence(brief):
    passages = chunk_document(brief, chunk_params(max_tokens=60, overlap_sentences=1))
    shared = [
        (a, b)
        for a, b in itertools.pairwise(passages)
        if a.section == b.section and b.span.start < a.span.end
    ]
    assert shared, "long paragraphs should produce overlapping windows"
    for a, b in shared:
        assert a.text.endswith(brief.body[b.span.start : a.span.end])


def test_ids_are_stable_and_unique(brief_path):
    first = chunk_document(parse_file(brief_path), chunk_params())
    second = chunk_document(parse_file(brief_path), chunk_params())
    assert [p.id for p in first] == [p.id for p in second]
    assert len({p.id for p in first}) == len(first)
    other = chunk_document(parse_file(brief_path), chunk_params(max_tokens=80))
    assert {p.id for p in other} != {p.id for p in first}


def test_sentence_longer_than_budget_is_split_at_words(tmp_path):
    long_sentence = "word " * 300 + "end."
    path = tmp_path / "long.txt"
    path.write_text(f"Heading\n\n{long_sentence}\n")
    doc = parse_file(path)
    passages = chunk_document(doc, chunk_params(max_tokens=50))
    assert len(passages) > 5
    assert all(p.tokens <= 50 for p in passages)
    assert " ".join(p.text for p in passages).split() == long_sentence.split()


def test_chunk_params_come_from_the_settings_only():
    settings = Settings(model="/nonexistent", max_tokens=90, overlap_sentences=2)
    params = ChunkParams.from_settings(settings)
    assert params == ChunkParams(max_tokens=90, overlap_sentences=2, tokenizer=settings.tokenizer)
    # Every parameter is a setting of the same name, and none has a default of its own.
    assert set(ChunkParams.model_fields) <= set(Settings.model_fields)
    assert all(f.is_required() for f in ChunkParams.model_fields.values())
    with pytest.raises(ValidationError):
        ChunkParams(max_tokens=90)  # type: ignore[call-arg]
