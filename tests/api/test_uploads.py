"""The upload routes' refusals, in process (no build runs): no key configured, a form
without a brief or with a bad id, a full build queue. Each is one clear line and leaves
nothing on disk."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from rag.config import Settings
from rag.library import BuildQueue, Outcome, RemoveBrief
from rag.store.manifest import Manifest, SourceInfo
from tests.api.helpers import API_KEY, HTTP_DEFAULTS

AUTH = {"Authorization": f"Bearer {API_KEY}"}
MEMO = b"# Memo\n\nThe Indus Waters Treaty shares six rivers.\n"


def settings(tmp_path: Path, **changes: object) -> Settings:
    return Settings(**{**HTTP_DEFAULTS, "index_dir": tmp_path / "index", **changes})  # type: ignore[arg-type]


def test_a_server_without_a_key_refuses_changes_outright(tmp_path: Path) -> None:
    client = TestClient(create_app(settings(tmp_path)))  # refused before the index is needed
    refused = [
        client.post("/documents", files={"file": ("w.md", MEMO)}),
        client.delete("/documents/anything"),
        client.get("/builds/anything"),
    ]
    assert [r.status_code for r in refused] == [403] * 3
    assert all("set RAG_API_KEY" in r.json()["detail"] for r in refused)
    assert list(tmp_path.iterdir()) == []  # no upload folder, no index, nothing


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(settings(tmp_path, api_key=API_KEY))
    # A stand-in serving one brief: these requests are refused before any build.
    only = SourceInfo(id="only", title="Only", source="o.md", path="/o.md", sha256="0", format="")
    manifest = Manifest.model_construct(documents=[only])
    app.state.engine = SimpleNamespace(handle=SimpleNamespace(manifest=manifest))
    yield TestClient(app, headers=AUTH)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("form", "files", "field"),
    [
        ({}, {}, "file"),
        ({"file": "not a file"}, {}, "file"),
        ({"id": "../etc"}, {"file": ("w.md", MEMO)}, "id"),
        ({"id": "Upper"}, {"file": ("w.md", MEMO)}, "id"),
    ],
)
def test_a_form_without_a_brief_or_with_a_bad_id_is_a_422(
    keyed: TestClient, form: dict[str, str], files: dict[str, object], field: str
) -> None:
    response = keyed.post("/documents", data=form, files=files or None)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


def test_a_removal_names_a_served_brief_and_leaves_one(keyed: TestClient) -> None:
    unknown = keyed.delete("/documents/nope")
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "no indexed brief has the id 'nope'; the ids are: only"
    last = keyed.delete("/documents/only")
    assert last.status_code == 422 and "only brief" in last.json()["detail"]


@pytest.mark.parametrize(
    "send",
    [
        {"content": b"junk", "headers": {"content-type": "multipart/form-data; boundary=zz"}},
        {"content": b"junk", "headers": {"content-type": "multipart/form-data"}},
        {"files": [("file", ("a.md", MEMO)), ("file", ("b.md", MEMO))]},
    ],
)
def test_a_body_that_is_not_a_form_of_one_file_is_a_400(
    keyed: TestClient, send: dict[str, object]
) -> None:
    response = keyed.post("/documents", **send)  # type: ignore[arg-type]
    assert response.status_code == 400
    assert "send the brief as the file field 'file'" in response.json()["detail"]


def test_a_full_build_queue_is_a_429_with_retry_after(keyed: TestClient) -> None:
    release = threading.Event()
    builds = BuildQueue(lambda change: release.wait(10) and Outcome(), limit=1)  # type: ignore[arg-type, return-value]
    keyed.app.state.library.builds = builds  # type: ignore[attr-defined]
    running = builds.submit(RemoveBrief("a"))
    while builds.get(running.id).status != "running":  # type: ignore[union-attr]
        time.sleep(0.01)
    builds.submit(RemoveBrief("b"))
    try:
        response = keyed.post("/documents", files={"file": ("w.md", MEMO)})
        assert response.status_code == 429 and response.headers["retry-after"] == "10"
        assert "RAG_MAX_QUEUED_BUILDS" in response.json()["detail"]
        unknown = keyed.get("/builds/nope")
        assert unknown.status_code == 404 and "'nope'" in unknown.json()["detail"]
        assert keyed.get(f"/builds/{running.id}").json()["status"] == "running"
    finally:
        release.set()
