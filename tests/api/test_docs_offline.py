"""`/docs` and `/redoc` need nothing from the internet: the pages name no external URL, and
every asset they load is served by the app itself."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from api.routes.apidocs import ASSETS, BASE


def _loaded(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)


def test_the_pages_name_no_external_url(client: TestClient) -> None:
    for path in ("/docs", "/redoc"):
        page = client.get(path)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "://" not in page.text and "//cdn" not in page.text, path
        loaded = _loaded(page.text)
        assert loaded and all(url.startswith(BASE) for url in loaded), loaded


def test_every_asset_the_pages_load_is_served(client: TestClient) -> None:
    wanted = {url for path in ("/docs", "/redoc") for url in _loaded(client.get(path).text)}
    assert wanted == {BASE + name for name in ASSETS}
    for url in wanted:
        asset = client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 1000, url
        assert asset.headers["content-type"].split(";")[0] == ASSETS[url.removeprefix(BASE)][1]


def test_no_part_of_a_request_names_a_file(client: TestClient) -> None:
    for probe in ("../main.py", "..%2Fmain.py", "swagger-ui.css/../../x", "LICENSE", "__init__.py"):
        assert client.get(BASE + probe).status_code == 404
