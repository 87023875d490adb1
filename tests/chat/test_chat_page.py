"""The chat page in a real headless Chromium (Debian's, driven by Playwright) against a real
``rag serve`` on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.chat.helpers import CHROMIUM_ARGS, FOOTNOTE_18_URL, HIGHER_ED_QUESTION, rag_serve

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

pytestmark = [pytest.mark.browser, pytest.mark.server]

ANSWER_TIMEOUT_MS = 120_000
EVIL_BRIEF = """\
# Harbour Policy Brief <img src=x onerror="window.__pwned = 'title'">

## Shipping <script>window.__pwned = 'heading'</script>

The harbour authority approved a new cargo terminal in March 2023 \
<script>window.__pwned = 'body'; alert("xss")</script> to handle container ships.[^1] \
The terminal cost <img src=x onerror="window.__pwned = 'img'"> 40 million dollars.

The harbour also dredged the channel to allow deeper ships.

[^1]: "Terminal approved <script>window.__pwned='note'</script>," *Harbour News*, 2023, \
<https://example.org/terminal>
"""


@contextmanager
def browser_page(chromium: Path) -> Iterator[Page]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1000})
            yield page
        finally:
            browser.close()


def ask_on_page(page: Page, question: str) -> None:
    page.fill("#question", question)
    page.press("#question", "Enter")
    page.wait_for_selector(
        "article.turn[data-state=done], article.turn[data-state=error]",
        timeout=ANSWER_TIMEOUT_MS,
    )


def test_the_page_streams_an_answer_with_citations_and_footnote_links(
    chat_server: str, chromium: Path, tmp_path: Path
) -> None:
    with browser_page(chromium) as page:
        page.goto(chat_server)
        ask_on_page(page, HIGHER_ED_QUESTION)
        turn = page.locator("article.turn").last
        assert turn.get_attribute("data-state") == "done"
        answer = turn.locator(".answer")
        assert "$19 million" in answer.inner_text()
        cite = answer.locator("a.cite").first
        assert cite.inner_text() == "[1]"
        link = turn.locator("#t1-s1 a.fn-link")
        assert link.get_attribute("href") == FOOTNOTE_18_URL
        assert "Non-Security Cooperation" in turn.locator("#t1-s1 .path").inner_text()
        # The card quotes the passage alone: the heading meant for Open WebUI is cut off.
        passage = turn.locator("#t1-s1 blockquote.passage").inner_text()
        assert passage.startswith("Moreover, the U.S. has commenced") and "›" not in passage
        # The Markdown footer is shown as passage cards, not as raw Markdown.
        assert "**Sources**" not in answer.inner_text()
        cite.click()
        page.wait_for_selector("#t1-s1.flash", timeout=5_000)
        page.screenshot(path=str(tmp_path / "chat-page.png"), full_page=True)
    assert (tmp_path / "chat-page.png").stat().st_size > 10_000


def test_markup_in_a_brief_is_shown_as_text_and_never_runs(chromium: Path, tmp_path: Path) -> None:
    brief = tmp_path / "harbour.md"
    brief.write_text(EVIL_BRIEF, encoding="utf-8")
    env = {
        "RAG_CORPUS": str(brief),
        "RAG_INDEX_DIR": str(tmp_path / "index"),
        "RAG_API_KEY": "harbour-key",
    }
    with rag_serve(tmp_path, **env) as url, browser_page(chromium) as page:
        dialogs: list[str] = []
        console: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("console", lambda m: console.append(m.text))
        page.goto(url)
        # The server wants a key: the page asks for it before anything else.
        page.wait_for_selector("#key-box:not([hidden])", timeout=30_000)
        page.fill("#api-key", "harbour-key")
        page.dispatch_event("#api-key", "change")
        ask_on_page(page, "When was the cargo terminal approved?")
        turn = page.locator("article.turn").last
        assert turn.get_attribute("data-state") == "done", turn.inner_text()
        text = turn.inner_text()
        assert "<script>window.__pwned = 'body'" in text  # shown, as text
        assert "<script>window.__pwned = 'heading'</script>" in text
        assert page.evaluate("window.__pwned") is None
        assert dialogs == []
        assert page.locator("article.turn script, article.turn img").count() == 0
        # Nothing tried to run and got blocked either: the page never made markup of it.
        assert not [m for m in console if "Content Security Policy" in m], console


def test_the_api_docs_render_offline(chat_server: str, chromium: Path) -> None:
    """Swagger UI and ReDoc draw the API in a browser that may reach only the server: any
    request to another host is refused and recorded."""
    elsewhere: list[str] = []
    with browser_page(chromium) as page:

        def only_loopback(route: Route) -> None:
            if route.request.url.startswith(chat_server):
                route.continue_()
            else:
                elsewhere.append(route.request.url)
                route.abort()

        page.route("**/*", only_loopback)
        page.goto(chat_server + "/docs")
        page.wait_for_selector(".opblock-tag", timeout=60_000)
        assert page.locator("text=/search").count() > 0
        page.goto(chat_server + "/redoc")
        page.wait_for_selector("[role=menuitem], .menu-content", timeout=60_000)
        assert "brief-rag" in page.title()
    assert elsewhere == []


WATER_BRIEF = """# Indus Waters Brief

## The Treaty

The Indus Waters Treaty of 1960 divides the six rivers of the Indus basin between the two
countries. The World Bank brokered the treaty and keeps a role in its disputes.
"""


def test_a_library_offers_a_brief_picker_and_answers_from_the_chosen_brief(
    chromium: Path, tmp_path: Path
) -> None:
    from rag.config import Settings, bundled_brief
    from rag.engine import build

    water = tmp_path / "water.md"
    water.write_text(WATER_BRIEF)
    index = tmp_path / "index"
    build(Settings(index_dir=index), [bundled_brief(), water])
    with rag_serve(tmp_path, RAG_INDEX_DIR=str(index)) as url, browser_page(chromium) as page:
        page.goto(url + "/")
        page.wait_for_selector("#brief-box:not([hidden])", timeout=30_000)
        options = page.locator("#brief option").all_inner_texts()
        assert options[0] == "every brief" and "Indus Waters Brief" in options
        assert len(options) == 3
        page.select_option("#brief", "brief-rag/water")
        ask_on_page(page, "Who brokered the treaty that divides the rivers?")
        answer = page.locator("article.turn").last.inner_text()
        assert "World Bank" in answer and "Pakistan-U.S. Relations" not in answer
