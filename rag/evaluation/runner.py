"""Run a Q&A set against the index and score every retriever on the same questions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rag.config import RetrieverName
from rag.errors import DatasetError
from rag.evaluation.dataset import FootnoteItem, QAItem
from rag.evaluation.evidence import EvidenceLocator, EvidenceSpan, covers
from rag.evaluation.metrics import mean, ndcg_at, recall_at, reciprocal_rank
from rag.retrieval.retriever import Retriever
from rag.store.artifacts import read_documents
from rag.store.index import IndexHandle

if TYPE_CHECKING:
    import numpy as np

RETRIEVERS: tuple[RetrieverName, ...] = ("bm25", "dense", "hybrid")
METRICS = (
    "recall@1",
    "recall@3",
    "recall@5",
    "recall@10",
    "mrr@10",
    "ndcg@10",
    "section_accuracy@1",
    "footnote_accuracy@5",
    "mean_passage_tokens",
)


@dataclass(frozen=True)
class Miss:
    id: str
    question: str
    got: list[str]


@dataclass
class Report:
    retriever: RetrieverName
    n_questions: int
    metrics: dict[str, float | None]
    misses: list[Miss] = field(default_factory=list)
    runs: dict[str, list[str]] = field(default_factory=dict)  # question id → passage ids
    qrels: dict[str, set[str]] = field(default_factory=dict)  # question id → relevant ids
    # Per brief, for questions whose records name one (`"document"`): the same metrics.
    by_document: dict[str, dict[str, float | None]] = field(default_factory=dict)


def relevant_passages(
    items: Sequence[QAItem], handle: IndexHandle, source: Path | str
) -> dict[str, set[str]]:
    """Per question, the ids of the passages covering one of its evidence quotes."""
    evidence = resolve_evidence(items, handle, source)
    passages = list(handle.passages)  # built once, not once per question
    return {item.id: {p.id for p in passages if covers(p, evidence[item.id])} for item in items}


def resolve_evidence(
    items: Sequence[QAItem], handle: IndexHandle, source: Path | str
) -> dict[str, list[EvidenceSpan]]:
    """Spans of every evidence quote; a quote absent from the corpus is a dataset error."""
    locator = EvidenceLocator(read_documents(handle.path).values())
    resolved: dict[str, list[EvidenceSpan]] = {}
    for item in items:
        spans: list[EvidenceSpan] = []
        for quote in item.evidence:
            found = locator.locate(quote)
            if not found:
                raise DatasetError(
                    f"{source}: {item.id}: evidence quote not found in the indexed text: "
                    f"{quote[:80]!r}; quote the brief verbatim"
                )
            spans.extend(found)
        resolved[item.id] = spans
    return resolved


def evaluate(
    retriever: Retriever,
    name: RetrieverName,
    items: Sequence[QAItem],
    relevant_ids: dict[str, set[str]],
    qvecs: Sequence[np.ndarray],
    qtokens: Sequence[np.ndarray],
    footnote_items: Sequence[FootnoteItem] = (),
    footnote_qvecs: Sequence[np.ndarray] | None = None,
    footnote_qtokens: Sequence[np.ndarray] | None = None,
    k: int = 10,
    progress: Callable[[int], None] | None = None,
    documents: Sequence[str] | None = None,
    scoped: bool = False,
) -> Report:
    depth = max(k, 10)
    per: dict[str, list[float]] = {m: [] for m in METRICS}
    per_brief: dict[str, dict[str, list[float]]] = {}
    report = Report(retriever=name, n_questions=len(items), metrics={})
    for item, qvec, qtok in zip(items, qvecs, qtokens, strict=True):
        scope = [item.document] if scoped and item.document else documents
        hits = retriever.search(
            item.question, k=depth, retriever=name, qvec=qvec, qtokens=qtok, documents=scope
        )
        ids = [h.passage.id for h in hits]
        rel = [pid in relevant_ids[item.id] for pid in ids]
        scores = {f"recall@{cutoff}": recall_at(rel, cutoff) for cutoff in (1, 3, 5, 10)}
        scores["mrr@10"] = reciprocal_rank(rel, 10)
        scores["ndcg@10"] = ndcg_at(rel, 10, len(relevant_ids[item.id]))
        for metric, value in scores.items():
            per[metric].append(value)
            if item.document:
                per_brief.setdefault(item.document, {}).setdefault(metric, []).append(value)
        if item.section and hits:
            top = hits[0].passage.section.title.casefold()
            per["section_accuracy@1"].append(float(top == item.section.casefold()))
        per["mean_passage_tokens"].extend(h.passage.tokens for h in hits[:k])
        if not any(rel[:5]):
            report.misses.append(Miss(item.id, item.question, ids[:5]))
        report.runs[item.id] = ids
        report.qrels[item.id] = relevant_ids[item.id]
        if progress:
            progress(1)
    for note, qvec, qtok in zip(
        footnote_items, footnote_qvecs or [], footnote_qtokens or [], strict=True
    ):
        hits = retriever.search(
            note.question, k=5, retriever=name, qvec=qvec, qtokens=qtok, documents=documents
        )
        carried = any(
            f.number == note.footnote
            and (note.document is None or h.passage.document.id == note.document)
            for h in hits
            for f in h.passage.footnotes
        )
        per["footnote_accuracy@5"].append(float(carried))
        if not carried:
            report.misses.append(Miss(note.id, note.question, [h.passage.id for h in hits]))
        if progress:
            progress(1)
    report.metrics = {m: (round(mean(v), 4) if v else None) for m, v in per.items()}
    report.by_document = {
        brief: {m: round(mean(v), 4) for m, v in metrics.items()}
        for brief, metrics in sorted(per_brief.items())
    }
    return report


def run(
    retriever: Retriever,
    items: Sequence[QAItem],
    source: Path | str,
    footnote_items: Sequence[FootnoteItem] = (),
    retrievers: Sequence[RetrieverName] = RETRIEVERS,
    k: int = 10,
    progress: Callable[[int], None] | None = None,
    documents: Sequence[str] | None = None,
    scoped: bool = False,
) -> dict[RetrieverName, Report]:
    """Score each retriever on the same questions; questions are embedded once, in a batch.
    ``documents``: search only these briefs of a library; ``scoped``: each question only its
    record's ``document``."""
    relevant = relevant_passages(items, retriever.handle, source)
    encoder = retriever.encoder
    questions = [i.question for i in items]
    notes = [i.question for i in footnote_items]
    # One forward pass gives both the pooled and the token vectors.
    pooled, qtokens = encoder.encode_with_tokens(questions)
    qvecs = list(pooled)
    fvecs: list[np.ndarray] = []
    ftokens: list[np.ndarray] = []
    if notes:
        fpooled, ftokens = encoder.encode_with_tokens(notes)
        fvecs = list(fpooled)
    return {
        name: evaluate(
            retriever,
            name,
            items,
            relevant,
            qvecs,
            qtokens,
            footnote_items,
            fvecs,
            ftokens,
            k=k,
            progress=progress,
            documents=documents,
            scoped=scoped,
        )
        for name in retrievers
    }
