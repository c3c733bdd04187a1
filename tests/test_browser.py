"""A researcher's path through the archive in a real headless Chromium, against ``fanwen serve`` over HTTP.

Home page → search 文明城市 in the table's search box → open a speech and read
its paragraphs → follow a facet → download the filtered table as streamed CSV.
Screenshots of each step go to test-artifacts/browser/.

Needs Debian's ``chromium`` (scripts/setup.sh installs it) and the Playwright
Python package, which drives that binary; Playwright's own browser download is
not used.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import REPO, fanwen_command, free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = REPO / "test-artifacts" / "browser"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

playwright_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    pytest.fail("chromium is not installed: run scripts/setup.sh", pytrace=False)


@pytest.fixture(scope="module")
def served(demo_archive, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("browser")
    archive = workdir / "archive.db"
    shutil.copy(demo_archive, archive)
    port = free_port()
    process = subprocess.Popen(
        fanwen_command("serve", "--archive", str(archive), "--port", str(port)),
        cwd=workdir, env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/-/versions.json", timeout=2).read()
            break
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, "fanwen serve did not start"
            time.sleep(0.3)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    with playwright_api.sync_playwright() as playwright:
        # A persistent context is how Playwright takes a fresh --user-data-dir of our choosing.
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True,
            accept_downloads=True, viewport={"width": 1280, "height": 900},
        )
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            yield page
        finally:
            context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def api(base: str, path: str) -> dict:
    with urllib.request.urlopen(f"{base}{path}", timeout=30) as response:
        return json.load(response)


def test_search_read_facet_and_download(served, browser_page, tmp_path):
    page, base = browser_page, served

    page.goto(f"{base}/")
    assert "范文档案" in page.title() or "范文档案" in page.inner_text("body")
    shot(page, "1-home")

    page.goto(f"{base}/archive/texts")
    page.fill("input#_search", "文明城市")
    page.press("input#_search", "Enter")
    page.wait_for_url("**_search=*")
    expected = api(base, "/archive/texts.json?_search=%E6%96%87%E6%98%8E%E5%9F%8E%E5%B8%82&_size=0")
    assert expected["filtered_table_rows_count"] > 0
    # A search alone is counted in the search index (plugins/archive_counts.py): the same number.
    assert page.locator("p.search-count").inner_text() == f"{expected['filtered_table_rows_count']} texts found by this search"
    titles = page.locator("td.col-title").all_inner_texts()
    assert titles and all("文明城市" in t for t in titles[:3]) or page.locator("td.col-text").count()
    shot(page, "2-search")

    page.locator("td.col-id a").first.click()
    page.wait_for_selector("article.speech")
    paragraphs = page.locator("div.paragraphs p").all_inner_texts()
    assert len(paragraphs) >= 3 and all(p.strip() for p in paragraphs)
    assert "文明城市" in page.inner_text("article.speech")
    assert page.locator("a.source-link").get_attribute("href").startswith("http://127.0.0.1:")
    shot(page, "3-speech")

    page.goto(f"{base}/archive/texts")
    facet = page.locator(".facet-info[data-column=site] li a").first
    site = facet.inner_text().strip()
    facet.click()
    page.wait_for_url("**site=*")
    counted = api(base, f"/archive/texts.json?site={urllib.request.quote(site)}&_size=0")["filtered_table_rows_count"]
    assert counted > 50  # more than one page, so the export must stream
    assert f"{counted} row" in page.inner_text("body")
    shot(page, "4-facet")

    page.check("#export input[name=_dl]")
    page.check("#export input[name=_stream]")
    with page.expect_download() as download_info:
        page.click("#export input[type=submit]")
    saved = tmp_path / "texts.csv"
    download_info.value.save_as(saved)
    with saved.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == counted and {row["site"] for row in rows} == {site}
    assert len({row["id"] for row in rows}) == counted
    assert "CSV contains more than" not in saved.read_text(encoding="utf-8")
    shutil.copy(saved, ARTIFACTS / "5-download.csv")


def test_ranked_search_highlights_and_charts_render(served, browser_page):
    page, base = browser_page, served
    page.goto(f"{base}/archive/search?q=%E6%96%87%E6%98%8E%E5%9F%8E%E5%B8%82")
    marks = page.locator("td.col-snippet mark").all_inner_texts()
    assert marks and set(marks) == {"文明城市"}
    shot(page, "6-ranked-search")

    page.goto(f"{base}/-/dashboards/archive")
    # vega-embed draws each chart as an <svg> or <canvas> once its query has answered.
    page.wait_for_function("document.querySelectorAll('.vega-embed canvas, .vega-embed svg.marks').length >= 3")
    shot(page, "7-charts")


@pytest.fixture(scope="module")
def served_with_captures(demo_archive, tmp_path_factory):
    """The demo archive with its WARC files beside it (``served`` copies the database alone)."""
    from archive.database import warc_directory

    from .hostile_archive import served_archive

    archive = tmp_path_factory.mktemp("browser-captures") / "archive.db"
    shutil.copy(demo_archive, archive)
    shutil.copytree(warc_directory(demo_archive), warc_directory(archive))
    with served_archive(archive) as base:
        yield base


def test_capture_link_shows_the_page_as_fetched_with_scripts_off_and_nothing_fetched(served_with_captures, browser_page):
    """Speech page → "the page as it was fetched": the captured page shows, sandboxed, from 127.0.0.1 alone.

    The huabo replica's pages carry inline scripts (replica/templates/huabo/base.html): one inserts a
    statistics <script src>, one marks every ad slot ``data-loaded``; either would show in the frame's DOM.
    """
    base = served_with_captures
    texts = api(base, "/archive.json?_shape=array&sql=" + urllib.request.quote(
        "select id, title, capture_id from texts where site = 'huabo' and capture_id is not null order by id limit 30"))
    for text in texts:  # one whose capture has ad slots for the inline script to mark
        with urllib.request.urlopen(f"{base}/-/capture/archive/{text['capture_id']}/raw", timeout=30) as response:
            captured = response.read()
        if b'class="ad-slot"' in captured:
            break
    else:
        pytest.fail("no huabo capture with an ad slot")
    assert b"document.createElement(\"script\")" in captured

    page = browser_page.context.new_page()  # its own listeners, gone with it
    requests: list[str] = []
    console: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: console.append(message.text))
    failed: dict[str, str] = {}
    page.on("requestfailed", lambda request: failed.__setitem__(request.url, request.failure or ""))
    try:
        page.goto(f"{base}/archive/texts/{text['id']}")
        page.click("a.capture-link")
        page.wait_for_url(f"**/-/capture/archive/{text['capture_id']}")
        frame = page.frame_locator("iframe.captured-page")
        frame.locator("h1").first.wait_for()
        assert text["title"] in frame.locator("body").inner_text()
        assert page.locator(".clean-text p").count() >= 3
        page.wait_for_load_state("networkidle")
        shot(page, "capture")

        assert frame.locator(".ad-slot").count() > 0
        assert frame.locator(".ad-slot[data-loaded]").count() == 0
        assert frame.locator('script[src*="stat.js"]').count() == 0
        assert any("sandboxed" in line and "allow-scripts" in line for line in console), console
    finally:
        page.close()
    origin = base.rstrip("/") + "/"
    assert requests and all(url.startswith(origin) for url in requests), requests
    # The captured page's own sub-resources (its stylesheet /static/css/main.css) are blocked by the
    # browser before they leave it: Playwright reports them, failed for "csp", and this server never sees them.
    blocked = [url for url in requests if not url.startswith((f"{origin}-/", f"{origin}archive/"))]
    assert blocked and all(failed.get(url) == "csp" for url in blocked), (blocked, failed)
