"""One router per resource; :func:`install` wires them into an app."""

from __future__ import annotations

from fastapi import FastAPI

from rag.config import Settings


def install(app: FastAPI, settings: Settings) -> None:
    from api.routes import (
        admin,
        apidocs,
        builds,
        chat,
        documents,
        footnotes,
        health,
        passages,
        search,
        sections,
        ui,
    )

    for module in (health, search, documents, builds, passages, sections, footnotes, admin):
        app.include_router(module.router)
    app.include_router(chat.router)
    app.include_router(ui.router)
    app.include_router(apidocs.router)
