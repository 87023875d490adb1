"""The ``rag`` command: a thin shell over the library.

Heavy modules (torch, FAISS, the model) are imported inside the commands that need them,
so ``rag --help`` stays instant. Every :class:`~rag.errors.RagError` becomes one line on
stderr and a non-zero exit.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from rag.config import Settings
from rag.errors import RagError

if TYPE_CHECKING:
    from rag.index import BuildProgress

app = typer.Typer(
    name="rag",
    help="Question answering over policy briefs, with footnotes as first-class data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


@contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except RagError as exc:
        err.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err.print("interrupted; nothing was published")
        raise typer.Exit(130) from None


def settings(**overrides: object) -> Settings:
    try:
        base = Settings()
    except Exception as exc:  # a bad RAG_* variable: say which, not a traceback
        raise RagError(f"invalid configuration in RAG_* environment variables: {exc}") from None
    values = {k: v for k, v in overrides.items() if v is not None}
    return base.model_copy(update=values) if values else base


@contextmanager
def build_progress(enabled: bool = True) -> Iterator[BuildProgress]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from rag.index import BuildProgress

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not enabled,
    ) as bar:
        task = bar.add_task("embedding passages", total=None)
        yield BuildProgress(
            start=lambda total: bar.update(task, total=total),
            advance=lambda n: bar.advance(task, n),
        )


@app.command()
def index(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Brief files or folders (default: bundled brief).")
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Index directory.", envvar="RAG_INDEX_DIR")
    ] = None,
) -> None:
    """Parse, chunk, embed and publish an index (atomically: the old one stays until done)."""
    with user_errors():
        from rag import engine

        cfg = settings(index_dir=out_dir)
        with build_progress() as progress:
            manifest = engine.build(cfg, list(paths) if paths else None, progress=progress)
        assert manifest is not None  # always built when not only_if_missing
        for warning in manifest.warnings:
            err.print(f"[yellow]warning:[/] {warning}", soft_wrap=True)
        c = manifest.counts
        pages = f" ({c.pages} PDF pages)" if c.pages else ""
        out.print(
            f"indexed {c.documents} document(s){pages}: {c.sections} sections, "
            f"{c.footnotes} footnotes, {c.passages} passages, {c.tokens} tokens; "
            f"parsed in {manifest.parse_seconds:.2f}s, built in {manifest.build_seconds:.1f}s "
            f"→ {cfg.index_dir}",
            soft_wrap=True,
        )


def page_label(pages: tuple[int, ...]) -> str:
    """``p. 3``, ``pp. 3–4``; empty for briefs without pages (text, Markdown)."""
    if not pages:
        return ""
    return f"p. {pages[0]}" if len(pages) == 1 else f"pp. {pages[0]}–{pages[-1]}"


def _print_hits(result) -> None:
    from rich.markup import escape
    from rich.padding import Padding

    if not result.hits:
        out.print("no passages matched")
    for hit in result.hits:
        p = hit.passage
        path = " › ".join(p.section.path)
        where = f"  {page_label(p.pages)}" if p.pages else ""
        out.print(
            f"[bold]{hit.rank}.[/] [cyan]{escape(path)}[/]{where}  [dim]score {hit.score:.4f}[/]"
        )
        out.print(Padding(escape(p.text), (0, 0, 0, 3)))
        for note in p.footnotes:
            url = f"  [blue]{escape(note.url)}[/]" if note.url else ""
            out.print(
                Padding(f"[dim][{note.number}][/] {escape(note.citation)}{url}", (0, 0, 0, 3))
            )
        out.print()


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A question about the brief.")],
    k: Annotated[int, typer.Option("-k", "--top-k", min=1, max=50, help="Passages to return.")] = 5,
    retriever: Annotated[
        str | None, typer.Option(help="hybrid, dense or bm25 (default: RAG_RETRIEVER).")
    ] = None,
    section: Annotated[str | None, typer.Option(help="Only passages of this section.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Return the passages that best answer QUESTION, with section and footnotes."""
    with user_errors():
        if not question.strip():
            raise RagError("the question is empty; ask something about the brief")
        if retriever not in (None, "hybrid", "dense", "bm25"):
            raise RagError(f"unknown retriever {retriever!r}; use hybrid, dense or bm25")
        from rag.engine import open_engine
        from rag.views import PassageView, SearchView

        cfg = settings()
        with build_progress(enabled=not as_json) as progress:
            eng = open_engine(cfg, progress=progress)
        result = eng.search(question, k=k, retriever=retriever, section=section)  # type: ignore[arg-type]
        if as_json:
            view = SearchView(
                question=question, passages=[PassageView.of_hit(h) for h in result.hits]
            )
            sys.stdout.write(json.dumps(view.model_dump(mode="json"), ensure_ascii=False) + "\n")
        else:
            _print_hits(result)


def _eval_table(reports, dataset: str) -> None:
    from rich.table import Table

    from rag.evaluation.runner import METRICS

    table = Table(title=f"retrieval quality on {dataset}", title_justify="left")
    table.add_column("metric")
    for name in reports:
        table.add_column(name, justify="right")
    for metric in METRICS:
        values = [reports[name].metrics[metric] for name in reports]
        numbers = [v for v in values if v is not None]
        best = max(numbers) if numbers and metric != "mean_passage_tokens" else None
        cells = [
            "—" if v is None else (f"[bold]{v:.3f}[/]" if v == best else f"{v:.3f}") for v in values
        ]
        table.add_row(metric, *cells)
    out.print(table)


def _print_misses(report) -> None:
    from rich.markup import escape

    if not report.misses:
        out.print(f"{report.retriever}: no misses at 5")
        return
    out.print(f"{report.retriever}: {len(report.misses)} miss(es) at 5")
    for miss in report.misses:
        out.print(f"  {miss.id}: {escape(miss.question)}  [dim]got {', '.join(miss.got[:3])}[/]")


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
) -> None:
    """Score retrieval on Q&A pairs whose gold answers are evidence quotes."""
    with user_errors():
        if retriever not in ("hybrid", "dense", "bm25"):
            raise RagError(f"unknown retriever {retriever!r}; use hybrid, dense or bm25")
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
        names = (retriever,) if as_json else RETRIEVERS
        with Progress(console=err, transient=True, disable=as_json) as bar:
            task = bar.add_task("evaluating", total=len(names) * (len(items) + len(note_items)))
            reports = run(
                engine.retriever,
                items,
                qa_path,
                note_items,
                retrievers=names,  # type: ignore[arg-type]
                k=k,
                progress=lambda n: bar.advance(task, n),
            )
        chosen = reports[retriever]  # type: ignore[index]
        if as_json:
            payload = {
                "dataset": str(qa_path),
                "retriever": retriever,
                "n_questions": chosen.n_questions,
                "metrics": chosen.metrics,
                "misses": [vars(m) for m in chosen.misses],
            }
            sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        else:
            _eval_table(reports, str(qa_path))
            _print_misses(chosen)
        recall = chosen.metrics["recall@5"] or 0.0
        if min_recall_at_5 is not None and recall < min_recall_at_5:
            err.print(f"recall@5 {recall:.3f} is below --min-recall-at-5 {min_recall_at_5:.3f}")
            raise typer.Exit(1)


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
        import uvicorn

        from rag.engine import open_engine

        cfg = settings(host=host, port=port, workers=workers)
        # Build or verify the index before binding, so errors surface as one clean line.
        with build_progress() as progress:
            engine = open_engine(cfg, progress=progress)
        shown = f"[{cfg.host}]" if ":" in cfg.host else cfg.host
        out.print(f"brief-rag serving on http://{shown}:{cfg.port} (Ctrl+C to stop)")
        if cfg.workers == 1:
            from api.main import create_app

            # One process: hand over the engine already loaded, instead of loading twice.
            target: object = create_app(cfg, engine=engine)
        else:
            target = "api.main:create_app"  # each worker process loads its own copy
        uvicorn.run(
            target,  # type: ignore[arg-type]
            factory=cfg.workers > 1,
            host=cfg.host,
            port=cfg.port,
            workers=cfg.workers,
            log_level="warning",
        )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
