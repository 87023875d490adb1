"""``/docs`` (Swagger UI) and ``/redoc``, offline: their scripts, stylesheet and icon are
served by this app from the ``fastapi-offline`` package, never fetched from a CDN, so the
pages work on a machine with no internet, as everything else here does.

Each asset has its own route (as the chat page's do), so no part of a request names a file.
A Content Security Policy keeps the pages to this server: ReDoc's bundle draws its
"powered by" logo from a CDN, which the policy stops the browser from even asking for.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from importlib import resources

from fastapi import APIRouter
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

router = APIRouter(include_in_schema=False)

TITLE = "brief-rag"
ASSETS = {  # route name → (file in fastapi_offline/static, media type)
    "swagger-ui-bundle.js": ("swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": ("swagger-ui.css", "text/css"),
    "redoc.standalone.js": ("redoc.standalone.js", "text/javascript"),
    "favicon.png": ("favicon.png", "image/png"),
}
BASE = "/docs/assets/"


@lru_cache(maxsize=len(ASSETS))
def _read(name: str) -> bytes:
    return (resources.files("fastapi_offline") / "static" / name).read_bytes()


def _confined(page: HTMLResponse) -> HTMLResponse:
    """``page`` with a policy allowing only this server, its own inline scripts (by hash:
    Swagger UI starts from one) and the blob workers ReDoc runs."""
    html = bytes(page.body).decode()
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in re.findall(r"<script>(.*?)</script>", html, re.S)
    )
    policy = (
        f"default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        "worker-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": policy})


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    return _confined(
        get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{TITLE} – API",
            swagger_js_url=BASE + "swagger-ui-bundle.js",
            swagger_css_url=BASE + "swagger-ui.css",
            swagger_favicon_url=BASE + "favicon.png",
        )
    )


@router.get("/redoc")
def redoc() -> HTMLResponse:
    return _confined(
        get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{TITLE} – API",
            redoc_js_url=BASE + "redoc.standalone.js",
            redoc_favicon_url=BASE + "favicon.png",
            with_google_fonts=False,
        )
    )


def _asset_route(name: str, file: str, media_type: str) -> None:
    def serve() -> Response:
        return Response(
            _read(file), media_type=media_type, headers={"Cache-Control": "max-age=86400"}
        )

    router.add_api_route(BASE + name, serve, methods=["GET"], name=f"docs-asset-{name}")


for _name, (_file, _media_type) in ASSETS.items():
    _asset_route(_name, _file, _media_type)
