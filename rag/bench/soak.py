"""A bounded, mixed load against a running server, watching its memory.

Searches (GET and POST), chat answers (whole and streamed) and bad requests (blank,
overlong, malformed, unknown, oversized, a lone surrogate) in a fixed rotation, from
``concurrency`` clients at once, ``total`` requests in all. Every answer's status is
checked against the one its kind must get, and the server's resident memory is read after
the first ``checkpoint`` requests and at the end: what grows per request shows up as the
difference. Loopback only; bounded in requests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rag.bench.proc import rss_mb

QUESTIONS = (
    "What did the U.S. commit to higher education in Pakistan?",
    "When did the CENTCOM commander visit Pakistan?",
    "How much bilateral trade is there between Pakistan and the United States?",
    "What does the brief recommend on climate change cooperation?",
    "Why did relations cool after the withdrawal from Afghanistan?",
)


@dataclass(frozen=True)
class Kind:
    name: str
    method: str
    path: str
    expect: int  # the status this kind of request must get
    body: Any = None  # JSON, or raw bytes sent as JSON
    params: dict[str, str] | None = None
    stream: bool = False


def _chat(question: str, stream: bool = False) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": question}], "stream": stream}


def _rotation() -> list[Kind]:
    """One turn of the rotation: 20 requests, 14 good ones and 6 bad ones. ``{q}`` is
    replaced by a question made unique per request, so no cache can help or hide."""
    search = Kind("search", "POST", "/search", 200, {"question": "{q}"})
    return [
        *[search] * 6,
        *[Kind("search_get", "GET", "/search", 200, params={"q": "{q}"})] * 2,
        *[Kind("chat", "POST", "/v1/chat/completions", 200, _chat("{q}"))] * 3,
        *[Kind("chat_stream", "POST", "/v1/chat/completions", 200, _chat("{q}", True), stream=True)]
        * 3,
        Kind("blank", "POST", "/search", 422, {"question": "   "}),
        Kind("overlong", "POST", "/search", 422, {"question": "trade " * 1000}),
        Kind("malformed", "POST", "/search", 422, b'{"question": "trade"'),
        Kind("unknown_passage", "GET", "/passages/no-such-passage", 404),
        Kind("oversized", "POST", "/search", 413, {"question": "x" * 70_000}),
        Kind(
            "surrogate",
            "POST",
            "/v1/chat/completions",
            422,
            b'{"messages": [{"role": "user", "content": "\\udfff"}]}',
        ),
    ]


def _fill(value: Any, question: str) -> Any:
    if isinstance(value, str):
        return value.replace("{q}", question)
    if isinstance(value, dict):
        return {k: _fill(v, question) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, question) for v in value]
    return value


def request_for(i: int) -> Kind:
    """The ``i``-th request of the load."""
    rotation = _rotation()
    kind = rotation[i % len(rotation)]
    question = f"{QUESTIONS[(i // len(rotation)) % len(QUESTIONS)]} (request {i})"
    return Kind(
        kind.name,
        kind.method,
        kind.path,
        kind.expect,
        _fill(kind.body, question),
        _fill(kind.params, question),
        kind.stream,
    )


@dataclass
class SoakResult:
    requests: int = 0
    seconds: float = 0.0
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)
    wrong: list[str] = field(default_factory=list)  # kind: got X, wanted Y (first 20)
    transport: list[str] = field(default_factory=list)  # kind: what failed (first 20)
    rss_checkpoint_mb: float = 0.0
    rss_end_mb: float = 0.0

    @property
    def server_errors(self) -> int:
        return sum(n for codes in self.statuses.values() for s, n in codes.items() if s >= 500)

    @property
    def growth(self) -> float:
        """Memory growth from the checkpoint to the end, as a fraction."""
        if not self.rss_checkpoint_mb:
            return 0.0
        return self.rss_end_mb / self.rss_checkpoint_mb - 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 1),
            "requests_per_s": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "server_errors": self.server_errors,
            "wrong_status": len(self.wrong),
            "transport_failures": self.transport,
            "statuses": {k: dict(sorted(v.items())) for k, v in sorted(self.statuses.items())},
            "rss_checkpoint_mb": self.rss_checkpoint_mb,
            "rss_end_mb": self.rss_end_mb,
            "rss_growth_pct": round(self.growth * 100, 1),
        }


async def _send(client: Any, kind: Kind, failures: list[str]) -> int:
    import httpx

    content = kind.body if isinstance(kind.body, bytes) else None
    json_body = None if content is not None else kind.body
    headers = {"content-type": "application/json"} if content is not None else None
    try:
        if kind.stream:
            async with client.stream(
                kind.method, kind.path, json=json_body, content=content, headers=headers
            ) as response:
                async for _ in response.aiter_bytes():
                    pass
                return int(response.status_code)
        response = await client.request(
            kind.method,
            kind.path,
            json=json_body,
            content=content,
            headers=headers,
            params=kind.params,
        )
        return int(response.status_code)
    except httpx.HTTPError as exc:
        if len(failures) < 20:
            failures.append(f"{kind.name}: {type(exc).__name__}: {exc}")
        return 0  # a transport failure: no status at all


async def _soak(
    url: str, total: int, concurrency: int, rss: Callable[[], float], checkpoint: int
) -> SoakResult:
    import httpx

    result = SoakResult()
    next_index = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal next_index
        while next_index < total:
            i = next_index
            next_index += 1
            kind = request_for(i)
            status = await _send(client, kind, result.transport)
            codes = result.statuses.setdefault(kind.name, {})
            codes[status] = codes.get(status, 0) + 1
            if status != kind.expect and len(result.wrong) < 20:
                result.wrong.append(f"{kind.name}: got {status}, wanted {kind.expect}")
            result.requests += 1
            if result.requests == checkpoint:
                result.rss_checkpoint_mb = rss()

    # A client must stop reusing an idle connection before the server closes it (its
    # keep-alive, RAG_KEEP_ALIVE_S, 5 s): httpx's own expiry is also 5 s, so a request could
    # go out on a connection the server was closing that instant and fail with no status.
    limits = httpx.Limits(max_connections=concurrency, keepalive_expiry=1.0)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        result.seconds = time.perf_counter() - started
    result.rss_end_mb = rss()
    return result


def soak(
    url: str,
    pid: int,
    *,
    total: int = 5000,
    concurrency: int = 32,
    checkpoint: int = 500,
) -> SoakResult:
    """``total`` mixed requests from ``concurrency`` clients against ``url`` (a server
    whose process is ``pid``), with its memory read after ``checkpoint`` and at the end."""
    return asyncio.run(_soak(url, total, concurrency, lambda: rss_mb(pid), checkpoint))
