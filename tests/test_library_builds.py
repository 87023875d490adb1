"""Library changes (rag/library/changes.py, builds.py), with the fake encoder: each change
is a complete new build that keeps every other brief's id, a failed one leaves the index
and the upload folder as they were, builds run one at a time, and the queue is bounded."""

from __future__ import annotations

import io
import itertools
import threading
import time
import zipfile
from pathlib import Path

import pytest

from rag.config import Settings
from rag.engine import build
from rag.errors import BuildsBusy, CorpusFormatError, DocumentNotFound, QueryError
from rag.library import AddBrief, Builder, BuildQueue, Outcome, RemoveBrief, take_upload
from rag.library.uploads import MARKER
from rag.parsing.readers import ReadOptions
from rag.store.manifest import read_manifest
from tests.conftest import FakeEncoder

TRADE = "# Trade Brief\n\n## Exports\n\nTextiles led the exports, and trade grew fast.\n"
WATER = "# Water Brief\n\n## Rivers\n\nThe Indus Waters Treaty shares the rivers.\n"

_BUDGET = ReadOptions.from_settings(Settings()).byte_budget


@pytest.fixture
def library(tmp_path: Path) -> tuple[Settings, Builder, Path]:
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    (shelf / "trade.md").write_text(TRADE)
    (shelf / "water.md").write_text(WATER)
    settings = Settings(index_dir=tmp_path / "index", model="/nonexistent")
    build(settings, [shelf], encoder=FakeEncoder())
    return settings, Builder(settings, FakeEncoder()), shelf


def upload(data: str | bytes, name: str = "memo.md", doc_id: str | None = None) -> AddBrief:
    raw = data.encode() if isinstance(data, str) else data
    return AddBrief(take_upload(raw, name, doc_id, max_bytes=10**6, budget=_BUDGET))


def ids(settings: Settings) -> dict[str, str]:
    manifest = read_manifest(settings.index_dir.resolve())
    return {s.id: s.path for s in manifest.documents}


def uploaded(settings: Settings) -> list[str]:
    root = settings.uploads()
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name != MARKER
    )


def test_add_replace_and_remove_an_upload(library: tuple[Settings, Builder, Path]) -> None:
    settings, builder, _ = library
    memo = "# Dams Memo\n\n## Storage\n\nNew dams store the monsoon's water.\n"
    outcome = builder.apply(upload(memo, "../../dams.md"))
    assert outcome == Outcome(
        added=("dams",), documents=3, passages=outcome.passages, notes=outcome.notes
    )
    assert any(n.startswith('dams.md: the first heading "Dams Memo"') for n in outcome.notes)
    (path,) = uploaded(settings)
    assert path.endswith("/dams.md") and ids(settings)["dams"].endswith(path)

    again = builder.apply(upload(memo, "dams.md"))
    assert not again.changed and uploaded(settings) == [path]
    # The bytes of a user's brief, sent under another name: the server gives the upload
    # that brief's id and asks for no change unless the bytes differ.
    copy = upload(WATER, "copy of water.md", doc_id="water").upload
    assert not builder.apply(AddBrief(copy, unless_held=True)).changed
    assert ids(settings)["water"].endswith("shelf/water.md")

    outcome = builder.apply(upload(memo.replace("monsoon", "spring"), "dams.md"))
    assert outcome.replaced == ("dams",) and outcome.added == ()
    assert len(uploaded(settings)) == 1 and uploaded(settings) != [path]  # the old one swept

    outcome = builder.apply(RemoveBrief("dams"))
    assert outcome.removed == ("dams",) and sorted(ids(settings)) == ["trade", "water"]
    assert uploaded(settings) == []


def test_an_upload_under_a_users_briefs_id_replaces_it_and_leaves_the_file(
    library: tuple[Settings, Builder, Path],
) -> None:
    settings, builder, shelf = library
    outcome = builder.apply(upload("# New Water\n\nThe treaty was signed in 1960.\n", "water.md"))
    assert outcome.replaced == ("water",)
    assert ids(settings)["water"].startswith(str(settings.uploads().resolve()))
    assert ids(settings)["trade"] == str((shelf / "trade.md").resolve())  # kept, same id
    builder.apply(RemoveBrief("trade"))
    assert (shelf / "trade.md").read_text() == TRADE  # a user's file is never deleted


def corrupt_docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document><not closed")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "bad",
    [
        upload(corrupt_docx(), "broken.docx"),
        upload("[^1]: A footnote, and nothing else.\n", "e.md"),
    ],
)
def test_a_failed_build_leaves_the_index_and_removes_the_upload(
    library: tuple[Settings, Builder, Path], bad: AddBrief
) -> None:
    settings, builder, _ = library
    served = settings.index_dir.resolve()
    with pytest.raises(CorpusFormatError) as caught:
        builder.apply(bad)
    message = str(caught.value)
    assert bad.upload.name in message and str(settings.uploads()) not in message
    assert "\n" not in message
    assert settings.index_dir.resolve() == served and sorted(ids(settings)) == ["trade", "water"]
    assert uploaded(settings) == []


def test_removals_that_cannot_be_built_are_refused(
    library: tuple[Settings, Builder, Path],
) -> None:
    settings, builder, _ = library
    with pytest.raises(DocumentNotFound, match="trade, water"):
        builder.apply(RemoveBrief("nope"))
    builder.apply(RemoveBrief("trade"))
    with pytest.raises(QueryError, match="no brief"):
        builder.apply(RemoveBrief("water"))
    assert sorted(ids(settings)) == ["water"]


def finished(queue: BuildQueue, build_id: str):  # type: ignore[no-untyped-def]
    record = queue.wait(build_id, timeout=10)
    assert record is not None and record.finished_at is not None
    return record


def test_builds_run_one_at_a_time_in_order() -> None:
    running, most = 0, 0
    lock = threading.Lock()

    def run(change: object) -> Outcome:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return Outcome()

    queue = BuildQueue(run, limit=10)
    records = [queue.submit(RemoveBrief(f"b{i}")) for i in range(4)]
    assert all(r.status == "queued" for r in records)
    done = [finished(queue, r.id) for r in records]
    assert most == 1 and all(r.status == "succeeded" for r in done)
    for first, then in itertools.pairwise(done):
        assert then.started_at is not None and first.finished_at is not None
        assert then.started_at >= first.finished_at


def test_the_queue_is_bounded() -> None:
    release = threading.Event()
    queue = BuildQueue(lambda change: release.wait(10) and Outcome(), limit=1)  # type: ignore[arg-type, return-value]
    first = queue.submit(RemoveBrief("a"))
    while queue.get(first.id).status != "running":  # type: ignore[union-attr]
        time.sleep(0.01)
    queue.submit(RemoveBrief("b"))  # waits
    with pytest.raises(BuildsBusy, match="RAG_MAX_QUEUED_BUILDS"):
        queue.submit(RemoveBrief("c"))
    release.set()
    assert finished(queue, first.id).status == "succeeded"


def test_a_failure_is_one_line_and_the_worker_goes_on() -> None:
    def run(change: RemoveBrief) -> Outcome:  # type: ignore[override]
        if change.document == "bad":
            raise CorpusFormatError("x.md: no text\nfound")
        if change.document == "bug":
            raise ValueError("oops")
        return Outcome()

    queue = BuildQueue(run, limit=10)  # type: ignore[arg-type]
    bad, bug, good = (queue.submit(RemoveBrief(d)) for d in ("bad", "bug", "good"))
    assert finished(queue, bad.id).error == "x.md: no text found"
    assert "unexpectedly (ValueError: oops)" in (finished(queue, bug.id).error or "")
    assert finished(queue, good.id).status == "succeeded"


def test_the_history_is_bounded() -> None:
    queue = BuildQueue(lambda change: Outcome(), limit=10, history=2)
    records = [queue.submit(RemoveBrief(f"b{i}")) for i in range(4)]
    finished(queue, records[-1].id)
    assert [queue.get(r.id) is None for r in records] == [True, True, False, False]
