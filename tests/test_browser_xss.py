"""Scraped text that carries <script>, <img onerror> and javascript: links renders inert in a real headless Chromium.

Every payload in tests/hostile_archive.py would set ``window.__xss`` or open a
dialog if it ran; the pages must instead show the markup as text.  Covers the
pages our own templates and plugins render (speech page, table page with the
client-side search highlighter, ranked-search canned query with snippets) and
Datasette's own row, query and table pages.
"""

from __future__ import annotations

import urllib.parse

import pytest

from .hostile_archive import PAYLOAD_LINES, build_hostile_archive, served_archive
from .test_browser import CHROMIUM, CHROMIUM_FLAGS, playwright_api

SEARCH = urllib.parse.quote("文明城市")
HOSTILE_QUERY = urllib.parse.quote("文明 </script><script>window.__xss='query'</script> <!--<script>")
PAGES = [
    "/archive/texts/1",  # speech page (templates/row.html)
    "/archive/texts/2",  # javascript: source URL
    "/archive/texts",
    f"/archive/texts?_search={SEARCH}",  # highlighter script
    f"/archive/texts?_search={HOSTILE_QUERY}",  # the query itself inside our <script>
    f"/archive/search?q={SEARCH}",  # cjk_snippet around the hit
    f"/archive/search?q={HOSTILE_QUERY}",
    "/archive?sql=" + urllib.parse.quote("select id, title, text, url from texts"),
    "/archive/texts?_facet=category",
]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    archive = tmp_path_factory.mktemp("xss") / "archive.db"
    build_hostile_archive(archive)
    with served_archive(archive) as base:
        yield base


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile-xss")
    with playwright_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True,
        )
        try:
            yield context
        finally:
            context.close()


@pytest.mark.parametrize("path", PAGES)
def test_hostile_text_is_shown_not_run(served, browser, path):
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        page.goto(served + path, wait_until="load")
        page.wait_for_timeout(300)  # let an onerror/onload handler fire if one was created
        for element in page.locator("img, svg").all():
            element.dispatch_event("mouseover")
        assert page.evaluate("typeof window.__xss") == "undefined", page.evaluate("window.__xss")
        assert dialogs == []
        assert page.locator("a[href^='javascript:' i]").count() == 0
        assert page.locator("[onerror], [onload], [onmouseover]").count() == 0
        body = page.inner_text("body")
        assert "SQL query took too long" not in body and "Error" not in page.title()
        if path == "/archive/texts/1":
            for line in PAYLOAD_LINES[1:]:
                assert line in body  # the markup is visible as text, characters unchanged
        if path.startswith("/archive?sql="):
            assert PAYLOAD_LINES[1] in body  # table cells show the first 160 characters
        if path == "/archive/texts/2":
            assert "javascript:window.__xss='source-url'" in body
    finally:
        page.close()


def test_highlighter_still_marks_plain_terms(served, browser):
    page = browser.new_page()
    try:
        page.goto(f"{served}/archive/search?q={SEARCH}")
        assert set(page.locator("td.col-snippet mark").all_inner_texts()) == {"文明城市"}
    finally:
        page.close()
