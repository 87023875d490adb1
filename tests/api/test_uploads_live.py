"""Adding and removing briefs over HTTP, against a real ``rag serve`` (real model, real
FAISS) on loopback: an uploaded brief is built, served, found by a scoped search and
removed again without a restart (the watcher is off: the build itself has the server load
what it published); uploads are refused before anything is written with a wrong key, too
large or unreadable; a client's file name never reaches a path; a failed build changes
nothing; and concurrent uploads are built one after the other."""

from __future__ import annotations

import io
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from rag.config import Settings
from rag.engine import build
from rag.library.uploads import MARKER
from tests.api.helpers import API_KEY
from tests.servers import RagServer, rag_serve

pytestmark = pytest.mark.server

AUTH = {"Authorization": f"Bearer {API_KEY}"}
MAX_UPLOAD = 32 * 1024
WATER = b"""# Indus Waters Brief

## The Treaty

The Indus Waters Treaty of 1960 divides the six rivers of the Indus basin between the two
countries. The World Bank brokered the treaty and keeps a role in its disputes.
"""
POWER = b"""# Power Grid Brief

## Interconnection

A high-voltage line from Tajikistan, the CASA-1000 project, is to bring summer hydropower
to Pakistan's grid through Afghanistan.
"""
HTML_AS_TEXT = b"""<!doctype html>
<html><head><title>Kashmir Note</title></head>
<body><h1>Kashmir Note</h1><h2>The Line of Control</h2>
<p>The ceasefire along the Line of Control was renewed in February 2021.</p></body></html>
"""


@dataclass
class Live:
    server: RagServer
    folder: Path
    uploads: Path
    http: httpx.Client

    def files(self) -> list[str]:
        """The files in the upload folder, but its mark: ``<sha256>/<name>``."""
        if not self.uploads.exists():
            return []
        found = [p for p in self.uploads.rglob("*") if p.is_file() and p.name != MARKER]
        return sorted(str(p.relative_to(self.uploads)) for p in found)

    def ids(self) -> list[str]:
        response = self.http.get("/documents")
        assert response.status_code == 200, response.text
        return sorted(d["id"] for d in response.json()["documents"])

    def upload(self, data: bytes, filename: str, **form: str) -> httpx.Response:
        return self.http.post("/documents", files={"file": (filename, data)}, data=form)

    def finish(self, response: httpx.Response) -> dict[str, Any]:
        """The build a 202 started, once it has finished."""
        assert response.status_code == 202, response.text
        location = response.headers["location"]
        assert location == f"/builds/{response.json()['id']}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            build = self.http.get(location).json()
            if build["status"] in ("succeeded", "failed"):
                return build  # type: ignore[no-any-return]
            time.sleep(0.1)
        raise AssertionError(f"{location} did not finish: {build}")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("uploads-live")
    index = folder / "index"
    build(Settings(index_dir=index))  # the bundled brief alone, with the real model
    env = {
        "RAG_INDEX_DIR": str(index),
        "RAG_API_KEY": API_KEY,
        "RAG_RELOAD_INTERVAL_S": "0",  # no watcher: a build must have its index served itself
        "RAG_MAX_UPLOAD_BYTES": str(MAX_UPLOAD),
    }
    with (
        rag_serve(folder, env, headers=AUTH) as server,
        httpx.Client(base_url=server.url, headers=AUTH, timeout=60) as http,
    ):
        yield Live(server, folder, folder / "index-uploads", http)


def search(live: Live, question: str, documents: list[str] | None = None) -> httpx.Response:
    body: dict[str, Any] = {"question": question, "top_k": 3}
    if documents is not None:
        body["documents"] = documents
    return live.http.post("/search", json=body)


def test_uploaded_briefs_are_served_found_and_removed_without_a_restart(live: Live) -> None:
    before, files = live.ids(), live.files()
    responses: dict[str, httpx.Response] = {}

    def send(name: str, data: bytes) -> None:
        with httpx.Client(base_url=live.server.url, headers=AUTH, timeout=60) as http:
            responses[name] = http.post("/documents", files={"file": (name, data)})

    threads = [
        threading.Thread(target=send, args=args)
        for args in (("indus-waters.md", WATER), ("power-grid.md", POWER))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    builds = [live.finish(responses[name]) for name in ("indus-waters.md", "power-grid.md")]
    assert [b["status"] for b in builds] == ["succeeded", "succeeded"], builds
    assert sorted(b["added"][0] for b in builds) == ["indus-waters", "power-grid"]
    # How the ambiguous first "#" heading was read is reported, as `rag index` prints it.
    water = next(b for b in builds if b["document"] == "indus-waters")
    assert [n for n in water["notes"] if n.startswith("indus-waters.md: the first heading")]
    # One build at a time: whichever ran second started after the first had finished.
    first, then = sorted(builds, key=lambda b: b["started_at"])
    assert datetime.fromisoformat(then["started_at"]) >= datetime.fromisoformat(
        first["finished_at"]
    )
    assert live.ids() == sorted([*before, "indus-waters", "power-grid"])  # neither lost

    hits = search(live, "Who brokered the Indus Waters Treaty?", ["indus-waters"]).json()
    assert hits["passages"][0]["document"]["id"] == "indus-waters"
    assert "World Bank" in hits["passages"][0]["text"]
    stored = [f for f in live.files() if f.endswith("/indus-waters.md")]
    assert len(stored) == 1 and (live.uploads / stored[0]).read_bytes() == WATER

    again = live.finish(live.upload(WATER, "indus-waters.md"))
    assert again["status"] == "succeeded" and again["unchanged"] is True
    renamed = live.finish(live.upload(WATER, "Copy of indus-waters.md"))  # the same bytes
    assert renamed["unchanged"] is True and renamed["document"] == "indus-waters"

    removals = [live.http.delete(f"/documents/{i}") for i in ("indus-waters", "power-grid")]
    assert all(b["status"] == "succeeded" for b in map(live.finish, removals))
    assert live.ids() == before
    assert live.files() == files  # the uploads the project made are gone with their briefs
    gone = search(live, "Who brokered the Indus Waters Treaty?", ["indus-waters"])
    assert gone.status_code == 422 and "indus-waters" in gone.json()["detail"]
    assert live.server.process.poll() is None  # the same server all along


def test_changes_need_the_key(live: Live) -> None:
    files, ids = live.files(), live.ids()
    for headers in ({}, {"Authorization": "Bearer wrong-key"}):
        with httpx.Client(base_url=live.server.url, headers=headers) as http:
            posted = http.post("/documents", files={"file": ("w.md", WATER)})
            deleted = http.delete("/documents/pakistan-us-relations-2024")
            status = http.get("/builds/abc")
        assert [posted.status_code, deleted.status_code, status.status_code] == [401] * 3
        assert posted.headers["www-authenticate"] == "Bearer"
    assert live.files() == files and live.ids() == ids


def test_an_oversized_upload_is_refused_before_anything_is_written(live: Live) -> None:
    before = live.files()
    declared = live.upload(b"x" * (4 * MAX_UPLOAD), "big.md")  # over the body limit
    assert declared.status_code == 413 and "RAG_MAX_UPLOAD_BYTES" in declared.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: cut off while streaming
        boundary = b"--b\r\nContent-Disposition: form-data; name=file; filename=big.md\r\n\r\n"
        yield boundary
        for _ in range(40):
            yield b"y" * 8192

    streamed = live.http.post(
        "/documents", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert streamed.status_code == 413
    just_over = live.upload(b"z " * (MAX_UPLOAD // 2 + 1), "over.md")  # within the form's slack
    assert just_over.status_code == 413
    assert "is 32,770 bytes, over the budget of 32,768" in just_over.json()["detail"]
    assert live.files() == before


def test_the_format_is_told_by_the_content(live: Live) -> None:
    before = live.files()
    junk = live.upload(bytes(range(256)) * 16, "junk.md")
    assert junk.status_code == 415
    assert "binary" in junk.json()["detail"] and ".docx" in junk.json()["detail"]
    assert live.files() == before  # nothing written

    built = live.finish(live.upload(HTML_AS_TEXT, "kashmir-note.txt"))
    assert built["status"] == "succeeded" and built["added"] == ["kashmir-note"]
    info = live.http.get("/documents/kashmir-note").json()
    assert info["format"] == "html" and info["title"] == "Kashmir Note"
    (new,) = set(live.files()) - set(before)
    assert new.endswith("/kashmir-note.html")


def test_a_client_file_name_never_reaches_a_path(live: Live) -> None:
    names = {"../../etc/passwd": "passwd", "..\\x.md": "x", "/tmp/evil.md": "evil"}
    bodies = set()
    for n, name in enumerate(names):
        body = WATER.replace(b"1960", str(1900 + n).encode())
        bodies.add(body)
        built = live.finish(live.upload(body, name))
        assert built["status"] == "succeeded" and built["added"] == [names[name]]
    stored = {f.split("/")[1] for f in live.files()}
    assert {"passwd.txt", "x.md", "evil.md"} <= stored
    # Every file holding one of these bodies, anywhere under the tests' temporary folders
    # (where ../.. from the upload folder leads), is in the upload folder.
    sizes = {len(body) for body in bodies}
    holding = [
        p
        for p in live.folder.parent.rglob("*")
        if p.is_file() and p.stat().st_size in sizes and p.read_bytes() in bodies
    ]
    assert len(holding) == 3 and all(live.uploads in p.parents for p in holding)
    assert not Path("/tmp/evil.md").exists() and not Path("/etc/passwd.txt").exists()


def corrupt_docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document><not closed")
    return buffer.getvalue()


def test_a_failed_build_changes_nothing(live: Live) -> None:
    documents = live.http.get("/documents").json()
    files = live.files()
    question = "When did the CENTCOM commander visit Pakistan?"
    hits = search(live, question).json()["passages"]
    failed = live.finish(live.upload(corrupt_docx(), "broken.docx"))
    assert failed["status"] == "failed" and failed["finished_at"]
    error = failed["error"]
    assert "broken.docx" in error and "\n" not in error and str(live.uploads) not in error
    assert live.http.get("/documents").json() == documents
    assert search(live, question).json()["passages"] == hits
    assert live.files() == files
