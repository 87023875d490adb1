"""ASGI middleware: one log line per request, ambiguous framing refused, CORS from
settings, the request body limit, and the request's deadline.

Order, outermost first: request log (sees every status, even CORS rejections), framing
(before anything reads the body), CORS (so browsers can read error responses too), body
limit (before any route reads the body), deadline (around the route and its stream).
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.config import Settings
from rag.deadline import deadline

log = logging.getLogger("api.requests")


# A body declared over the limit is still read (and dropped) up to this size before the 413,
# so the connection ends cleanly; past it the 413 goes out at once, with Connection: close.
DRAIN_BYTES = 1024 * 1024
# POST /documents takes a brief of up to RAG_MAX_UPLOAD_BYTES in a multipart form: the body
# may exceed it by the form's boundaries, part headers and the id field.
UPLOAD_PATH = "/documents"
UPLOAD_FORM_BYTES = 64 * 1024


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` so FastAPI's body parsing re-raises it as the 413 it is."""

    def __init__(self, limit: int, setting: str = "RAG_MAX_BODY_BYTES") -> None:
        super().__init__(413, f"request body is larger than {limit} bytes ({setting})")


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimit:
    """413 for a body over ``limit`` bytes: at once when Content-Length declares it, and
    while streaming otherwise, since a chunked upload declares no length at all."""

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        chat_limit: int | None = None,
        upload_limit: int | None = None,
    ) -> None:
        self.app = app
        self.default = (limit, "RAG_MAX_BODY_BYTES")
        # Chat front ends resend the whole conversation with every turn.
        self.chat = (chat_limit or limit, "RAG_MAX_CHAT_BODY_BYTES")
        # An uploaded brief, with room for the form around it.
        self.upload = (
            (upload_limit + UPLOAD_FORM_BYTES, "RAG_MAX_UPLOAD_BYTES, plus 64 KiB of form")
            if upload_limit
            else self.default
        )

    def _limit(self, scope: Scope) -> tuple[int, str]:
        path = scope.get("path", "")
        if path.startswith("/v1/"):
            return self.chat
        if path == UPLOAD_PATH and scope.get("method") == "POST":
            return self.upload
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, setting = self._limit(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._reject(scope, receive, send, limit, setting)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit, setting)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            # Normally the exception handlers already answered; this covers a route that
            # read the stream itself outside them.
            if started:
                raise
            await self._reject(scope, receive, send, limit, setting)

    async def _reject(
        self, scope: Scope, receive: Receive, send: Send, limit: int, setting: str
    ) -> None:
        body = {"detail": BodyTooLarge(limit, setting).detail}
        declared = _content_length(scope)
        if declared is not None and declared <= DRAIN_BYTES:
            # Read the rest of a modestly oversized body before answering: closing a socket
            # with unread bytes in it sends a reset, which can destroy the 413 on its way to
            # the client (seen as a transport error in 2 of 5,000 requests on a busy
            # machine). Bounded by the size and by the request's read deadline.
            message: Message = {"more_body": True}
            while message.get("more_body", False):
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client went away: nobody to answer
            await JSONResponse(body, status_code=413)(scope, receive, send)
            return
        await JSONResponse(body, status_code=413, headers={"Connection": "close"})(
            scope, receive, send
        )


class Framing:
    """400 for a request that declares both ``Content-Length`` and ``Transfer-Encoding``:
    two front ends can disagree on where such a body ends (request smuggling), so RFC 9112
    (6.3) lets a server refuse it; the ``Connection: close`` answer ends the connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            names = {name for name, _ in scope.get("headers", ())}
            if b"content-length" in names and b"transfer-encoding" in names:
                detail = (
                    "the request has both Content-Length and Transfer-Encoding; send one of them"
                )
                response = JSONResponse(
                    {"detail": detail}, status_code=400, headers={"Connection": "close"}
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class RequestDeadline:
    """Open the request's one deadline (RAG_DEADLINE_S, rag/deadline.py) around the route
    and its streamed response: waiting for the encoder and for the answer server both
    count against it."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with deadline(self.seconds):
            await self.app(scope, receive, send)


def _path(scope: Scope) -> str:
    # The raw path as sent (still percent-encoded) cannot smuggle a newline into the log.
    raw = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "backslashreplace")
    return bytes(raw).decode("ascii", "backslashreplace")


class RequestLog:
    """One line per request: ``METHOD /path STATUS 12.3ms``.

    Never the query string, body or headers (the question and the API key live there);
    with ``RAG_LOG_QUESTIONS`` on, a route may add ``state.question`` for debugging.
    """

    def __init__(self, app: ASGIApp, log_questions: bool = False) -> None:
        self.app = app
        self.log_questions = log_questions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if the app raises before responding

        async def watched_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        finally:
            ms = (time.perf_counter() - started) * 1000
            log.info(self._line(scope, status, ms))

    def _line(self, scope: Scope, status: int, ms: float) -> str:
        line = f"{scope.get('method', '?')} {_path(scope)} {status} {ms:.1f}ms"
        state: dict[str, Any] = scope.get("state") or {}
        if self.log_questions and isinstance(state.get("question"), str):
            line += f" question={state['question']!r}"
        return line


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is now (test runners swap it), not at creation."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def _ensure_log_handler() -> None:
    # uvicorn configures only its own loggers; without this our INFO lines would vanish.
    # A handler or level the operator configured is left alone.
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)
    if not log.handlers:
        handler = _Stderr()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        log.addHandler(handler)
        log.propagate = False


def install(app: FastAPI, settings: Settings) -> None:
    # add_middleware wraps what is there: the first added is the innermost.
    app.add_middleware(RequestDeadline, seconds=settings.deadline_s)
    app.add_middleware(
        BodyLimit,
        limit=settings.max_body_bytes,
        chat_limit=settings.max_chat_body_bytes,
        upload_limit=settings.max_upload_bytes,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],  # DELETE: removing an uploaded brief
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    app.add_middleware(Framing)
    app.add_middleware(RequestLog, log_questions=settings.log_questions)
    _ensure_log_handler()
