"""Fusion settings chosen by k-fold cross-validation, and what each leg is worth.

The eval sets are pooled (Q&A sets as evidence questions, source questions as footnote
questions: their relevant passages are those carrying the footnote asked about). Each
question is encoded once and every leg ranked once (:func:`cache_legs`); any fusion setting
(weights, ``rrf_k``, footnote gate margin) is then scored from those cached rankings with
the same arithmetic as :func:`rag.retrieval.retriever.rrf`, so a grid of thousands of settings costs
seconds, not a model call each.

Cross-validation (:func:`cross_validate`) splits the questions into folds, picks a setting
on the other folds and scores each question only with a setting chosen without it: the
*out-of-fold* numbers are what to expect on questions nobody tuned on. A setting is picked
by mean reciprocal rank@10 over all pooled questions, then recall@5, then recall@1, then
fewer legs (less work per query), then grid order.
"""

from __future__ import annotations

import itertools
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import astuple, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from rag.evaluation.dataset import FootnoteItem, QAItem
from rag.evaluation.evidence import covers
from rag.evaluation.runner import resolve_evidence
from rag.retrieval.retriever import LEGS, LegName, RetrievalParams, Retriever, leg_weights, rrf

if TYPE_CHECKING:
    import numpy as np

    from rag.config import RetrieverName
    from rag.retrieval.retriever import Ranking
    from rag.store.index import IndexHandle

_FOOTNOTES: tuple[LegName, ...] = ("footnotes",)
MISS = 11  # first relevant rank beyond the top 10: a miss for every metric here
Weights = tuple[float, float, float, float, float]  # in LEGS order


@dataclass(frozen=True)
class TuningQuestion:
    key: str  # "<set>:<id>", unique over the pooled sets
    source: str  # the set it comes from (the fold stratum)
    question: str
    relevant: frozenset[int]  # passage indices: covering a quote, or carrying the footnote
    kind: Literal["evidence", "footnote"]


def evidence_questions(
    handle: IndexHandle, name: str, items: Sequence[QAItem], source: Path | str
) -> list[TuningQuestion]:
    evidence = resolve_evidence(items, handle, source)
    passages = list(handle.passages)  # built once, not once per question
    return [
        TuningQuestion(
            key=f"{name}:{item.id}",
            source=name,
            question=item.question,
            relevant=frozenset(i for i, p in enumerate(passages) if covers(p, evidence[item.id])),
            kind="evidence",
        )
        for item in items
    ]


def footnote_questions(
    handle: IndexHandle, name: str, items: Sequence[FootnoteItem]
) -> list[TuningQuestion]:
    passages = list(handle.passages)  # built once, not once per question
    return [
        TuningQuestion(
            key=f"{name}:{item.id}",
            source=name,
            question=item.question,
            relevant=frozenset(
                i
                for i, p in enumerate(passages)
                if any(f.number == item.footnote for f in p.footnotes)
                and (item.document is None or p.document.id == item.document)
            ),
            kind="footnote",
        )
        for item in items
    ]


@dataclass(frozen=True)
class Fusion:
    """One fusion setting: a weight per leg (LEGS order), the RRF k, the footnote margin."""

    weights: Weights
    rrf_k: int
    footnote_margin: float

    @classmethod
    def of(cls, params: RetrievalParams, retriever: RetrieverName = "hybrid") -> Fusion:
        w = leg_weights(params, retriever)
        return cls(tuple(w[n] for n in LEGS), params.rrf_k, params.footnote_margin)  # type: ignore[arg-type]

    @property
    def legs(self) -> tuple[LegName, ...]:
        return tuple(n for n, w in zip(LEGS, self.weights, strict=True) if w > 0)

    def params(self, base: RetrievalParams) -> RetrievalParams:
        d, s, t, b, f = self.weights
        return replace(
            base,
            dense_weight=d,
            sentence_weight=s,
            token_weight=t,
            bm25_weight=b,
            footnote_weight=f,
            rrf_k=self.rrf_k,
            footnote_margin=self.footnote_margin,
        )

    def describe(self) -> str:
        if not self.legs:
            return "no legs"
        shown = " ".join(f"{n}={w:g}" for n, w in zip(LEGS, self.weights, strict=True) if w > 0)
        extra = f", margin {self.footnote_margin:g}" if "footnotes" in self.legs else ""
        return f"{shown} (k {self.rrf_k}{extra})"


@dataclass(frozen=True)
class Grid:
    """The settings searched: every combination of these values. Ties go to the value
    listed first (k 60 is the usual RRF constant, margin 0.1 the one measured before)."""

    weights: tuple[float, ...]
    rrf_k: tuple[int, ...] = (60, 30, 10)
    footnote_margin: tuple[float, ...] = (0.1, 0.05, 0.0, 0.2)

    def settings(self, extra: Sequence[Fusion] = ()) -> list[Fusion]:
        out: list[Fusion] = []
        for k in self.rrf_k:
            for weights in itertools.product(self.weights, repeat=len(LEGS)):
                if not any(weights):
                    continue
                margins = self.footnote_margin if weights[-1] > 0 else self.footnote_margin[:1]
                out += [Fusion(weights, k, m) for m in margins]  # type: ignore[arg-type]
        seen = set(out)
        return out + [f for f in dict.fromkeys(extra) if f not in seen]


# A weight per leg, 0 (off) to 2: 4^5 - 1 combinations (x rrf_k x margin).
WEIGHTS = Grid(weights=(0.0, 0.5, 1.0, 2.0))
# Which legs to fuse, each at weight 1 (equal-weight RRF): 31 subsets, reported beside.
SUBSETS = Grid(weights=(0.0, 1.0))
GRIDS = {"weights": WEIGHTS, "subsets": SUBSETS}


@dataclass
class CachedQuestion:
    """One question's leg rankings, computed once. The footnote leg depends on the RRF k
    (it fuses two rankings of the footnotes) and on the gate margin: one per pair."""

    question: TuningQuestion
    legs: dict[LegName, Ranking]
    footnotes: dict[tuple[int, float], Ranking] = field(default_factory=dict)

    def rankings(self, fusion: Fusion) -> list[Ranking]:
        """The leg rankings this setting fuses, in LEGS order."""
        notes = self.footnotes[(fusion.rrf_k, fusion.footnote_margin)]
        return [notes if n == "footnotes" else self.legs[n] for n in LEGS]


def cache_legs(
    retriever: Retriever,
    questions: Sequence[TuningQuestion],
    settings: Sequence[Fusion],
    *,
    timings: dict[str, list[float]] | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[CachedQuestion]:
    """Encode each question once, as a query is encoded when served, and rank it by every
    leg, at the depth a search for 10 passages uses. With ``timings``, each step's seconds
    per question are appended (encode, each leg, fusion of all five)."""
    params = retriever.params
    depth = max(params.candidates, 10)
    gates = sorted({(f.rrf_k, f.footnote_margin) for f in settings})
    cached: list[CachedQuestion] = []
    for q in questions:
        started = time.perf_counter()
        vecs, toks = retriever.encoder.encode_with_tokens([q.question])
        encode_s = time.perf_counter() - started
        clock: dict[str, float] = {}
        legs = retriever.legs(q.question, LEGS, vecs[0], toks[0], depth, timings=clock)
        started = time.perf_counter()
        rrf([(legs[n], 1.0) for n in LEGS], params.rrf_k)
        clock["fusion"] = time.perf_counter() - started
        clock["encode"] = encode_s
        if timings is not None:
            for step, seconds in clock.items():
                timings.setdefault(step, []).append(seconds)
        item = CachedQuestion(q, {n: legs[n] for n in LEGS if n != "footnotes"})
        for k, margin in gates:
            variant = Retriever(
                retriever.handle,
                retriever.encoder,
                replace(params, rrf_k=k, footnote_margin=margin),
            )
            notes = variant.legs(q.question, _FOOTNOTES, vecs[0], None, depth)
            item.footnotes[(k, margin)] = notes["footnotes"]
        cached.append(item)
        if progress:
            progress(1)
    return cached


def fused(item: CachedQuestion, fusion: Fusion) -> Ranking:
    """The fused ranking of one cached question: :meth:`Retriever.search`'s, exactly."""
    pairs = zip(item.rankings(fusion), fusion.weights, strict=True)
    return rrf([(r, w) for r, w in pairs if w > 0], fusion.rrf_k)


def first_relevant_rank(ranking: Ranking, relevant: frozenset[int]) -> int:
    """1-based rank of the first relevant passage, or :data:`MISS` beyond the top 10."""
    return next((r for r, (i, _) in enumerate(ranking[:10], 1) if i in relevant), MISS)


def rank_matrix(cached: Sequence[CachedQuestion], settings: Sequence[Fusion]) -> np.ndarray:
    """``ranks[s, q]``: the first relevant rank of question q under setting s (MISS beyond
    10). Vectorised over the settings sharing an (rrf_k, margin) pair, with the sums taken
    leg by leg in LEGS order as :func:`rag.retrieval.retriever.rrf` takes them, so the scores, their
    ties and the ranks are the same bit for bit. Only the passages some leg ranked take part
    (the others score 0 and are never ranked), so the cost does not grow with the corpus."""
    import numpy as np

    ranks = np.full((len(settings), len(cached)), MISS, dtype=np.int16)
    groups: dict[tuple[int, float], list[int]] = {}
    for s, fusion in enumerate(settings):
        groups.setdefault((fusion.rrf_k, fusion.footnote_margin), []).append(s)
    for (k, _), members in groups.items():
        weights = np.array([settings[s].weights for s in members], dtype=np.float64)
        for q, item in enumerate(cached):
            legs = item.rankings(settings[members[0]])
            ranked = sorted({i for ranking in legs for i, _ in ranking})  # ties: index order
            column = {idx: c for c, idx in enumerate(ranked)}
            relevant = [column[i] for i in sorted(item.question.relevant) if i in column]
            if not relevant:
                continue
            scores = np.zeros((len(members), len(ranked)))
            for leg, ranking in enumerate(legs):
                position = np.full(len(ranked), np.inf)
                for rank, (idx, _) in enumerate(ranking, start=1):
                    position[column[idx]] = rank
                scores += weights[:, leg, None] / (k + position)[None, :]
            best = np.full(len(members), MISS, dtype=np.int64)
            for c in relevant:
                own = scores[:, c, None]
                ahead = (scores > own).sum(axis=1) + (scores[:, :c] == own).sum(axis=1)
                best = np.minimum(best, np.where(own[:, 0] > 0, ahead + 1, MISS))
            ranks[members, q] = np.minimum(best, MISS)
    return ranks


@dataclass(frozen=True)
class Scores:
    """Metrics over a set of questions, from their first relevant ranks."""

    recall_at_1: float  # evidence questions
    recall_at_5: float
    mrr_at_10: float
    footnote_accuracy_at_5: float  # footnote questions
    pooled_mrr_at_10: float  # all questions: the selection criterion

    @classmethod
    def of(cls, ranks: Sequence[int], kinds: Sequence[str]) -> Scores:
        ev = [r for r, k in zip(ranks, kinds, strict=True) if k == "evidence"]
        fn = [r for r, k in zip(ranks, kinds, strict=True) if k == "footnote"]

        def avg(values: list[float]) -> float:
            return round(statistics.fmean(values), 4) if values else 0.0

        return cls(
            recall_at_1=avg([float(r == 1) for r in ev]),
            recall_at_5=avg([float(r <= 5) for r in ev]),
            mrr_at_10=avg([1.0 / r if r <= 10 else 0.0 for r in ev]),
            footnote_accuracy_at_5=avg([float(r <= 5) for r in fn]),
            pooled_mrr_at_10=avg([1.0 / r if r <= 10 else 0.0 for r in ranks]),
        )


def best_setting(
    ranks: np.ndarray, candidates: np.ndarray, columns: np.ndarray, cost: np.ndarray
) -> int:
    """Index of the setting (among ``candidates``) that scores best on ``columns``: pooled
    MRR@10, then recall@5, then recall@1, then the lower ``cost``, then grid order."""
    import numpy as np

    sub = ranks[np.ix_(candidates, columns)].astype(np.float64)
    rr = np.where(sub <= 10, 1.0 / sub, 0.0).sum(axis=1).round(9)
    r5 = (sub <= 5).sum(axis=1)
    r1 = (sub == 1).sum(axis=1)
    pick = np.lexsort((np.arange(len(candidates)), cost[candidates], -r1, -r5, -rr))[0]
    return int(candidates[pick])


def folds(questions: Sequence[TuningQuestion], n_folds: int, seed: int = 0) -> list[int]:
    """A fold number per question: shuffled with ``seed`` within each source set, then
    dealt round-robin, so every fold holds a share of every set."""
    if n_folds < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, got {n_folds}")
    if n_folds > len(questions):
        raise ValueError(f"{n_folds} folds for {len(questions)} questions; use fewer folds")
    fold = [0] * len(questions)
    rng = random.Random(seed)
    dealt = 0
    for source in dict.fromkeys(q.source for q in questions):
        members = [i for i, q in enumerate(questions) if q.source == source]
        rng.shuffle(members)
        for i in members:
            fold[i] = dealt % n_folds
            dealt += 1
    return fold


@dataclass(frozen=True)
class CVResult:
    chosen: list[int]  # the setting picked for each fold (on the other folds)
    out_of_fold: list[int]  # each question's first relevant rank under its fold's setting


def cross_validate(
    ranks: np.ndarray, candidates: np.ndarray, fold_of: Sequence[int], cost: np.ndarray
) -> CVResult:
    """Pick a setting on all folds but one and score that fold with it, for every fold:
    no question is ever scored with a setting chosen on it."""
    import numpy as np

    fold_arr = np.asarray(fold_of)
    chosen: list[int] = []
    oof = np.full(ranks.shape[1], MISS, dtype=np.int64)
    for f in range(int(fold_arr.max()) + 1):
        train, test = np.flatnonzero(fold_arr != f), np.flatnonzero(fold_arr == f)
        s = best_setting(ranks, candidates, train, cost)
        chosen.append(s)
        oof[test] = ranks[s, test]
    return CVResult(chosen, [int(r) for r in oof])


@dataclass(frozen=True)
class Row:
    """One line of the table: out-of-fold scores for a tuned row (the mean over the
    repeats, each a different split into folds), plain scores for a fixed setting."""

    name: str
    scores: Scores
    setting: Fusion  # fixed, or chosen on all questions: the one to ship
    tuned: bool
    pooled_mrr_range: tuple[float, float]  # lowest and highest over the repeats
    agreement: float  # share of the folds that chose ``setting`` (1.0 when fixed)
    legs_ms: float  # median per query of the setting's legs and the fusion (no encode)
    by_set: dict[str, Scores]  # the same scores, each set alone


@dataclass(frozen=True)
class TuningReport:
    sets: dict[str, int]  # questions per set
    footnote_sets: dict[str, bool]  # whether a set asks about footnotes
    n_folds: int
    repeats: int
    grid: str
    n_settings: int
    rows: list[Row]
    ablation: list[tuple[LegName, Row]]  # the hybrid re-tuned without each leg
    step_ms: dict[str, float]  # median per query: encode, each leg, fusion
    retriever: RetrieverName  # the retriever that wins out of fold
    chosen: Fusion  # its setting, chosen on all questions (bm25: the hybrid's, unused)

    def row(self, name: str) -> Row:
        return next(r for r in self.rows if r.name == name)

    def env(self) -> dict[str, str]:
        """The chosen setting as RAG_* variables."""
        fusion = self.chosen
        names = ("DENSE", "SENTENCE", "TOKEN", "BM25", "FOOTNOTE")
        env = {f"RAG_{n}_WEIGHT": f"{w:g}" for n, w in zip(names, fusion.weights, strict=True)}
        env["RAG_RRF_K"] = str(fusion.rrf_k)
        env["RAG_FOOTNOTE_MARGIN"] = f"{fusion.footnote_margin:g}"
        env["RAG_RETRIEVER"] = self.retriever
        return env


def _mean_scores(runs: Sequence[Sequence[int]], kinds: Sequence[str]) -> Scores:
    """Scores averaged over repeated runs (each a first relevant rank per question)."""
    columns = zip(*(astuple(Scores.of(r, kinds)) for r in runs), strict=True)
    return Scores(*(round(statistics.fmean(v), 4) for v in columns))


def _by_set(
    runs: Sequence[Sequence[int]], sources: Sequence[str], kinds: Sequence[str]
) -> dict[str, Scores]:
    out: dict[str, Scores] = {}
    for source in dict.fromkeys(sources):
        pick = [i for i, s in enumerate(sources) if s == source]
        own = [kinds[i] for i in pick]
        out[source] = _mean_scores([[r[i] for i in pick] for r in runs], own)
    return out


def _legs_ms(step_ms: dict[str, float], legs: Sequence[LegName]) -> float:
    # Dense always runs (it gives hits their cosine); the footnote gate needs sentences.
    steps = {"dense", "fusion", *legs}
    if "footnotes" in legs:
        steps.add("sentences")
    return round(sum(step_ms[s] for s in steps), 2)


def tune(
    retriever: Retriever,
    questions: Sequence[TuningQuestion],
    *,
    n_folds: int = 5,
    repeats: int = 20,
    grid: str = "weights",
    progress: Callable[[int], None] | None = None,
) -> TuningReport:
    """Cross-validate the fusion of ``retriever``'s index on ``questions``: the current
    setting, the hybrid, dense and bm25 retrievers, the hybrid on the other grid, and the
    hybrid without each leg. ``repeats`` splits into folds with seeds 0, 1, …"""
    import numpy as np

    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    current = Fusion.of(retriever.params)
    current_dense = Fusion.of(retriever.params, "dense")
    bm25_only = Fusion.of(retriever.params, "bm25")
    other = next(name for name in GRIDS if name != grid)
    main, alt = GRIDS[grid].settings(), GRIDS[other].settings()
    settings = list(dict.fromkeys([*main, *alt, current, current_dense, bm25_only]))
    in_main = np.isin(np.arange(len(settings)), np.arange(len(main)))
    alt_set = set(alt)
    in_alt = np.asarray([s in alt_set for s in settings])
    splits = [folds(questions, n_folds, seed) for seed in range(repeats)]
    timings: dict[str, list[float]] = {}
    cached = cache_legs(retriever, questions, settings, timings=timings, progress=progress)
    ranks = rank_matrix(cached, settings)
    step_ms = {s: round(statistics.median(v) * 1000, 2) for s, v in timings.items()}
    kinds = [q.kind for q in questions]
    sources = [q.source for q in questions]
    weights = np.array([s.weights for s in settings])
    cost = (weights > 0).sum(axis=1)
    index = {s: i for i, s in enumerate(settings)}

    def fixed(name: str, fusion: Fusion) -> Row:
        first = [int(r) for r in ranks[index[fusion]]]
        scores = Scores.of(first, kinds)
        pooled = (scores.pooled_mrr_at_10, scores.pooled_mrr_at_10)
        legs_ms = _legs_ms(step_ms, fusion.legs)
        by_set = _by_set([first], sources, kinds)
        return Row(name, scores, fusion, False, pooled, 1.0, legs_ms, by_set)

    def tuned(name: str, mask: np.ndarray) -> Row:
        candidates = np.flatnonzero(mask)
        on_all = best_setting(ranks, candidates, np.arange(len(questions)), cost)
        runs = [cross_validate(ranks, candidates, split, cost) for split in splits]
        oof = [r.out_of_fold for r in runs]
        pooled = [Scores.of(r, kinds).pooled_mrr_at_10 for r in oof]
        picks = [c for r in runs for c in r.chosen]
        agreement = round(picks.count(on_all) / len(picks), 2)
        fusion = settings[on_all]
        return Row(
            name,
            _mean_scores(oof, kinds),
            fusion,
            True,
            (min(pooled), max(pooled)),
            agreement,
            _legs_ms(step_ms, fusion.legs),
            _by_set(oof, sources, kinds),
        )

    def without(*legs: LegName) -> np.ndarray:
        off = [i for i, n in enumerate(LEGS) if n in legs]
        return np.asarray(in_main & (weights[:, off] == 0).all(axis=1))

    hybrid = tuned("hybrid, cross-validated", without())
    dense = tuned("dense, cross-validated", without("bm25", "footnotes"))
    rows = [
        fixed("hybrid, settings in use", current),
        hybrid,
        tuned(f"hybrid, cross-validated on the {other} grid", in_alt),
        fixed("dense, settings in use", current_dense),
        dense,
        fixed("bm25", bm25_only),
    ]
    ablation = [(leg, tuned(f"hybrid without {leg}", without(leg))) for leg in LEGS]
    contenders: dict[RetrieverName, Row] = {"hybrid": hybrid, "dense": dense, "bm25": rows[-1]}
    winner = max(contenders, key=lambda n: _merit(contenders[n]))
    chosen = (dense if winner == "dense" else hybrid).setting
    sets = dict(Counter(q.source for q in questions))
    footnote_sets = {q.source: q.kind == "footnote" for q in questions}
    return TuningReport(
        sets,
        footnote_sets,
        n_folds,
        repeats,
        grid,
        len(settings),
        rows,
        ablation,
        step_ms,
        winner,
        chosen,
    )


def _merit(row: Row) -> tuple[float, float, float, float, float]:
    # The order a setting is picked by; then the cheaper query.
    s = row.scores
    return (
        s.pooled_mrr_at_10,
        s.recall_at_5,
        s.recall_at_1,
        s.footnote_accuracy_at_5,
        -row.legs_ms,
    )


def render(report: TuningReport) -> list[str]:
    """The report as Markdown: the out-of-fold table, the ablation, the time per step and
    the chosen setting (so the docs show exactly what the command printed)."""
    sets = ", ".join(f"{name} {n}" for name, n in report.sets.items())
    hybrid = report.row("hybrid, cross-validated")
    lines = [
        f"{sum(report.sets.values())} questions ({sets}); {report.n_folds} folds x "
        f"{report.repeats} repeats; {report.grid} grid ({report.n_settings} settings scored).",
        "Tuned rows: out of fold, mean over the repeats (pooled MRR range in brackets); "
        "fixed rows: in sample.",
        "",
        "| retriever | recall@1 | recall@5 | MRR@10 | footnote acc@5 | pooled MRR@10 "
        "| folds agreeing | legs ms | setting |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in report.rows:
        s, (low, high) = row.scores, row.pooled_mrr_range
        spread = f" [{low:.3f}–{high:.3f}]" if row.tuned else ""
        agree = f"{row.agreement:.2f}" if row.tuned else "fixed"
        lines.append(
            f"| {row.name} | {s.recall_at_1:.3f} | {s.recall_at_5:.3f} | {s.mrr_at_10:.3f} "
            f"| {s.footnote_accuracy_at_5:.3f} | {s.pooled_mrr_at_10:.3f}{spread} | {agree} "
            f"| {row.legs_ms:.2f} | {row.setting.describe()} |"
        )
    names = list(report.sets)
    lines += [
        "",
        "| by set: recall@1 / MRR@10, or footnote acc@5 | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for row in report.rows:
        cells = [
            f"{b.footnote_accuracy_at_5:.3f}"
            if report.footnote_sets.get(n)
            else f"{b.recall_at_1:.3f} / {b.mrr_at_10:.3f}"
            for n, b in ((n, row.by_set[n]) for n in names)
        ]
        lines.append(f"| {row.name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| leg removed (rest re-tuned) | pooled MRR@10 | lost | recall@1 | footnote acc@5 "
        "| leg ms saved | setting |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for leg, row in report.ablation:
        s = row.scores
        lost = hybrid.scores.pooled_mrr_at_10 - s.pooled_mrr_at_10
        lines.append(
            f"| {leg} | {s.pooled_mrr_at_10:.3f} | {lost:+.3f} | {s.recall_at_1:.3f} "
            f"| {s.footnote_accuracy_at_5:.3f} | {report.step_ms[leg]:.2f} "
            f"| {row.setting.describe()} |"
        )
    steps = ["encode", *LEGS, "fusion"]
    lines += [
        "",
        "| median ms per query | " + " | ".join(steps) + " |",
        "|---|" + "---:|" * len(steps),
        "| in process | " + " | ".join(f"{report.step_ms[s]:.2f}" for s in steps) + " |",
        "",
        f"Wins out of fold: {report.retriever}, {report.chosen.describe()}",
        " ".join(f"{k}={v}" for k, v in report.env().items()),
    ]
    return lines
