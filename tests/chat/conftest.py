"""Fixtures for the chat endpoints and the page: one real ``rag serve`` over the session's
index, and the system Chromium for browser tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chat.helpers import CHROMIUM, rag_serve


@pytest.fixture(scope="session")
def chat_server(real_index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real ``rag serve`` over the bundled brief's session index, no API key."""
    with rag_serve(
        tmp_path_factory.mktemp("chat-server"), RAG_INDEX_DIR=str(real_index_dir)
    ) as url:
        yield url


@pytest.fixture(scope="session")
def chromium() -> Path:
    """The Debian chromium binary. Skipped where it is absent, except under CI=true."""
    if CHROMIUM.is_file():
        return CHROMIUM
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(f"{CHROMIUM} is missing; CI must install the Debian 'chromium' package")
    pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium); browser tests skipped")
