"""A bounded load against a real ``rag serve`` on loopback: 5,000 mixed requests (search,
chat whole and streamed, bad requests) from 32 clients. Every request gets the status its
kind must get, none a 5xx, and the server's memory after them all is within 15% of its
memory after the first 500 (what grows per request would show here)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.bench.soak import soak
from rag.engine import Engine
from tests.servers import RagServer, rag_serve

pytestmark = [pytest.mark.server, pytest.mark.load]


@pytest.fixture(scope="module")
def server(
    engine: Engine, index_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RagServer]:
    with rag_serve(tmp_path_factory.mktemp("load"), {"RAG_INDEX_DIR": str(index_dir)}) as s:
        yield s


def test_five_thousand_mixed_requests_no_5xx_and_flat_memory(
    server: RagServer, tmp_path: Path
) -> None:
    result = soak(server.url, server.process.pid, total=5000, concurrency=32, checkpoint=500)
    figures = result.as_dict()
    print(json.dumps(figures, indent=1))  # shown with -s, and in the report on failure
    assert result.requests == 5000
    assert result.wrong == [], result.wrong
    assert result.server_errors == 0
    assert result.rss_checkpoint_mb > 0 and result.growth <= 0.15, figures
    assert "Traceback" not in server.log()
