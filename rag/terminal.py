"""What the ``rag`` command shows on a terminal: progress, passages, answers with their
sources, and evaluation tables. Kept apart from :mod:`rag.cli`, which only parses arguments
and maps errors to exit codes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

from rag.text import page_label, unescape_markdown

if TYPE_CHECKING:
    from rag.answering import Answer, Answerer
    from rag.config import RetrieverName
    from rag.engine import SearchResult
    from rag.evaluation.answers import AnswerReport
    from rag.evaluation.runner import Report
    from rag.store.index import BuildProgress
    from rag.views import DocumentInfo

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


@contextmanager
def build_progress(enabled: bool = True) -> Iterator[BuildProgress]:
    """A progress bar on stderr that appears only once a build starts embedding: a query on
    a built index shows nothing and writes nothing (rich writes a line even for a bar it
    never drew)."""
    from rag.store.index import BuildProgress

    bars: list[Any] = []

    def start(total: int) -> None:
        if not enabled or not err.is_terminal:  # in a pipe or a log: no bar, no stray line
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        bar = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        bar.start()
        bars.append((bar, bar.add_task("embedding passages", total=total)))

    def advance(n: int) -> None:
        if bars:
            bar, task = bars[-1]
            bar.advance(task, n)

    def say(line: str) -> None:
        if enabled:
            err.print(f"[yellow]{escape(line)}[/]", soft_wrap=True)  # one line, unbroken

    try:
        yield BuildProgress(start=start, advance=advance, say=say)
    finally:
        for bar, _ in bars:
            bar.stop()


def _indented(markup: str, by: int = 3) -> None:
    """Print ``markup`` indented by ``by`` spaces: on a terminal wrapped to its width, in a
    pipe as one line each (rich's Padding filled every line with spaces to the width)."""
    if out.is_terminal:
        from rich.padding import Padding

        out.print(Padding(markup, (0, 0, 0, by), expand=False))
    else:
        out.print(" " * by + markup, soft_wrap=True)


def print_hits(result: SearchResult) -> None:
    if not result.hits:
        out.print("no passages matched")
    for hit in result.hits:
        p = hit.passage
        path = " › ".join(p.section.path)
        where = f"  {page_label(p.pages)}" if p.pages else ""
        out.print(
            f"[bold]{hit.rank}.[/] [cyan]{escape(path)}[/]{where}  [dim]score {hit.score:.4f}[/]",
            soft_wrap=not out.is_terminal,
        )
        _indented(escape(p.text))
        for note in p.footnotes:
            url = f"  [blue]{escape(note.url)}[/]" if note.url else ""
            _indented(f"[dim][{note.number}][/] {escape(note.citation)}{url}")
        out.print()


def print_documents(infos: Sequence[DocumentInfo]) -> None:
    """One block per brief: its id (what --document takes), title, byline, subtitle, the
    abstract's opening and counts."""
    for info in infos:
        byline = ", ".join(x for x in (info.author, info.date) if x)
        pages = f", {info.pages} pages" if info.pages else ""
        out.print(f"[bold]{escape(info.id)}[/]", soft_wrap=True)
        _indented(escape(info.title) + (f" — {escape(byline)}" if byline else ""))
        if info.subtitle:
            _indented(f"[italic]{escape(info.subtitle)}[/]")
        if info.abstract:
            _indented(f"[dim]Abstract:[/] {escape(info.abstract)}")
        _indented(
            f"[dim]{info.format}{pages}, {info.sections} sections, {info.passages} passages, "
            f"{info.footnotes} footnotes; {escape(info.source)}[/]"
        )


def print_sources(answer: Answer) -> None:
    """The cited passages as a terminal reader wants them: section path and page, then each
    footnote's citation and URL (the brief's title too when the index holds several briefs,
    however many the answer cites)."""
    if not answer.citations:
        return
    several = answer.library or len({c.passage.document.id for c in answer.citations}) > 1
    out.print()
    out.print("[bold]Sources[/]")
    for citation in answer.citations:
        passage = citation.passage
        where = f"  [dim]{page_label(passage.pages)}[/]" if passage.pages else ""
        out.print(f"[bold][{citation.number}][/] [cyan]{escape(citation.label)}[/]{where}")
        if several:
            out.print(f"    [dim]{escape(passage.document.title)}[/]", soft_wrap=True)
        for note in citation.footnotes:
            out.print(f"    [dim]{note.number}.[/] {escape(note.citation)}", soft_wrap=True)
            if note.url:
                out.print(f"       [blue]{escape(note.url)}[/]", soft_wrap=True)


def print_body(answer: Answer) -> None:
    # Rendered Markdown on a terminal; plain text (escapes undone, no padding) in a pipe.
    if out.is_terminal:
        from rich.markdown import Markdown

        out.print(Markdown(answer.body_text))
    else:
        out.print(escape(unescape_markdown(answer.body_text)), soft_wrap=True)


async def say(answerer: Answerer, question: str, history: list[str], k: int | None) -> Answer:
    """Answer one question on the terminal: a generated answer streams as it is written,
    a quoted one is rendered as Markdown; then the sources."""
    from rag.answering import Done, Text

    findings = await asyncio.to_thread(answerer.find, question, history, k)
    streamed = answerer.generative and findings.found
    async for event in answerer.stream(findings):
        if isinstance(event, Text) and streamed and not event.footer:
            out.file.write(event.text)
            out.file.flush()
        elif isinstance(event, Done):
            if streamed:
                out.print()
            else:
                print_body(event.answer)
            print_sources(event.answer)
            return event.answer
    raise AssertionError("an answer stream always ends with Done")  # pragma: no cover


def eval_table(reports: Mapping[RetrieverName, Report], dataset: str) -> None:
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


def answer_table(report: AnswerReport) -> None:
    from rich.table import Table

    table = Table(title="extractive answers", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for metric, value in report.metrics.items():
        table.add_row(metric, "—" if value is None else f"{value:.3f}")
    out.print(table)
    for qid, question in report.misses:
        out.print(f"  {qid}: {escape(question)}")


def trade_off_table(rows: Sequence[Mapping[str, float | str | None]]) -> None:
    """``rag eval --answers --trade-off``: each gate setting's answering and declining."""
    from rich.table import Table

    table = Table(title="the gate moved", title_justify="left")
    short = {"quotes_evidence": "quotes", "answers_non_factoid": "non-factoid"}
    short |= {
        "declines_unanswerable": "near-topic declined",
        "declines_off_topic": "off-topic declined",
    }
    for column in rows[0]:
        table.add_column(
            short.get(column, column), justify="left" if column == "setting" else "right"
        )
    for row in rows:
        table.add_row(
            *(v if isinstance(v, str) else "—" if v is None else f"{v:.3f}" for v in row.values())
        )
    out.print(table)


def print_misses(report: Report) -> None:
    if not report.misses:
        out.print(f"{report.retriever}: no misses at 5")
        return
    out.print(f"{report.retriever}: {len(report.misses)} miss(es) at 5")
    for miss in report.misses:
        out.print(f"  {miss.id}: {escape(miss.question)}  [dim]got {', '.join(miss.got[:3])}[/]")
