"""The chat page: ``GET /`` and its two assets, plain files shipped in ``api/static``.

Each asset has its own route, so no part of a request ever names a file. A strict Content
Security Policy backs up what the page already does (render retrieved text as text): even
markup that slipped through could neither run scripts nor load anything from elsewhere.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

router = APIRouter(tags=["page"])

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@lru_cache(maxsize=4)
def asset(name: str) -> bytes:
    return (resources.files("api") / "static" / name).read_bytes()


@router.get("/", response_class=HTMLResponse, summary="The chat page")
def page() -> HTMLResponse:
    """Ask the briefs from a browser: streamed answers, clickable citations, sources."""
    return HTMLResponse(asset("index.html"), headers=HEADERS)


@router.get("/ui/app.js", include_in_schema=False)
def script() -> Response:
    return Response(asset("app.js"), media_type="text/javascript; charset=utf-8", headers=HEADERS)


@router.get("/ui/style.css", include_in_schema=False)
def style() -> Response:
    return Response(asset("style.css"), media_type="text/css; charset=utf-8", headers=HEADERS)
