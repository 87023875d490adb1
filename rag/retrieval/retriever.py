"""Retrieval legs fused by weighted reciprocal rank (RRF):

- dense: the passage vector in FAISS (inner product over unit vectors; exact, or HNSW for a
  large corpus, see :mod:`rag.store.vectors`);
- sentences: the best-matching sentence of each passage (max-sim), so one precise sentence
  is not diluted by the rest of a 200-token passage;
- tokens: late interaction (MaxSim over contextual token vectors), re-ranking only the
  passages the cheap legs (dense, sentences, bm25) returned, so its cost does not grow with
  the corpus;
- bm25: lexical, for names, numbers and acronyms the encoder blurs;
- footnotes: the citations themselves (title, publisher, date). When a question is closer to
  a citation than to any passage, the passages citing that footnote rank — which is how
  "which source reports …?" finds the passage carrying the footnote.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Literal

from rag.config import RetrieverName
from rag.errors import DocumentNotFound, QueryError, SectionNotFound
from rag.records import Hit
from rag.store import bm25
from rag.text import has_visible_text

if TYPE_CHECKING:
    import numpy as np

    from rag.config import Settings
    from rag.encoding.protocol import Encoder
    from rag.store.index import IndexHandle

Ranking = list[tuple[int, float]]  # (passage index, score), best first
LegName = Literal["dense", "sentences", "tokens", "bm25", "footnotes"]
LEGS: tuple[LegName, ...] = ("dense", "sentences", "tokens", "bm25", "footnotes")  # fusion order
RETRIEVER_LEGS: dict[RetrieverName, tuple[LegName, ...]] = {
    "hybrid": LEGS,
    "dense": ("dense", "sentences", "tokens"),
    "bm25": ("bm25",),
}


@dataclass(frozen=True)
class RetrievalParams:
    """The fusion knobs. No defaults here: they live in :class:`rag.config.Settings`, where
    their measurement is noted, and :meth:`from_settings` reads them by name."""

    rrf_k: int
    dense_weight: float
    sentence_weight: float
    token_weight: float
    bm25_weight: float
    footnote_weight: float
    footnote_depth: int
    footnote_margin: float
    candidates: int
    token_candidates: int

    @classmethod
    def from_settings(cls, settings: Settings) -> RetrievalParams:
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})


def rrf(rankings: Sequence[tuple[Ranking, float]], k: int) -> Ranking:
    """Weighted reciprocal-rank fusion; ties keep document order, so results are stable."""
    fused: dict[int, float] = {}
    for ranking, weight in rankings:
        if weight <= 0:
            continue
        for rank, (idx, _) in enumerate(ranking, start=1):
            fused[idx] = fused.get(idx, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def _allowed(handle: IndexHandle, section: str | None) -> set[int] | None:
    if not section:
        return None
    want = section.strip().rstrip(":").casefold()
    rows = handle.passages.rows_in_sections(
        lambda s: want == s.title.casefold() or want in (part.casefold() for part in s.path)
    )
    return set(rows.tolist())


def in_documents(handle: IndexHandle, documents: Sequence[str] | None) -> set[int] | None:
    """The passages of the briefs ``documents`` names (ids, as `GET /documents` lists them);
    ``None``: every brief. An id no brief has is refused with the ones there are."""
    if not documents:
        return None
    unknown = [d for d in dict.fromkeys(documents) if d not in handle.documents]
    if unknown:
        raise DocumentNotFound.naming(unknown, handle.documents)
    return set(handle.passages.rows_of(documents).tolist())


def _keep(ranking: Ranking, allowed: set[int] | None) -> Ranking:
    return ranking if allowed is None else [(i, s) for i, s in ranking if i in allowed]


def dense_ranking(
    handle: IndexHandle, qvec: np.ndarray, depth: int, allowed: set[int] | None = None
) -> Ranking:
    """Passages by cosine to the question; ``allowed``: only those passages."""
    depth = min(depth, handle.faiss_index.ntotal)
    if depth == 0:
        return []
    from rag.store.vectors import is_graph, search

    graph = is_graph(handle.faiss_index)
    if allowed is not None and graph:
        return _scoped_dense(handle, qvec, depth, allowed)
    scores, ids = search(handle.faiss_index, qvec, depth)
    found = ids >= 0
    scores, ids = scores[found], ids[found]
    if graph:  # its codes' cosines are approximate: the found passages scored exactly
        scores = handle.exact_passages.take(ids) @ qvec
    return best_first(ids, scores)


def _scoped_dense(handle: IndexHandle, qvec: np.ndarray, depth: int, allowed: set[int]) -> Ranking:
    """The ``allowed`` passages scored exactly, not found by a graph walk: a scope (a brief,
    a section) is a few rows of a large library, and asking the graph for every passage,
    as a scope asks, would walk all of it."""
    import numpy as np

    rows = np.fromiter(sorted(allowed), dtype=np.int64, count=len(allowed))
    return best_first(rows, handle.exact_passages.take(rows) @ qvec, depth)


def best_first(ids: np.ndarray, scores: np.ndarray, depth: int | None = None) -> Ranking:
    """(id, score) pairs by score, ties in id order (``sorted`` by ``(-score, id)``), as
    arrays: sorting a graph search's 800 rows as Python tuples measured 0.7 ms a question
    on a 10k-passage library."""
    import numpy as np

    order = np.lexsort((ids, -scores))[:depth]
    return list(zip(ids[order].tolist(), scores[order].tolist(), strict=True))


def sentence_ranking(
    handle: IndexHandle, qvec: np.ndarray, depth: int, allowed: set[int] | None = None
) -> Ranking:
    """Passages ranked by their best sentence's cosine similarity to the question: a scan
    of every sentence vector (exact), or a walk of the sentence HNSW graph when the index is
    one and the depth asked for is a small share of the sentences. ``allowed``: only those
    passages (behind a graph, only their sentences are read and scored)."""
    from rag.store.vectors import is_graph

    if allowed is not None and is_graph(handle.sentence_index):
        return _scoped_sentences(handle, qvec, depth, allowed)
    if is_graph(handle.sentence_index):
        ranking = _sentence_graph_ranking(handle, qvec, depth)
        if ranking is not None:
            return ranking
    return _sentence_scan_ranking(handle, qvec, depth)


# How many sentence rows a graph search asks for per passage wanted (it also sets the
# search beam, efSearch >= rows asked for). Twice the depth yields `depth` distinct passages
# in one search, but on 100k passages (349k rows, hash encoder) it found 0.91 of the exact
# top 200 and missed the best sentence for 4 questions of 30; four times: 0.94 and 2 of 30,
# at 3.1 ms p50 against 1.7 ms (the exact scan: 68 ms); eight times: 0.95 at 9.4 ms.
SENTENCES_PER_PASSAGE = 4
# A graph search that would visit more than this share of the rows (a deep search, or one
# restricted to a section, which asks for every passage) is slower than the exact scan.
GRAPH_MAX_SHARE = 0.05


def _sentence_scan_ranking(handle: IndexHandle, qvec: np.ndarray, depth: int) -> Ranking:
    import numpy as np

    from rag.store.ranks import segment_max, top_order

    # Sentence rows are in passage order: each passage's best is one segmented maximum.
    cosines = handle.exact_sentences.cosines(qvec)
    best = segment_max(cosines, np.diff(handle.passage_sentences))
    return [(int(i), float(best[i])) for i in top_order(best, depth) if np.isfinite(best[i])]


def _scoped_sentences(
    handle: IndexHandle, qvec: np.ndarray, depth: int, allowed: set[int]
) -> Ranking:
    """The sentences of the ``allowed`` passages scored exactly (a passage's rows are one
    run), each passage by its best."""
    import numpy as np

    from rag.store.ranks import segment_max

    passages = np.fromiter(sorted(allowed), dtype=np.int64, count=len(allowed))
    lo, hi = handle.passage_sentences[passages], handle.passage_sentences[passages + 1]
    best = segment_max(handle.exact_sentences.ranges(lo, hi) @ qvec, hi - lo)
    found = np.isfinite(best)
    return best_first(passages[found], best[found], depth)


def _sentence_graph_ranking(handle: IndexHandle, qvec: np.ndarray, depth: int) -> Ranking | None:
    """The HNSW's best sentence rows, reduced to their passages (a passage scores its best
    sentence found). Asks for more rows until ``depth`` passages are found; None when that
    would take more than ``GRAPH_MAX_SHARE`` of the rows (the scan is then cheaper).

    The graph's cosines are its 8-bit codes': each passage's best row by them is scored
    again exactly, and only for the passages that can still reach the top ``depth``: those
    within twice the codes' error bound of the ``depth``-th best (any other is beaten by
    ``depth`` passages whatever its exact cosine). The reads are most of the leg's cost
    (800 rows read one by one measured 1.7 ms on the 100k library); a passage's other
    sentences found are rarely within the codes' error (median 0.001) of its best."""
    import numpy as np

    from rag.store.vectors import search

    limit = GRAPH_MAX_SHARE * int(handle.sentence_index.ntotal)
    want = depth * SENTENCES_PER_PASSAGE
    exact = handle.exact_sentences
    while want <= limit:
        scores, ids = search(handle.sentence_index, qvec, want)
        found = ids >= 0
        scores, ids = scores[found], ids[found]
        owners = handle.sentence_owners[ids]
        # Rows come best first, so a passage's first row is its best sentence found.
        _, first = np.unique(owners, return_index=True)
        if len(first) >= depth:
            approx = scores[first]
            bar = np.partition(approx, len(approx) - depth)[len(approx) - depth]
            near = first[approx >= bar - 2 * exact.code_error(qvec)]
            return best_first(owners[near], exact.take(ids[near]) @ qvec, depth)
        want *= 2
    return None


def candidate_pool(*rankings: Ranking) -> list[int]:
    """The passages any cheap leg returned, in index order: what the token leg re-ranks."""
    return sorted({idx for ranking in rankings for idx, _ in ranking})


def token_ranking(
    handle: IndexHandle, qtokens: np.ndarray, depth: int, candidates: Sequence[int] | None = None
) -> Ranking:
    """``candidates`` (all passages when None) ranked by their best sentence under
    late-interaction MaxSim. Only the candidates' token rows are read, so the cost follows
    the first stage's depth, not the corpus size."""
    import numpy as np

    from rag.store.late import maxsim_passages
    from rag.store.ranks import top_order

    pool = (
        np.arange(len(handle.passages), dtype=np.int64)
        if candidates is None
        else np.asarray(candidates, dtype=np.int64)
    )
    scores = maxsim_passages(
        qtokens,
        handle.token_table,
        handle.token_offsets,
        handle.passage_sentences,
        pool,
        handle.token_norms,
        handle.token_file,
    )
    order = top_order(scores, depth)
    return [(int(pool[i]), float(scores[i])) for i in order if np.isfinite(scores[i])]


def bm25_ranking(handle: IndexHandle, question: str, depth: int) -> Ranking:
    return bm25.search(handle.bm25, question, depth)


# The rows of the footnote graph scored exactly for its best cosine: its codes' cosines are
# approximate, so its top row need not be the best one.
BEST_FOOTNOTE_ROWS = 8


def best_footnote(handle: IndexHandle, qvec: np.ndarray) -> float:
    """The highest cosine of any footnote: the scan's maximum, or the graph's top hits'."""
    from rag.store.vectors import is_graph, search

    if is_graph(handle.footnote_index):
        _, ids = search(handle.footnote_index, qvec, BEST_FOOTNOTE_ROWS)
        ids = ids[ids >= 0]
        return float((handle.exact_footnotes.take(ids) @ qvec).max()) if len(ids) else -1.0
    return float(handle.exact_footnotes.cosines(qvec).max())


def footnote_ranking(
    handle: IndexHandle,
    question: str,
    qvec: np.ndarray,
    params: RetrievalParams,
    best_passage: float,
) -> Ranking:
    """Rank footnotes by dense + BM25 fusion; the passages citing the best
    ``footnote_depth`` notes inherit their rank.

    The leg only speaks when the best citation is closer to the question than the best
    passage (plus ``footnote_margin``): most passages cite something, so an ungated leg
    would lift citing passages for every question, measured to cost recall@1. The gate
    reads the best citation's cosine from the footnote index (an HNSW walk above a size),
    so a closed gate, the usual case, costs no scan of every footnote.
    """
    if not handle.footnote_keys:
        return []
    if best_footnote(handle, qvec) < best_passage + params.footnote_margin:
        return []
    sims = handle.exact_footnotes.cosines(qvec)
    lexical = bm25.scores(handle.footnote_bm25, question)
    ranking: Ranking = []
    seen: set[int] = set()
    for note, score in fused_notes(sims, lexical, params.rrf_k, params.footnote_depth):
        for idx in handle.citing.get(handle.footnote_keys[note], ()):
            if idx not in seen:
                seen.add(idx)
                ranking.append((idx, score))
    return ranking


def fused_notes(
    sims: np.ndarray, lexical: np.ndarray | None, k: int, depth: int
) -> list[tuple[int, float]]:
    """:func:`rrf` of every footnote ranked by cosine (``sims``) and those with a positive
    BM25 score ranked by it, cut to the best ``depth``: the same pairs in the same order,
    from arrays. Ranking and fusing every footnote as Python tuples cost 6 ms a question on
    a 10k-passage library (3,835 footnotes) whenever the gate opened."""
    import numpy as np

    from rag.store.ranks import top_order

    ranks = np.empty(len(sims), dtype=np.int64)
    ranks[top_order(sims, len(sims))] = np.arange(1, len(sims) + 1)
    fused = 1.0 / (k + ranks.astype(np.float64))
    if lexical is not None:
        order = bm25.ranked(lexical, len(lexical))  # as bm25.search ranks them
        fused[order] += 1.0 / (k + np.arange(1, len(order) + 1, dtype=np.float64))
    best = top_order(fused, depth)
    return [(int(i), float(fused[i])) for i in best]


class Retriever:
    """Searches one index handle with one encoder; cheap to create per handle."""

    def __init__(self, handle: IndexHandle, encoder: Encoder, params: RetrievalParams) -> None:
        self.handle = handle
        self.encoder = encoder
        self.params = params
        # BM25 over a scope's briefs alone, built on first use (rows → passage indexes).
        self._scoped_bm25: dict[frozenset[str], tuple[Any, list[int]]] = {}

    def scoped_bm25(self, scope: Collection[str]) -> tuple[Any, list[int]]:
        """A BM25 index over the passages of the briefs in ``scope`` only, with each of its
        rows' passage index. A term's weight (IDF) then comes from those briefs, as it
        would in an index holding them alone: with the library's, a brief scoped inside a
        9-brief library lost a question at recall@1 that it answers alone. Built once per
        scope and build (a brief of 30 passages: milliseconds), at most 32 kept."""
        key = frozenset(scope)
        found = self._scoped_bm25.get(key)
        if found is None:
            from rag.chunking.represent import passage_text

            handle, table = self.handle, self.handle.passages
            fronts = {d.id: d.front_matter for d in handle.documents.values()}
            rows: list[int] = table.rows_of(key).tolist()
            texts = [passage_text(table[i], fronts[table.document_of(i).id]) for i in rows]
            found = (bm25.build(texts, handle.manifest.bm25), rows)
            if len(self._scoped_bm25) >= 32:
                self._scoped_bm25.pop(next(iter(self._scoped_bm25)))
            self._scoped_bm25[key] = found
        return found

    def legs(
        self,
        question: str,
        names: Collection[LegName],
        qvec: np.ndarray | None,
        qtokens: np.ndarray | None,
        depth: int,
        allowed: set[int] | None = None,
        timings: dict[str, float] | None = None,
        scope: Collection[str] | None = None,
    ) -> dict[LegName, Ranking]:
        """The top ``depth`` of each leg in ``names`` for one question, before fusion.

        Dense runs whenever there is a question vector (it gives hits their cosine). The
        token leg re-ranks the union of the cheap legs' top ``token_candidates`` (dense,
        sentences, and bm25 when asked for), so asking for it runs those deeper; the
        footnote gate reads the best dense and sentence similarity. With ``timings``, each
        leg's seconds are added under its name.
        """
        handle, p = self.handle, self.params
        clock = _Clock(timings)
        wants_tokens = "tokens" in names
        first = max(depth, p.token_candidates) if wants_tokens else depth
        deep: dict[LegName, Ranking] = {}
        if qvec is not None:
            with clock("dense"):
                deep["dense"] = _keep(dense_ranking(handle, qvec, first, allowed), allowed)
            if any(n in names for n in ("sentences", "tokens", "footnotes")):
                with clock("sentences"):
                    ranking = sentence_ranking(handle, qvec, first, allowed)
                    deep["sentences"] = _keep(ranking, allowed)
        if "bm25" in names:
            with clock("bm25"):
                if scope is not None and len(set(scope)) < len(handle.documents):
                    index, rows = self.scoped_bm25(scope)
                    found = bm25.search(index, question, min(first, len(rows)))
                    ranking = [(rows[i], score) for i, score in found]
                else:
                    ranking = bm25_ranking(handle, question, first)
                deep["bm25"] = _keep(ranking, allowed)
        out: dict[LegName, Ranking] = {n: r[:depth] for n, r in deep.items()}
        if wants_tokens:
            if qtokens is None:
                raise ValueError("the token leg needs the question's token vectors")
            with clock("tokens"):
                # Each cheap leg's top `token_candidates` (the legs may run deeper, for
                # fusion's `depth`), so the pool is bounded whatever the library's size.
                pool = candidate_pool(*(r[: p.token_candidates] for r in deep.values()))
                out["tokens"] = token_ranking(handle, qtokens, depth, pool)
        if "footnotes" in names and qvec is not None:
            with clock("footnotes"):
                best = max((s for _, s in out["sentences"][:1]), default=-1.0)
                best = max(best, max((s for _, s in out["dense"][:1]), default=-1.0))
                notes = footnote_ranking(handle, question, qvec, p, best)
                out["footnotes"] = _keep(notes, allowed)
        return out

    def plan(
        self,
        question: str,
        k: int = 5,
        retriever: RetrieverName = "hybrid",
        section: str | None = None,
        documents: Sequence[str] | None = None,
    ) -> SearchPlan:
        """Check a question and decide its legs, before any encoding: a bad question,
        section or document scope is refused without the model ever running."""
        question = question.strip() if isinstance(question, str) else ""
        if not has_visible_text(question):  # empty, or zero-width characters only
            raise QueryError("the question is empty; ask something about the brief")
        if k < 1:
            raise QueryError(f"k must be at least 1, got {k}")
        handle, p = self.handle, self.params
        scope = in_documents(handle, documents)
        allowed = _allowed(handle, section)
        if allowed is not None and not (allowed if scope is None else allowed & scope):
            rows = None if scope is None else sorted(scope)
            known = sorted({s.title for s in handle.passages.sections_in(rows)})
            shown = ", ".join(known[:20]) + (", …" if len(known) > 20 else "")
            raise SectionNotFound(f"no section named {section!r}; use one of: {shown}")
        if scope is not None:
            allowed = scope if allowed is None else allowed & scope
        depth = len(handle.passages) if allowed is not None else max(p.candidates, k)
        names = tuple(n for n in RETRIEVER_LEGS[retriever] if n != "tokens" or p.token_weight > 0)
        chosen = tuple(dict.fromkeys(documents)) if documents else None
        return SearchPlan(question, k, retriever, names, depth, allowed, chosen)

    def search(
        self,
        question: str,
        k: int = 5,
        retriever: RetrieverName = "hybrid",
        section: str | None = None,
        qvec: np.ndarray | None = None,
        qtokens: np.ndarray | None = None,
        documents: Sequence[str] | None = None,
    ) -> list[Hit]:
        plan = self.plan(question, k, retriever, section, documents)
        return self.run(plan, *self.vectors(plan, qvec, qtokens))

    def vectors(
        self, plan: SearchPlan, qvec: np.ndarray | None = None, qtokens: np.ndarray | None = None
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The question's pooled and token vectors for ``plan``: those given, else one
        encoder call when the plan needs the model (none for bm25)."""
        if plan.needs_model and (qvec is None or ("tokens" in plan.legs and qtokens is None)):
            vecs, toks = self.encoder.encode_with_tokens([plan.question])
            qvec, qtokens = vecs[0], toks[0]
        return qvec, qtokens

    def run(
        self, plan: SearchPlan, qvec: np.ndarray | None, qtokens: np.ndarray | None
    ) -> list[Hit]:
        """The hits of a planned search, from the question's vectors (none for bm25)."""
        handle, p = self.handle, self.params
        names, depth, allowed, k = plan.legs, plan.depth, plan.allowed, plan.k
        if not plan.needs_model:  # lexical only: the model is never run
            return _hits(
                handle,
                self.legs(plan.question, names, None, None, depth, allowed, scope=plan.documents)[
                    "bm25"
                ],
                k,
                {},
            )
        if qvec is None or ("tokens" in names and qtokens is None):
            raise ValueError("this search needs the question's pooled and token vectors")
        weights = leg_weights(p, plan.retriever)
        legs = self.legs(plan.question, names, qvec, qtokens, depth, allowed, scope=plan.documents)
        cosine = dict(legs["dense"])
        ranking = rrf([(legs[n], weights[n]) for n in names], p.rrf_k)
        return _hits(handle, ranking, k, cosine)


@dataclass(frozen=True)
class SearchPlan:
    """A checked question and the legs that will answer it (:meth:`Retriever.plan`)."""

    question: str  # stripped
    k: int
    retriever: RetrieverName
    legs: tuple[LegName, ...]
    depth: int
    allowed: set[int] | None  # passages the section and document scope keep; None: all
    documents: tuple[str, ...] | None = None  # the briefs searched; None: every brief

    @property
    def needs_model(self) -> bool:
        return self.retriever != "bm25"


def _hits(handle: IndexHandle, ranking: Ranking, k: int, cosine: dict[int, float]) -> list[Hit]:
    return [
        Hit(
            passage=handle.passages[idx],
            rank=rank,
            score=round(float(score), 6),
            dense_score=round(cosine[idx], 6) if idx in cosine else None,
        )
        for rank, (idx, score) in enumerate(ranking[:k], start=1)
    ]


def leg_weights(params: RetrievalParams, retriever: RetrieverName) -> dict[LegName, float]:
    """The fusion weight of each leg, in fusion order: 0 for a leg outside the retriever;
    the bm25 retriever ranks by BM25 alone."""
    if retriever == "bm25":
        return {n: (1.0 if n == "bm25" else 0.0) for n in LEGS}
    own: dict[LegName, float] = {
        "dense": params.dense_weight,
        "sentences": params.sentence_weight,
        "tokens": params.token_weight,
        "bm25": params.bm25_weight,
        "footnotes": params.footnote_weight,
    }
    return {n: (own[n] if n in RETRIEVER_LEGS[retriever] else 0.0) for n in LEGS}


class _Clock:
    """Adds the seconds spent in each ``with clock(name):`` block to ``timings``."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        if self.timings is None:
            yield
            return
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - started
