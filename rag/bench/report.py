"""The ``rag bench`` table."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def _ms(row: dict[str, float]) -> list[str]:
    return [f"{row['p50_ms']:.1f}", f"{row['p95_ms']:.1f}", f"{row['p99_ms']:.1f}"]


def print_report(result: dict[str, Any], out: Console) -> None:
    build = result["build"]
    out.print(
        f"[bold]rag bench[/]  encoder {result['encoder']}, {result['questions']} questions, "
        f"{result['machine']['cpus']} cpus; index of {build['passages']} passages built in "
        f"{build['seconds']:.1f}s ({build['index_bytes'] / 1e6:.1f} MB)"
    )
    table = Table(title="latency (ms)", title_justify="left")
    for column in ("what", "p50", "p95", "p99", "note"):
        table.add_column(column, justify="left" if column in ("what", "note") else "right")
    for backend, floor in result["floor"].items():
        note = (
            f"batch of 16: {floor['batch16_qps']:.0f} questions/s; best of "
            f"{', '.join(floor['by_threads'])} threads (single: {floor['single_threads']}, "
            f"batch: {floor['batch16_threads']})"
        )
        table.add_row(f"bare encode, {backend}", *_ms(floor), note)
    for name, row in result["in_process"].items():
        table.add_row(f"in process, {name}", *_ms(row), "search(), encoding included")
    for name, row in result["legs"].items():
        table.add_row(f"  leg: {name}", *_ms(row), "")
    if "peer" in result:
        peer = result["peer"]
        note = f"retrieve(), top {peer['top_k']}, torch {peer['threads']} threads"
        table.add_row("in process, LlamaIndex peer", *_ms(peer["latency"]), note)
        table.add_row("in process, hybrid", *_ms(peer["hybrid_latency"]), "in turn with the peer")
    labels = {
        "search": "HTTP c=1 POST /search",
        "search_server": "  of which the search itself",
        "search_between_chats": "HTTP c=1 POST /search between chats",
        "chat": "HTTP c=1 chat answer",
        "stream_first": "HTTP c=1 chat, first token",
        "stream_end": "HTTP c=1 chat, streamed to the end",
    }
    notes = {
        "search": "back to back, as the floor is timed",
        "search_server": "took_ms in the server's answer: encode, legs, fusion",
        "search_between_chats": "each after a chat answer and a streamed one",
    }
    for name, row in result["http_c1"].items():
        table.add_row(labels[name], *_ms(row), notes.get(name, ""))
    c32 = result["http_c32"]
    table.add_row(
        "HTTP c=32 POST /search",
        *_ms(c32),
        f"{c32['requests_per_s']:.0f} requests/s, {c32['errors']} errors of {c32['n']}",
    )
    out.print(table)
    out.print(
        f"server ready {result['ready_s']:.2f}s after start; peak RSS "
        f"{result['server_peak_rss_mb']:.0f} MB"
    )
    runs = len(result.get("runs", ())) or 1
    title = "targets" if runs == 1 else f"targets: median of {runs} runs (tables above: the last)"
    targets = Table(title=title, title_justify="left")
    for column in ("target", "bound", "measured", *(["range"] if runs > 1 else []), "met"):
        targets.add_column(column)
    for row in result["targets"]:
        mark = "[green]yes[/]" if row["met"] else "[red]no[/]"
        spread = [f"{row['range'][0]:g}–{row['range'][1]:g}"] if runs > 1 else []
        targets.add_row(row["target"], row["bound"], f"{row['value']:g}", *spread, mark)
    out.print(targets)
    if "peer" in result:
        _print_peer(result, out)


def _print_peer(result: dict[str, Any], out: Console) -> None:
    """The peer's versions, cost and quality, and its target in words."""
    peer = result["peer"]
    versions = ", ".join(f"{name} {version}" for name, version in peer["versions"].items())
    out.print(
        f"LlamaIndex peer ({versions}): model loaded in {peer['setup_s']:.1f}s, "
        f"{result['build']['passages']} passages embedded in {peer['build_s']:.1f}s"
    )
    quality = peer["quality"]
    if quality:
        ours, theirs = quality["ours_hybrid"], quality["peer"]
        out.print(
            f"on {quality['questions']} eval questions, recall@1 / recall@5: hybrid "
            f"{ours['at_1']:.3f} / {ours['at_5']:.3f}, LlamaIndex peer "
            f"{theirs['at_1']:.3f} / {theirs['at_5']:.3f}"
        )
    row = next(t for t in result["targets"] if t["target"].startswith("llamaindex_p50"))
    verdict = "[green]met[/]" if row["met"] else "[red]not met[/]"
    out.print(
        f"in-process hybrid p50 ≥ 2.5× faster than the LlamaIndex peer: "
        f"{row['value']:.2f}× ({verdict})"
    )


def print_library_report(result: dict[str, Any], out: Console) -> None:
    """``rag bench --library``: what was built and measured, then each target's verdict."""
    built = "build" not in result  # rag bench --library-index: judged as built
    command = (
        f"--library-index {result['index']}" if built else f"--library {result['asked_passages']}"
    )
    encoders = "" if built else f" (briefs: {result['index_encoder']})"
    out.print(
        f"[bold]rag bench {command}[/]  {result['passages']} passages in "
        f"{result['documents']} briefs; encoder {result['encoder']}{encoders}, "
        f"{result['questions']} questions, {result['machine']['cpus']} cpus"
    )
    if built:
        out.print("built before the bench: its build rate and --add are not measured")
    else:
        build, add = result["build"], result["add"]
        embedded = ", ".join(f"{n} {kind}" for kind, n in build["embedded"].items())
        out.print(
            f"full build {build['seconds']:.1f}s = {build['passages_per_s']:.1f} passages/s "
            f"(embedded: {embedded}); bare encode of the same passages, batches of 32: "
            f"{build['bare_passages_per_s']:.1f} passages/s (before and after the build: "
            f"{', '.join(f'{r:.1f}' for r in build['bare_runs_passages_per_s'])})"
        )
        out.print(
            f"adding one brief ({add['passages']} passages, {add['embedded_passages']} "
            f"embedded): {add['seconds']:.2f}s"
        )
    table = Table(title="hybrid search() in process, in turn (ms)", title_justify="left")
    for column in ("on", "p50", "p95", "p99"):
        table.add_column(column, justify="left" if column == "on" else "right")
    table.add_row(f"the library ({result['passages']} passages)", *_ms(result["search_library"]))
    table.add_row("the bundled brief alone", *_ms(result["search_brief"]))
    if "http_c1_search" in result:
        table.add_row("HTTP c=1 POST /search, the library", *_ms(result["http_c1_search"]))
    out.print(table)
    out.print(f"peak RSS {result['rss_mb']:.0f} MB ({result['rss_of']})")
    runs = len(result["runs"])
    title = "library targets" + (f": median of {runs} runs (above: the last)" if runs > 1 else "")
    targets = Table(title=title, title_justify="left")
    for column in ("target", "bound", "measured", "range", "verdict"):
        targets.add_column(column)
    for row in result["targets"]:
        verdict = "[green]met[/]" if row["met"] else "[red]not met[/]"
        spread = f"{row['range'][0]:g}–{row['range'][1]:g}"
        targets.add_row(row["target"], row["bound"], f"{row['value']:g}", spread, verdict)
    out.print(targets)
