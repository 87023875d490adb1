"""Every route that takes a question documents the limit this server enforces."""

from __future__ import annotations

from typing import Any

from api.main import create_app
from rag.config import Settings


def _max_lengths(node: Any) -> list[int]:
    if isinstance(node, dict):
        own = [node["maxLength"]] if "maxLength" in node and node.get("type") == "string" else []
        return own + [n for v in node.values() for n in _max_lengths(v)]
    if isinstance(node, list):
        return [n for v in node for n in _max_lengths(v)]
    return []


def test_question_limits_come_from_the_settings() -> None:
    schema = create_app(Settings(max_question_chars=321)).openapi()
    search = schema["components"]["schemas"]["SearchRequest"]["properties"]["question"]
    assert search["maxLength"] == 321
    (q,) = [p for p in schema["paths"]["/search"]["get"]["parameters"] if p["name"] == "q"]
    assert q["schema"]["maxLength"] == 321
    chat = schema["components"]["schemas"]["ChatCompletionRequest"]["properties"]["messages"]
    assert sorted(set(_max_lengths(chat["contains"]))) == [321]
