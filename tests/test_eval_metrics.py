"""Metric code against ir_measures on the same runs, and relevance by evidence span."""

import pytest

from rag.evaluation.evidence import EvidenceLocator, covers
from rag.evaluation.metrics import ndcg_at, recall_at, reciprocal_rank
from rag.records import DocumentRef, Passage, SectionRef, Span

RUNS = {
    "q1": ["a", "b", "c", "d"],
    "q2": ["c", "a", "x", "y", "z", "b"],
    "q3": ["x", "y", "z"],
    "q4": ["b", "d", "a", "c", "e", "f", "g", "h", "i", "j", "k"],
}
QRELS = {"q1": {"a"}, "q2": {"b", "x"}, "q3": {"q"}, "q4": {"k", "d", "h"}}


def ours(metric, qid):
    rel = [pid in QRELS[qid] for pid in RUNS[qid]]
    if metric == "recall@5":
        return recall_at(rel, 5)
    if metric == "rr":
        return reciprocal_rank(rel, 10)
    return ndcg_at(rel, 10, len(QRELS[qid]))


@pytest.mark.parametrize(
    ("metric", "measure"), [("recall@5", "Success@5"), ("rr", "RR@10"), ("ndcg", "nDCG@10")]
)
def test_metrics_match_ir_measures(metric, measure):
    ir_measures = pytest.importorskip("ir_measures")
    qrels = [ir_measures.Qrel(q, d, 1) for q, docs in QRELS.items() for d in docs]
    run = [
        ir_measures.ScoredDoc(q, d, float(len(docs) - i))
        for q, docs in RUNS.items()
        for i, d in enumerate(docs)
    ]
    expected = {
        m.query_id: m.value
        for m in ir_measures.iter_calc([ir_measures.parse_measure(measure)], qrels, run)
    }
    for qid in RUNS:
        assert ours(metric, qid) == pytest.approx(expected.get(qid, 0.0), abs=1e-9), qid


def passage(start, end, doc="d"):
    return Passage(
        id=f"{doc}-{start}",
        document=DocumentRef(id=doc, title="T"),
        text="x" * (end - start),
        section=SectionRef(title="S", path=("S",)),
        span=Span(start=start, end=end),
        tokens=1,
        ordinal=0,
    )


def test_relevance_is_span_coverage_whatever_the_chunking(brief):
    locator = EvidenceLocator([brief])
    spans = locator.locate("Pakistan helped the U.S. reverse the Soviet invasion of Afghanistan")
    (span,) = spans
    assert covers(passage(span.start - 10, span.end + 5, brief.id), spans)
    assert not covers(passage(span.start + 1, span.end + 5, brief.id), spans)  # cuts the quote
    assert not covers(passage(span.start, span.end, "other-doc"), spans)


def test_quotes_match_across_markers_escapes_case_and_spacing(brief):
    locator = EvidenceLocator([brief])
    assert locator.locate("the end of the COLD war.")  # marker ² follows in the text
    assert locator.locate("collective investment of $1.5 billion")
    assert locator.locate(r"collective   investment of \$1.5 billion")
    assert not locator.locate("a sentence that is not in the brief at all")
