"""The ``rag`` command: a thin shell over the library.

Heavy modules (torch, FAISS, the model) are imported inside the commands that need them,
so ``rag --help`` stays instant. Every :class:`~rag.errors.RagError` becomes one line on
stderr and the exit code :data:`EXIT_CODES` gives its kind.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from rag.config import RetrieverName, Settings, load_settings
from rag.errors import (
    AddressUnavailable,
    BenchmarkError,
    ConfigError,
    CorpusError,
    DatasetError,
    DeadlineExceeded,
    GeneratorError,
    IndexError_,
    ModelError,
    QueryError,
    RagError,
)
from rag.terminal import (
    answer_table,
    build_progress,
    err,
    eval_table,
    out,
    print_documents,
    print_hits,
    print_misses,
    say,
    trade_off_table,
)
from rag.text import has_visible_text

if TYPE_CHECKING:
    from rag.answering import Answerer

app = typer.Typer(
    name="rag",
    help="Question answering over policy briefs, with footnotes as first-class data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

# Exit codes, one table (first match wins): scripts can tell "nothing found" from a failure.
EXIT_CODES: tuple[tuple[type[RagError], int], ...] = (
    (ConfigError, 1),
    (CorpusError, 2),
    (QueryError, 2),
    (DatasetError, 2),
    (IndexError_, 3),
    (ModelError, 4),
    (GeneratorError, 5),
    (DeadlineExceeded, 7),
    (BenchmarkError, 8),
    (AddressUnavailable, 9),
)
EXIT_ERROR = 1
EXIT_NOT_FOUND = 6  # `rag answer`: nothing relevant in the briefs (not an error)
EXIT_INTERRUPTED = 130


def exit_code(error: RagError) -> int:
    return next((code for kind, code in EXIT_CODES if isinstance(error, kind)), EXIT_ERROR)


@contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except RagError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(exit_code(exc)) from None
    except KeyboardInterrupt:
        err.print("interrupted; nothing was published")
        raise typer.Exit(EXIT_INTERRUPTED) from None


def settings(**overrides: object) -> Settings:
    base = load_settings()  # a bad RAG_* variable: one line naming it, not a traceback
    values = {k: v for k, v in overrides.items() if v is not None}
    return base.model_copy(update=values) if values else base


def _retriever(name: str | None) -> RetrieverName | None:
    if name not in (None, "hybrid", "dense", "bm25"):
        raise QueryError(f"unknown retriever {name!r}; use hybrid, dense or bm25")
    return name  # type: ignore[return-value]


@app.command()
def index(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Brief files or folders (default: bundled brief). A folder is synchronised: "
            "new files added, changed ones re-embedded, deleted ones removed."
        ),
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Index directory.", envvar="RAG_INDEX_DIR")
    ] = None,
    add: Annotated[
        list[Path] | None,
        typer.Option("--add", help="Add (or replace) this brief file or folder; repeat."),
    ] = None,
    remove: Annotated[
        list[str] | None,
        typer.Option("--remove", help="Drop the brief with this id (`rag documents`); repeat."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Parse, chunk, embed and publish an index (atomically: the old one stays until done).
    Only text that changed since the last build is embedded again."""
    with user_errors():
        from rag import engine

        cfg = settings(index_dir=out_dir)
        if (add or remove) and paths:
            raise QueryError("give brief paths, or --add/--remove to change the index; not both")
        chosen = (
            engine.library_paths(cfg.index_dir, add or [], remove or [])
            if add or remove
            else (list(paths) if paths else None)
        )
        with build_progress(enabled=not as_json) as progress:
            manifest = engine.build(cfg, chosen, progress=progress)
        assert manifest is not None  # always built when not only_if_missing
        for warning in manifest.warnings:
            err.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
        for note in manifest.notes:  # how an ambiguous brief was read
            err.print(f"[cyan]note:[/] {escape(note)}", soft_wrap=True)
        c = manifest.counts
        reuse = manifest.embedding.get("passages")
        embedded, reused = (reuse.embedded, reuse.reused) if reuse else (c.passages, 0)
        if as_json:
            summary = {
                "documents": c.documents,
                "passages": c.passages,
                "embedded_passages": embedded,
                "reused_passages": reused,
                "sections": c.sections,
                "footnotes": c.footnotes,
                "tokens": c.tokens,
                "pages": c.pages,
                "ids": [d.id for d in manifest.documents],
                "parse_seconds": manifest.parse_seconds,
                "build_seconds": manifest.build_seconds,
                "index": str(cfg.index_dir),
                "warnings": manifest.warnings,
                "notes": manifest.notes,
            }
            sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
            return
        pages = f" ({c.pages} PDF pages)" if c.pages else ""
        out.print(
            f"indexed {c.documents} document(s){pages}: {c.sections} sections, "
            f"{c.footnotes} footnotes, {c.passages} passages, {c.tokens} tokens; "
            f"embedded {embedded:,} passages, reused {reused:,}; "
            f"parsed in {manifest.parse_seconds:.2f}s, built in {manifest.build_seconds:.1f}s "
            f"→ {cfg.index_dir}",
            soft_wrap=True,
        )


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A question about the brief.")],
    k: Annotated[int, typer.Option("-k", "--top-k", min=1, max=50, help="Passages to return.")] = 5,
    retriever: Annotated[
        str | None, typer.Option(help="hybrid, dense or bm25 (default: RAG_RETRIEVER).")
    ] = None,
    section: Annotated[str | None, typer.Option(help="Only passages of this section.")] = None,
    document: Annotated[
        list[str] | None,
        typer.Option(
            "--document", help="Only passages of this brief (an id `rag documents` lists); repeat."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Return the passages that best answer QUESTION, with section and footnotes."""
    with user_errors():
        if not has_visible_text(question):
            raise QueryError("the question is empty; ask something about the brief")
        name = _retriever(retriever)
        from rag.engine import open_engine
        from rag.views import PassageView, SearchView

        cfg = settings()
        with build_progress(enabled=not as_json) as progress:
            eng = open_engine(cfg, progress=progress)
        result = eng.search(question, k=k, retriever=name, section=section, documents=document)
        if as_json:
            view = SearchView(
                question=question, passages=[PassageView.of_hit(h) for h in result.hits]
            )
            sys.stdout.write(json.dumps(view.model_dump(mode="json"), ensure_ascii=False) + "\n")
        else:
            print_hits(result)


@app.command()
def documents(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the briefs in the index: id, title, author, date, format and counts."""
    with user_errors():
        from rag.engine import open_engine
        from rag.views import document_infos

        with build_progress(enabled=not as_json) as progress:
            eng = open_engine(settings(), progress=progress)
        infos = document_infos(eng.handle)
        if as_json:
            rows = [info.model_dump(mode="json") for info in infos]
            sys.stdout.write(json.dumps({"documents": rows}, ensure_ascii=False) + "\n")
        else:
            print_documents(infos)


def _load_answerer(show_progress: bool = True, documents: list[str] | None = None) -> Answerer:
    from rag.answering import Answerer
    from rag.engine import open_engine

    with build_progress(enabled=show_progress) as progress:
        engine = open_engine(settings(), progress=progress)
    engine.check_documents(documents)  # an unknown id: exit 2 before any question
    return Answerer(engine, documents=documents)


DocumentOption = Annotated[
    list[str] | None,
    typer.Option("--document", help="Answer only from this brief (`rag documents`); repeat."),
]


@app.command()
def answer(
    question: Annotated[str, typer.Argument(help="A question about the brief.")],
    k: Annotated[
        int | None, typer.Option("-k", "--top-k", min=1, max=50, help="Passages to draw on.")
    ] = None,
    document: DocumentOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Answer QUESTION from the briefs: quoted sentences with [n] citations and their
    sources (or written by RAG_LLM_BASE_URL's model). Exits 6 when nothing relevant is
    found."""
    with user_errors():
        if not has_visible_text(question):
            raise QueryError("the question is empty; ask something about the brief")
        answerer = _load_answerer(show_progress=not as_json, documents=document)
        if as_json:
            from rag.views import AnswerView

            result = answerer.answer(question, k=k)
            view = AnswerView.of(result).model_dump(mode="json")
            sys.stdout.write(json.dumps(view, ensure_ascii=False) + "\n")
        else:
            result = asyncio.run(say(answerer, question, [], k))
        if not result.found:
            raise typer.Exit(EXIT_NOT_FOUND)


_EXIT_WORDS = {"/exit", "/quit", "/bye", "exit", "quit"}
CHAT_HELP = (
    'Ask about the briefs; short follow-ups ("and when was that?") refer to the question '
    "before. /reset forgets the conversation, /exit or Ctrl-D quits."
)


def _read_question(interactive: bool) -> str | None:
    """The next line, or None at the end of input. Ctrl-C at the prompt only clears it."""
    if not interactive:
        line = sys.stdin.readline()
        return line.rstrip("\n") if line else None
    while True:
        try:
            return input("> ")
        except EOFError:
            out.print()
            return None
        except KeyboardInterrupt:
            out.print("\n[dim](use /exit or Ctrl-D to quit)[/]")


@app.command()
def chat(
    k: Annotated[
        int | None, typer.Option("-k", "--top-k", min=1, max=50, help="Passages to draw on.")
    ] = None,
    document: DocumentOption = None,
) -> None:
    """Chat about the briefs in the terminal, with follow-up questions.

    Reads questions from standard input when it is not a terminal (one per line) and
    answers each, then exits at the end of input.
    """
    with user_errors():
        interactive = sys.stdin.isatty()
        answerer = _load_answerer(show_progress=interactive, documents=document)
        if interactive:
            import readline  # noqa: F401  (line editing and history for input())

            out.print(f"[dim]{CHAT_HELP}[/]")
        history: list[str] = []
        while (line := _read_question(interactive)) is not None:
            question = line.strip()
            if not question:
                continue
            if question.casefold() in _EXIT_WORDS:
                break
            if question.casefold() == "/reset":
                history.clear()
                out.print("[dim]conversation forgotten[/]")
                continue
            if question.casefold() == "/help":
                out.print(CHAT_HELP)
                continue
            if not interactive:
                out.print(f"[bold]> {escape(question)}[/]")
            try:
                asyncio.run(say(answerer, question, history, k))
                history.append(question)
            except KeyboardInterrupt:
                out.print("\n[dim](answer interrupted)[/]")
            except (QueryError, GeneratorError, DeadlineExceeded) as exc:
                # One bad question or a hiccup of the answer server: say so, keep chatting.
                err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
            out.print()


def _tune(
    cfg: Settings,
    dataset: Path | None,
    footnotes: Path | None,
    *,
    n_folds: int,
    repeats: int,
    grid: str,
    as_json: bool,
) -> None:
    """``rag eval --tune``: cross-validated fusion settings, as Markdown tables or JSON."""
    from dataclasses import asdict

    from rich.progress import Progress

    from rag.engine import open_engine
    from rag.evaluation import tuning
    from rag.evaluation.dataset import load_footnote_questions, load_qa

    engine = open_engine(cfg)
    handle = engine.handle
    sets = [dataset] if dataset else [cfg.eval_dir / "qa.jsonl", cfg.eval_dir / "heldout.jsonl"]
    notes = footnotes or (cfg.eval_dir / "footnotes.jsonl" if dataset is None else None)
    questions = [q for p in sets for q in tuning.evidence_questions(handle, p.stem, load_qa(p), p)]
    if notes:
        questions += tuning.footnote_questions(handle, notes.stem, load_footnote_questions(notes))
    with Progress(console=err, transient=True, disable=as_json) as bar:
        task = bar.add_task("ranking every leg", total=len(questions))
        report = tuning.tune(
            engine.retriever,
            questions,
            n_folds=n_folds,
            repeats=repeats,
            grid=grid,
            progress=lambda n: bar.advance(task, n),
        )
    if as_json:
        payload = {**asdict(report), "env": report.env()}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        return
    for line in tuning.render(report):
        out.print(escape(line), soft_wrap=True)


@app.command("eval")
def evaluate(
    dataset: Annotated[
        Path | None, typer.Option(help="Q&A JSONL (default: the bundled eval/qa.jsonl).")
    ] = None,
    footnotes: Annotated[
        Path | None,
        typer.Option(help="Source-question JSONL (default: bundled, with the bundled set)."),
    ] = None,
    retriever: Annotated[
        str, typer.Option(help="Retriever for --json and the gate: hybrid, dense or bm25.")
    ] = "hybrid",
    k: Annotated[int, typer.Option("-k", min=1, max=50, help="Depth of each ranking.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    min_recall_at_5: Annotated[
        float | None,
        typer.Option("--min-recall-at-5", min=0, max=1, help="Exit 1 below this recall@5."),
    ] = None,
    answers: Annotated[
        bool,
        typer.Option(
            "--answers",
            help="Also grade the extractive answers: gold evidence quoted, footnote cited, "
            "off-topic questions declined.",
        ),
    ] = False,
    off_topic: Annotated[
        Path | None,
        typer.Option(help="Off-topic questions for --answers (default: bundled)."),
    ] = None,
    trade_off: Annotated[
        bool,
        typer.Option(
            "--trade-off",
            help="With --answers: also answer every set as the no-answer gate moves "
            "(thresholds, coverage checks off), answering and declining side by side.",
        ),
    ] = False,
    tune: Annotated[
        bool,
        typer.Option(
            "--tune",
            help="Choose the fusion weights by k-fold cross-validation (default: all bundled "
            "sets pooled) and print the out-of-fold table and the ablation of each leg.",
        ),
    ] = False,
    document: Annotated[
        list[str] | None,
        typer.Option(
            "--document", help="Search only this brief of a library (`rag documents`); repeat."
        ),
    ] = None,
    scoped: Annotated[
        bool,
        typer.Option(
            "--scoped", help="Search each question's own brief (its record's \"document\")."
        ),
    ] = False,
    folds: Annotated[int, typer.Option(min=2, max=50, help="Folds for --tune.")] = 5,
    repeats: Annotated[
        int, typer.Option(min=1, max=100, help="--tune: splits into folds, averaged.")
    ] = 20,
    grid: Annotated[
        str, typer.Option(help="--tune: 'weights' (0-2 per leg) or 'subsets' (legs on or off).")
    ] = "weights",
) -> None:
    """Score retrieval on Q&A pairs whose gold answers are evidence quotes."""
    with user_errors():
        if tune:
            if grid not in ("subsets", "weights"):
                raise QueryError(f"unknown grid {grid!r}; use weights or subsets")
            cfg = settings()
            _tune(
                cfg, dataset, footnotes, n_folds=folds, repeats=repeats, grid=grid, as_json=as_json
            )
            return
        name = _retriever(retriever) or "hybrid"
        from rich.progress import Progress

        from rag.engine import open_engine
        from rag.evaluation.dataset import load_footnote_questions, load_qa
        from rag.evaluation.runner import RETRIEVERS, run

        cfg = settings()
        qa_path = dataset or cfg.eval_dir / "qa.jsonl"
        notes_path = footnotes or (cfg.eval_dir / "footnotes.jsonl" if dataset is None else None)
        items = load_qa(qa_path)
        note_items = load_footnote_questions(notes_path) if notes_path else []
        with build_progress(enabled=not as_json) as progress:
            engine = open_engine(cfg, progress=progress)
        names = (name,) if as_json else RETRIEVERS
        with Progress(console=err, transient=True, disable=as_json) as bar:
            task = bar.add_task("evaluating", total=len(names) * (len(items) + len(note_items)))
            reports = run(
                engine.retriever,
                items,
                qa_path,
                note_items,
                retrievers=names,
                k=k,
                progress=lambda n: bar.advance(task, n),
                documents=document,
                scoped=scoped,
            )
        chosen = reports[name]
        graded = None
        moved: list[dict[str, float | str | None]] = []
        if answers:
            from rag.answering import Answerer
            from rag.evaluation.answers import grade_answers
            from rag.evaluation.dataset import OffTopicItem, QAItem, load_off_topic

            others = load_off_topic(off_topic or cfg.eval_dir / "offtopic.jsonl")
            # Measured with the bundled sets only: non-factoid and near-topic unanswerable.
            accounts: list[QAItem] = []
            nearby: list[OffTopicItem] = []
            if dataset is None and (cfg.eval_dir / "nonfactoid.jsonl").is_file():
                accounts = load_qa(cfg.eval_dir / "nonfactoid.jsonl")
            if dataset is None and (cfg.eval_dir / "unanswerable.jsonl").is_file():
                nearby = load_off_topic(cfg.eval_dir / "unanswerable.jsonl")
            asked = len(items) + len(note_items) + len(others) + len(accounts) + len(nearby)
            with Progress(console=err, transient=True, disable=as_json) as bar:
                task = bar.add_task("answering", total=asked)
                graded = grade_answers(
                    Answerer(engine),
                    items,
                    note_items,
                    others,
                    progress=lambda n: bar.advance(task, n),
                    non_factoid=accounts,
                    unanswerable=nearby,
                )
            if trade_off:
                from rag.evaluation.answers import trade_off as sweep

                moved = sweep(Answerer(engine), items, others, accounts, nearby)
        if as_json:
            payload = {
                "dataset": str(qa_path),
                "retriever": name,
                "n_questions": chosen.n_questions,
                "metrics": chosen.metrics,
                "misses": [vars(m) for m in chosen.misses],
            }
            if chosen.by_document:
                payload["by_document"] = chosen.by_document
            if graded is not None:
                answered: dict[str, object] = {
                    "metrics": graded.metrics,
                    "misses": [{"id": i, "question": q} for i, q in graded.misses],
                }
                if moved:
                    answered["trade_off"] = moved
                payload["answers"] = answered
            sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        else:
            eval_table(reports, str(qa_path))
            print_misses(chosen)
            if graded is not None:
                answer_table(graded)
            if moved:
                trade_off_table(moved)
        recall = chosen.metrics["recall@5"] or 0.0
        if min_recall_at_5 is not None and recall < min_recall_at_5:
            err.print(f"recall@5 {recall:.3f} is below --min-recall-at-5 {min_recall_at_5:.3f}")
            raise typer.Exit(1)


@app.command()
def bench(
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Also write the JSON report to this file.")
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="A smoke run: 16 questions, 64 crowd requests.")
    ] = False,
    peer: Annotated[
        str | None,
        typer.Option(
            "--peer",
            help="Also measure this library's retriever in process, same model, passages "
            "and questions: llamaindex (needs pip install -e '.[peer]').",
        ),
    ] = None,
    runs: Annotated[
        int,
        typer.Option(min=1, max=20, help="Measure this many times; targets judged on the medians."),
    ] = 1,
    library: Annotated[
        int | None,
        typer.Option(
            "--library",
            min=27,
            max=1_000_000,
            metavar="PASSAGES",
            help="Library mode instead: generate a deterministic library of about this many "
            "passages (same-topic briefs plus the bundled one), build it with the real model, "
            "and judge the library targets: build rate vs the bare float32 batch-32 encode of "
            "the same passages, hybrid search on it vs on the bundled brief alone (same "
            "questions, in turn), adding one brief (--add) vs the full build, and the peak "
            "RSS of a rag serve over it.",
        ),
    ] = None,
    library_index: Annotated[
        Path | None,
        typer.Option(
            "--library-index",
            metavar="DIR",
            help="Library mode on a library already built at DIR (one too large to build "
            "in a bench run): judge its hybrid search vs the bundled brief alone and the "
            "peak RSS of a rag serve over it; its build and --add are not measured.",
        ),
    ] = None,
) -> None:
    """Measure what a question costs: the bare encoder, each retriever and leg, a real
    `rag serve` on loopback (start-up, one client, 32 clients) and the targets; or, with
    --library, what a library of a given size costs to build, grow, search and serve."""
    with user_errors():
        from rag.bench.peer import require
        from rag.bench.report import print_library_report, print_report
        from rag.bench.run import repeat

        if peer is not None and (library is not None or library_index is not None):
            raise QueryError("--peer measures the serving bench; leave it out with --library")
        if library is not None and library_index is not None:
            raise QueryError(
                "--library builds a new library and --library-index measures a built one; "
                "give one of them"
            )
        if peer is not None:
            require(peer)  # before minutes of measuring, not after
        cfg = settings()

        def say(step: str) -> None:
            err.print(f"[dim]{step}…[/]")

        from rag.bench import library as library_bench

        print_result = print_library_report
        if library_index is not None:
            from rag.store.manifest import read_manifest

            # A missing or stale index: one line now, not after minutes of measuring.
            read_manifest(library_index.resolve(), shown=library_index)
            result = library_bench.repeat_built(cfg, library_index, runs, say, quick=quick)
        elif library is not None:
            result = library_bench.repeat(cfg, library, runs, say, quick=quick)
        else:
            result, print_result = repeat(cfg, runs, say=say, quick=quick, peer=peer), print_report
        _bench_output(result, as_json, out_file)
        if not as_json:
            print_result(result, out)


def _bench_output(result: dict[str, Any], as_json: bool, out_file: Path | None) -> None:
    text = json.dumps(result, ensure_ascii=False, indent=1)
    if out_file is not None:
        out_file.write_text(text + "\n", encoding="utf-8")
    if as_json:
        sys.stdout.write(text + "\n")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind.", envvar="RAG_HOST")] = None,
    port: Annotated[
        int | None, typer.Option(min=0, max=65535, help="Port.", envvar="RAG_PORT")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, max=64, help="Worker processes.", envvar="RAG_WORKERS")
    ] = None,
) -> None:
    """Serve the HTTP API, the OpenAI-compatible endpoints and the chat page."""
    with user_errors():
        from api.ports import check_listen
        from api.server import serve as run_server
        from rag.engine import for_serving, open_engine

        cfg = settings(host=host, port=port, workers=workers)
        check_listen(cfg.host, cfg.port)  # a busy port: one line, before any loading
        # Build or verify the index before binding, so errors surface as one clean line.
        with build_progress() as progress:
            engine = open_engine(cfg, progress=progress, serving=True)
        shown = f"[{cfg.host}]" if ":" in cfg.host else cfg.host
        out.print(f"brief-rag serving on http://{shown}:{cfg.port} (Ctrl+C to stop)")
        if cfg.workers == 1:
            from api.main import create_app

            # One process: hand over the engine already loaded, instead of loading twice.
            target: object = create_app(cfg, engine=for_serving(engine))
        else:
            target = "api.main:create_app"  # each worker process loads its own copy
        run_server(cfg, target)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
