"""One router per resource; :func:`install` wires them and the middleware into an app."""

from __future__ import annotations

from fastapi import FastAPI

from rag.config import Settings


def install(app: FastAPI, settings: Settings) -> None:
    from api.routes import chat, ui

    # The retrieval API (search, passages, sections, footnotes, health) and the
    # middleware are added by api.routes.retrieval.install when present.
    app.include_router(chat.router)
    app.include_router(ui.router)
