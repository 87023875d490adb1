"""Constants and small helpers shared by the API tests."""

from __future__ import annotations

import logging

QUESTION = "When did the CENTCOM commander visit Pakistan?"
API_KEY = "test-key-Zq81"  # a made-up key, to be found (or not) in logs

# The HTTP settings the tests assume, pinned so a RAG_* variable in the shell cannot leak in.
HTTP_DEFAULTS: dict[str, object] = {
    "api_key": None,
    "cors_origins": [],
    "log_questions": False,
    "max_body_bytes": 64 * 1024,
    "max_chat_body_bytes": 1024 * 1024,
    "max_question_chars": 2000,
}


class Lines(logging.Handler):
    """Collects the request log's lines (that logger does not propagate to caplog)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
