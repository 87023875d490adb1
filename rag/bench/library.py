"""``rag bench --library N``: what a library of about N passages costs, against its floors.

One run, in one process and one temporary folder:

1. write a deterministic library of same-topic briefs (:mod:`rag.bench.synth`) plus the
   bundled brief (so the eval questions have their answers in it): about N passages;
2. **build** it from scratch with the configured encoder (no embedding cache yet), timed
   from the call to the published index; just before and just after, encode the same
   passages' texts bare, in batches of 32 and in order, with the float32 encoder the build
   uses: the build's floor is the mean of the two rates (the load on a shared machine moves
   within minutes);
3. **add one brief** (``--add``: the embedding cache answers for everything else), timed;
4. build the bundled brief alone, then take turns on the same questions (every eval
   question, each made unique) between a hybrid ``search()`` on the library and one on the
   brief alone: the **query cost** ratio of the two p50s (question encoding included, as a
   user pays it);
5. start a real ``rag serve`` over the library, ask it the questions from one client, and
   read its peak **RSS** from ``/proc``.

:func:`repeat` does that ``runs`` times (the library is written once; each run builds in
a fresh folder) and judges each target on the median, with the range beside it.
:func:`repeat_built` (``rag bench --library-index DIR``) does steps 4 and 5 alone on a
library already built, for sizes a bench run cannot build in minutes.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.bench.stats import judged, questions, summary, unique
from rag.config import Settings, bundled_brief

if TYPE_CHECKING:
    from rag.encoding.protocol import Encoder

BUILD_TARGET = 0.5  # build rate at least this share of the bare float32 batch-32 rate
ADD_TARGET = 0.05  # adding one brief at most this share of a full build
RSS_TARGET_MB = 1000.0
LARGE = 50_000  # from here the query-cost bound is the 100k one


def query_bound(passages: int) -> float:
    """The issue's bound on library p50 / one-brief p50: 1.5× about 10k passages, 2× at
    100k (used from :data:`LARGE` passages on)."""
    return 2.0 if passages >= LARGE else 1.5


def write_library(folder: Path, passages: int, seed: int = 0) -> tuple[list[Path], Path]:
    """The library's briefs (generated ones plus a copy of the bundled brief), and one
    more generated brief kept apart, for the ``--add`` measurement."""
    from rag.bench.synth import PARAGRAPHS_PER_SECTION, SECTIONS, brief, write_corpus

    shelf = folder / "library"
    bundled = bundled_brief()
    per_brief = SECTIONS * PARAGRAPHS_PER_SECTION + 1
    count = write_corpus(shelf, max(per_brief, passages - 27), seed) if passages > 27 else 0
    if count == 0:
        shelf.mkdir(parents=True, exist_ok=True)
    shutil.copy(bundled, shelf / bundled.name)
    extra = folder / "extra" / "brief-added.md"
    extra.parent.mkdir(parents=True, exist_ok=True)
    extra.write_text(brief(count, seed), encoding="utf-8")
    return [shelf], extra


def _library_texts(settings: Settings, shelf: list[Path]) -> list[str]:
    """What a build of ``shelf`` embeds as passage vectors (read and cut as it does)."""
    from rag.chunking.passages import ChunkParams, chunk_documents
    from rag.chunking.represent import passage_text
    from rag.parsing import ReadOptions, load_sources

    options = ReadOptions.from_settings(settings)
    documents = [doc for _, doc in load_sources(shelf, options)]
    fronts = {d.id: d.front_matter for d in documents}
    passages = chunk_documents(
        documents, ChunkParams.from_settings(settings), max_passages=options.max_passages_per_brief
    )
    return [passage_text(p, fronts[p.document.id]) for p in passages]


def bare_rate(encoder: Encoder, texts: Sequence[str], batch_size: int = 32) -> float:
    """Texts per second of ``encoder.encode`` alone, in batches of ``batch_size``, in order."""
    encoder.encode(list(texts[:batch_size]), batch_size=batch_size)  # warm up
    started = time.perf_counter()
    encoder.encode(list(texts), batch_size=batch_size)
    return len(texts) / (time.perf_counter() - started)


def _timed_build(
    cfg: Settings, paths: list[Path] | None, out: Path, encoder: Encoder
) -> tuple[float, Any]:
    from rag.engine import build

    started = time.perf_counter()
    manifest = build(cfg, paths, out=out, encoder=encoder)
    return time.perf_counter() - started, manifest


def _query_cost(
    library: Any, brief: Any, asked: Sequence[str]
) -> tuple[dict[str, float], dict[str, float]]:
    """Hybrid ``search()`` p50 on each engine, taking turns (and turns at going first) on
    the same questions, so load that comes and goes weighs on both. With one BLAS and one
    FAISS thread, as a server runs its legs (:func:`rag.engine.for_serving`)."""
    import faiss
    from threadpoolctl import threadpool_limits

    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            return _in_turn(library, brief, asked)
    finally:
        faiss.omp_set_num_threads(threads)


def _in_turn(
    library: Any, brief: Any, asked: Sequence[str]
) -> tuple[dict[str, float], dict[str, float]]:
    for engine in (library, brief):
        engine.search("warm up", retriever="hybrid")
    times: dict[str, list[float]] = {"library": [], "brief": []}
    for i, q in enumerate(unique(asked, len(asked), "lib-")):
        order = [("library", library), ("brief", brief)]
        for name, engine in order if i % 2 == 0 else order[::-1]:
            started = time.perf_counter()
            engine.search(q, retriever="hybrid")
            times[name].append((time.perf_counter() - started) * 1000)
    return summary(times["library"]), summary(times["brief"])


def run(
    settings: Settings,
    passages: int,
    folder: Path,
    shelf: list[Path],
    extra: Path,
    say: Callable[[str], None] = lambda _: None,
    *,
    encoder: Encoder | None = None,
    serve: bool = True,
    quick: bool = False,
) -> dict[str, Any]:
    """One library run in ``folder`` (the library already written there); ``encoder``:
    the question encoder (default: the configured one); ``serve``: measure RSS in a real
    ``rag serve`` (else this process's peak RSS after the queries)."""
    from rag.engine import index_encoder, library_paths, make_encoder

    query = encoder or make_encoder(settings)
    embedder = index_encoder(settings, query)
    library_dir, brief_dir = folder / "index-library", folder / "index-brief"
    cfg = settings.model_copy(update={"index_dir": library_dir})
    texts = _library_texts(settings, shelf)
    say(f"bare encode of its {len(texts)} passages (batches of 32)")
    rates = [bare_rate(embedder, texts)]
    say(f"building a library of about {passages} passages")
    full_s, manifest = _timed_build(cfg, shelf, library_dir, query)
    say("bare encode again (the load may have moved)")
    rates.append(bare_rate(embedder, texts))
    rate = statistics.mean(rates)
    say("adding one brief (--add)")
    add_s, added = _timed_build(cfg, library_paths(library_dir, [extra], []), library_dir, query)
    result: dict[str, Any] = {
        "passages": manifest.counts.passages,
        "documents": manifest.counts.documents,
        "index_encoder": embedder.backend,
        "build": {
            "seconds": round(full_s, 2),
            "passages_per_s": round(manifest.counts.passages / full_s, 2),
            "bare_passages_per_s": round(rate, 2),  # the mean of before and after the build
            "bare_runs_passages_per_s": [round(r, 2) for r in rates],
            "embedded": {k: v.embedded for k, v in manifest.embedding.items()},
        },
        "add": {
            "seconds": round(add_s, 2),
            "passages": added.counts.passages - manifest.counts.passages,
            "embedded_passages": added.embedding["passages"].embedded,
        },
    }
    result |= searched(settings, library_dir, brief_dir, query, say, serve=serve, quick=quick)
    result["targets"] = targets(result)
    return result


def run_built(
    settings: Settings,
    library_dir: Path,
    folder: Path,
    say: Callable[[str], None] = lambda _: None,
    *,
    encoder: Encoder | None = None,
    serve: bool = True,
    quick: bool = False,
) -> dict[str, Any]:
    """One run over a library already built at ``library_dir`` (``rag bench
    --library-index``): its query cost against the bundled brief (built in ``folder``) and
    the peak RSS of a ``rag serve`` over it. What a bench run cannot build in minutes (100k
    passages take hours with the model on 2 cores) is judged this way; its build and
    ``--add`` are not measured."""
    from rag.engine import make_encoder
    from rag.store.manifest import read_manifest

    manifest = read_manifest(library_dir.resolve(), shown=library_dir)
    query = encoder or make_encoder(settings, built_with=manifest.model.searched_with)
    result: dict[str, Any] = {
        "passages": manifest.counts.passages,
        "documents": manifest.counts.documents,
        "index": str(library_dir),
    }
    brief_dir = folder / "index-brief"
    result |= searched(settings, library_dir, brief_dir, query, say, serve=serve, quick=quick)
    result["targets"] = targets(result)
    return result


def searched(
    settings: Settings,
    library_dir: Path,
    brief_dir: Path,
    query: Encoder,
    say: Callable[[str], None],
    *,
    serve: bool,
    quick: bool,
) -> dict[str, Any]:
    """The bundled brief built alone at ``brief_dir``; hybrid ``search()`` on the library
    and on the brief in turn, every eval question (``quick``: 16); then the peak RSS of a
    real ``rag serve`` over the library (``serve``; else this process's)."""
    from rag.engine import open_engine

    asked = questions(settings.eval_dir)[: 16 if quick else None]

    say("the bundled brief alone")
    brief_cfg = settings.model_copy(update={"index_dir": brief_dir})
    _timed_build(brief_cfg, [bundled_brief()], brief_dir, query)
    say("query cost: the library and the brief alone, in turn")
    cfg = settings.model_copy(update={"index_dir": library_dir})
    library = open_engine(cfg, encoder=query, auto_build=False)
    alone = open_engine(brief_cfg, encoder=query, auto_build=False)
    on_library, on_brief = _query_cost(library, alone, asked)
    result: dict[str, Any] = {
        "questions": len(asked),
        "encoder": query.backend,
        "search_library": on_library,
        "search_brief": on_brief,
    }
    del library, alone
    if serve:
        from rag.bench import http

        say("rag serve over the library: one client, peak RSS")
        with http.serve(library_dir) as server:
            result["ready_s"] = server.ready_s
            result["http_c1_search"] = http.one_client(server, asked)["search"]
            result["rss_mb"] = server.peak_rss_mb()
        result["rss_of"] = "rag serve over the library (peak)"
    else:
        from rag.bench.proc import status_kb

        result["rss_mb"] = round(status_kb("self", "VmHWM") / 1024, 1)
        result["rss_of"] = "this process (peak)"
    return result


def figures(r: dict[str, Any]) -> dict[str, float]:
    """Each target's figure; the build's and the add's only when they were measured (not
    on a library judged as built)."""
    out: dict[str, float] = {}
    if "build" in r:
        build, add = r["build"], r["add"]
        out["build_rate / bare_fp32_batch32_rate"] = (
            build["passages_per_s"] / build["bare_passages_per_s"]
        )
    out["library_search_p50 / brief_search_p50"] = (
        r["search_library"]["p50_ms"] / r["search_brief"]["p50_ms"]
    )
    if "add" in r:
        out["add_one_brief_s / full_build_s"] = add["seconds"] / build["seconds"]
    out["rss_mb"] = r["rss_mb"]
    return out


def targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    bounds = {
        "build_rate / bare_fp32_batch32_rate": ("≥", BUILD_TARGET),
        "library_search_p50 / brief_search_p50": ("≤", query_bound(r["passages"])),
        "add_one_brief_s / full_build_s": ("≤", ADD_TARGET),
        "rss_mb": ("≤", RSS_TARGET_MB),
    }
    rows = []
    for name, value in figures(r).items():
        op, bound = bounds[name]
        met = value <= bound if op == "≤" else value >= bound
        rows.append(
            {"target": name, "bound": f"{op} {bound:g}", "value": round(value, 3), "met": met}
        )
    return rows


def repeat(
    settings: Settings,
    passages: int,
    runs: int,
    say: Callable[[str], None] = lambda _: None,
    *,
    encoder: Encoder | None = None,
    serve: bool = True,
    quick: bool = False,
) -> dict[str, Any]:
    """:func:`run` ``runs`` times over one written library, each run building in a fresh
    folder; targets judged on the medians (range beside), the details are the last run's."""
    with tempfile.TemporaryDirectory(prefix="rag-bench-library-") as tmp:
        folder = Path(tmp)
        shelf, extra = write_library(folder, passages)

        def measure(work: Path, step: Callable[[str], None]) -> dict[str, Any]:
            return run(
                settings, passages, work, shelf, extra, step,
                encoder=encoder, serve=serve, quick=quick,
            )  # fmt: skip

        last = _judged_runs(folder, runs, say, measure)
    last["asked_passages"] = passages
    return last


def repeat_built(
    settings: Settings,
    library_dir: Path,
    runs: int,
    say: Callable[[str], None] = lambda _: None,
    *,
    encoder: Encoder | None = None,
    serve: bool = True,
    quick: bool = False,
) -> dict[str, Any]:
    """:func:`run_built` ``runs`` times, judged as :func:`repeat` judges."""

    def measure(work: Path, step: Callable[[str], None]) -> dict[str, Any]:
        return run_built(
            settings, library_dir, work, step, encoder=encoder, serve=serve, quick=quick
        )

    with tempfile.TemporaryDirectory(prefix="rag-bench-library-") as tmp:
        return _judged_runs(Path(tmp), runs, say, measure)


def _judged_runs(
    folder: Path,
    runs: int,
    say: Callable[[str], None],
    measure: Callable[[Path, Callable[[str], None]], dict[str, Any]],
) -> dict[str, Any]:
    """``measure`` ``runs`` times, each in a fresh folder under ``folder`` (removed after
    it), its steps told through ``say`` with the run's number; the runs judged as one."""
    from rag.bench.run import _machine

    results = []
    for i in range(runs):
        work = folder / f"run-{i}"
        work.mkdir()
        step = say if runs == 1 else (lambda text, i=i: say(f"run {i + 1}/{runs}: {text}"))
        results.append(measure(work, step))
        shutil.rmtree(work, ignore_errors=True)
    last = judged(results)
    last["machine"] = _machine()
    return last
