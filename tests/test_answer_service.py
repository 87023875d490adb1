"""The answer service: one encoder call per question, one index snapshot per answer, and
the answer-quality metric."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from rag.answering import Answerer
from rag.config import Settings
from rag.engine import Engine
from rag.evaluation.answers import quotes_evidence
from rag.store.index import build_index, load_index
from tests.chat.helpers import HIGHER_ED_QUESTION
from tests.conftest import FakeEncoder, chunk_params, dense_params


class Counting:
    """Wraps an encoder and counts every call that runs the model."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[tuple[str, int]] = []
        self.model_id = inner.model_id
        self.backend = inner.backend
        self.weights_sha256 = inner.weights_sha256
        self.vectors_sha256 = inner.vectors_sha256
        self.index_backend = inner.index_backend
        self.index_vectors_sha256 = inner.index_vectors_sha256

    @property
    def dimension(self) -> int:
        return int(self.inner.dimension)

    def encode(self, texts: Sequence[str], **kw: Any) -> np.ndarray:
        self.calls.append(("encode", len(texts)))
        return self.inner.encode(texts, **kw)

    def encode_tokens(self, texts: Sequence[str], **kw: Any) -> list[np.ndarray]:
        self.calls.append(("encode_tokens", len(texts)))
        return self.inner.encode_tokens(texts, **kw)

    def encode_with_tokens(self, texts: Sequence[str], **kw: Any) -> Any:
        self.calls.append(("encode_with_tokens", len(texts)))
        return self.inner.encode_with_tokens(texts, **kw)


@pytest.mark.model
@pytest.mark.parametrize("stream", [False, True])
def test_a_chat_request_makes_exactly_one_encoder_call(real_engine: Engine, stream: bool) -> None:
    from api.main import create_app

    counting = Counting(real_engine.encoder)
    engine = Engine(real_engine.settings, counting, real_engine.handle)  # type: ignore[arg-type]
    with TestClient(create_app(Settings(), engine=engine)) as http:
        counting.calls.clear()  # the start-up warm-up encodes once too
        messages = [
            {"role": "user", "content": HIGHER_ED_QUESTION},
            {"role": "assistant", "content": "…"},
            {"role": "user", "content": "and when was that?"},
        ]
        response = http.post("/v1/chat/completions", json={"messages": messages, "stream": stream})
    assert response.status_code == 200
    assert "May 12, 2022" in response.text
    assert counting.calls == [("encode_with_tokens", 1)]


def _fake_index(tmp_path: Path, name: str, text: str) -> Any:
    brief = tmp_path / f"{name}.md"
    brief.write_text(text, encoding="utf-8")
    out = tmp_path / f"{name}-index"
    build_index(
        [brief], out, FakeEncoder(), chunk_params(), model_path="/nonexistent", dense=dense_params()
    )
    return load_index(out)


def test_an_answer_uses_one_index_snapshot_even_if_the_index_is_swapped(
    tmp_path: Path,
) -> None:
    first = _fake_index(
        tmp_path,
        "first",
        "# Trade Brief\n\n## Trade\n\nBilateral trade between the two countries grew fast."
        "[^1]\n\n[^1]: Ministry of Trade, *Annual Report*, May 1, 2020.\n",
    )
    second = _fake_index(
        tmp_path,
        "second",
        "# Water Brief\n\n## Water\n\nBilateral trade in water rights is a new idea.\n",
    )

    class SwapsMidAnswer(FakeEncoder):
        """Publishes the second index the moment the question has been encoded."""

        def encode_with_tokens(self, texts: Sequence[str], *, batch_size: int = 32) -> Any:
            engine.swap(second)
            return super().encode_with_tokens(texts)

    engine = Engine(Settings(model="/nonexistent"), SwapsMidAnswer(), first)
    findings = Answerer(engine).find("How fast did bilateral trade grow?")
    assert findings.hits and {h.passage.document.id for h in findings.hits} == {"first"}
    assert findings.titles == ("Trade Brief",)
    assert all(c.hit.passage.document.id == "first" for c in findings.candidates)
    (note,) = [f for notes in (findings.notes or {}).values() for f in notes]
    assert "Ministry of Trade" in note.citation
    # The next question sees the new build.
    later = Answerer(engine).find("What about water rights?")
    assert {h.passage.document.id for h in later.hits} == {"second"}


@pytest.mark.parametrize(
    ("body", "evidence", "expected"),
    [
        # A short gold quote inside a quoted sentence.
        ("Edited by Dr Neelum Nigar, it was published in 2024. [1]", ["Neelum Nigar"], True),
        # A quoted sentence inside a longer, two-sentence gold quote; markdown escapes and
        # footnote markers do not matter.
        (
            r"The U.S. allocated \$19 million.¹⁸ [1]",
            ["The U.S. allocated $19 million. It was announced in May."],
            True,
        ),
        ("Trade grew. [1] Water is scarce. [2]", ["Pakistan helped end the Cold War"], False),
        # A gold quote split over two cited pieces is not quoted.
        ("Pakistan helped [1] end the Cold War. [2]", ["Pakistan helped end the Cold War"], False),
    ],
)
def test_quotes_evidence(body: str, evidence: list[str], expected: bool) -> None:
    assert quotes_evidence(body, evidence) is expected


@pytest.mark.model
def test_extractive_answers_keep_their_quality_on_every_eval_set(real_engine: Engine) -> None:
    """Measured when answers moved to the stored sentence vectors (README, "Answers"):
    107 of 112 qa + held-out answers quote gold evidence, all 21 source questions cite their
    footnote, all 40 off-topic questions are declined, and the gate's margins hold.

    One question is declined since the gate checks names (rag.answering.coverage): q27 asks
    about "Moscow's conduct" where the brief says "Russia's actions"; the decline says the
    brief does not mention Moscow, which is true."""
    from rag.evaluation import dataset as ds
    from rag.evaluation.answers import grade_answers

    folder = real_engine.settings.eval_dir
    report = grade_answers(
        Answerer(real_engine),
        ds.load_qa(folder / "qa.jsonl") + ds.load_qa(folder / "heldout.jsonl"),
        ds.load_footnote_questions(folder / "footnotes.jsonl"),
        ds.load_off_topic(folder / "offtopic.jsonl"),
    )
    m = report.metrics
    assert (m["answered"] or 0) >= 132 / 133 and m["declines_off_topic"] == 1.0
    assert (m["quotes_evidence"] or 0) >= 0.95 and m["cites_footnote"] == 1.0
    threshold = real_engine.settings.no_answer_threshold
    assert (m["relevance_on_topic_min"] or 0) > threshold > (m["relevance_off_topic_max"] or 1)


TRADE_BRIEF = (
    "# Trade Brief\n\n## Trade\n\nBilateral trade between the two countries grew fast in 2020."
    "[^1]\n\n[^1]: Ministry of Trade, *Annual Report*, May 1, 2020.\n"
)
WATER_BRIEF = "# Water Brief\n\n## Water\n\nThe river treaty shares water between the provinces.\n"


def _library(tmp_path: Path, *texts: str) -> Engine:
    paths = []
    for i, text in enumerate(texts):
        paths.append(tmp_path / f"brief-{i}.md")
        paths[-1].write_text(text, encoding="utf-8")
    out = tmp_path / "library-index"
    build_index(
        paths, out, FakeEncoder(), chunk_params(), model_path="/nonexistent", dense=dense_params()
    )
    settings = Settings(model="/nonexistent", no_answer_threshold=-1.0, llm_base_url=None)
    return Engine(settings, FakeEncoder(), load_index(out))


def test_in_a_library_a_single_source_answer_names_its_brief(tmp_path: Path) -> None:
    engine = _library(tmp_path, TRADE_BRIEF, WATER_BRIEF)
    result = Answerer(engine).answer("How fast did bilateral trade grow in 2020?")
    assert result.found and result.library
    assert {c.passage.document.title for c in result.citations} == {"Trade Brief"}
    (line,) = [line for line in result.footer if line.startswith("- [1] ")]
    assert line.rstrip().endswith("— *Trade Brief*"), line


def test_one_brief_alone_does_not_name_itself_in_every_source(tmp_path: Path) -> None:
    engine = _library(tmp_path, TRADE_BRIEF)
    result = Answerer(engine).answer("How fast did bilateral trade grow in 2020?")
    assert result.found and not result.library
    assert "Trade Brief" not in "".join(result.footer)


def test_the_terminal_names_the_brief_of_a_single_source_in_a_library(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rag import terminal

    engine = _library(tmp_path, TRADE_BRIEF, WATER_BRIEF)
    result = Answerer(engine).answer("How fast did bilateral trade grow in 2020?")
    terminal.print_sources(result)
    assert "Trade Brief" in capsys.readouterr().out


def test_non_factoid_and_unanswerable_sets_are_measured_apart() -> None:
    """Answered-correctly and declined-correctly for the two measured sets; neither counts
    in ``answered`` or in the relevance extremes the gate was set on."""
    from rag.evaluation.answers import Graded, grade
    from rag.evaluation.dataset import OffTopicItem, QAItem

    said = {
        "recommend?": Graded(True, "Build a sustainable partnership. [1]", frozenset(), 0.9),
        "wrong?": Graded(True, "Something else entirely, quoted. [1]", frozenset(), 0.8),
        "f16?": Graded(True, "Pakistan bought jets once. [1]", frozenset(), 0.7),
        "imf?": Graded(False, "I could not find anything", frozenset(), 0.1),
    }
    evidence = ("build a sustainable partnership",)
    report = grade(
        lambda q: said[q],
        [],
        non_factoid=[
            QAItem(id="n1", question="recommend?", evidence=evidence),
            QAItem(id="n2", question="wrong?", evidence=evidence),
        ],
        unanswerable=[
            OffTopicItem(id="u1", question="f16?"),
            OffTopicItem(id="u2", question="imf?"),
        ],
    )
    m = report.metrics
    assert m["answers_non_factoid"] == 0.5 and m["declines_unanswerable"] == 0.5
    assert m["answered"] is None and m["relevance_on_topic_min"] is None
    assert m["relevance_off_topic_max"] is None
    assert report.misses == [("n2", "wrong?"), ("u1", "f16?")]


def test_the_bundled_measured_sets_are_big_enough() -> None:
    from rag.config import Settings
    from rag.evaluation import dataset as ds

    folder = Settings().eval_dir
    assert len(ds.load_qa(folder / "nonfactoid.jsonl")) >= 15
    assert len(ds.load_off_topic(folder / "unanswerable.jsonl")) >= 15
