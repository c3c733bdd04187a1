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
    assert f"{expected['filtered_table_rows_count']} row" in page.inner_text("body")
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
