"""Hot reload: a rebuilt index is served without a restart; a damaged one is refused and
the old one keeps serving."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from rag.config import Settings
from rag.engine import build, open_engine
from tests.conftest import FakeEncoder

TRADE = "# Trade Brief\n\n## Trade\n\nBilateral trade between the two countries grew fast.\n"
WATER = "# Water Brief\n\n## Water\n\nThe Indus Waters Treaty shares the rivers' water.\n"


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Settings, Path, Path]:
    (tmp_path / "trade.md").write_text(TRADE)
    (tmp_path / "water.md").write_text(WATER)
    settings = Settings(index_dir=tmp_path / "index", model="/nonexistent", reload_interval_s=0)
    build(settings, [tmp_path / "trade.md"], encoder=FakeEncoder())
    return settings, tmp_path / "trade.md", tmp_path / "water.md"


def _documents(http: TestClient) -> int:
    return int(http.get("/ready").json()["documents"])


def test_reload_serves_a_rebuilt_index(corpus: tuple[Settings, Path, Path]) -> None:
    settings, trade, water = corpus
    engine = open_engine(settings, encoder=FakeEncoder())
    with TestClient(create_app(settings, engine=engine)) as http:
        assert http.post("/admin/reload").json()["reloaded"] is False  # nothing new yet
        build(settings, [trade, water], encoder=FakeEncoder())
        assert _documents(http) == 1  # still the old build until reloaded
        reloaded = http.post("/admin/reload").json()
        assert reloaded["reloaded"] is True and reloaded["documents"] == 2
        hits = http.get("/search", params={"q": "Indus Waters Treaty rivers"}).json()
        assert hits["passages"][0]["document"]["title"] == "Water Brief"


def test_the_watcher_reloads_by_itself(corpus: tuple[Settings, Path, Path]) -> None:
    settings, trade, water = corpus
    settings = settings.model_copy(update={"reload_interval_s": 0.1})
    engine = open_engine(settings, encoder=FakeEncoder())
    with TestClient(create_app(settings, engine=engine)) as http:
        build(settings, [trade, water], encoder=FakeEncoder())
        deadline = time.monotonic() + 10
        while _documents(http) != 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _documents(http) == 2


def test_a_damaged_build_is_refused_and_the_old_one_serves(
    corpus: tuple[Settings, Path, Path],
) -> None:
    settings, trade, water = corpus
    engine = open_engine(settings, encoder=FakeEncoder())
    with TestClient(create_app(settings, engine=engine)) as http:
        build(settings, [trade, water], encoder=FakeEncoder())
        passages = settings.index_dir.resolve() / "passages.jsonl"
        passages.write_text(passages.read_text().replace("Indus", "Ganges"))  # tampered
        response = http.post("/admin/reload")
        assert response.status_code == 503 and "checksum" in response.json()["detail"]
        assert _documents(http) == 1
        assert http.get("/search", params={"q": "bilateral trade"}).status_code == 200
