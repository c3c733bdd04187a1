"""The page as captured: the sandboxed raw answer, the view beside the clean text, ``fanwen capture``, pywb replay."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import lxml.html
import pytest

from archive.captures import find_capture, served_content_type
from archive.database import warc_directory
from fanwen.serve import datasette_instance

from .conftest import REPO, fanwen_command, free_port, run_fanwen


def one(archive: Path, sql: str) -> sqlite3.Row:
    connection = sqlite3.connect(archive)
    connection.row_factory = sqlite3.Row
    try:
        row = connection.execute(sql).fetchone()
    finally:
        connection.close()
    assert row is not None, sql
    return row


@pytest.fixture(scope="module")
def datasette(demo_archive):
    return datasette_instance(demo_archive)


def get(datasette, path: str):
    return asyncio.run(datasette.client.get(path))


@pytest.fixture(scope="module")
def disagreeing(demo_archive) -> sqlite3.Row:
    """Replica B's ``header_disagrees`` page: header UTF-8, <meta> GBK, bytes GB18030 (replica/dedecms.py)."""
    return one(demo_archive, (
        "select c.id capture_id, c.url, t.id text_id, t.title, t.text, t.cleaning from captures c "
        "join texts t on t.capture_id = c.id where c.site = 'diyifanwen' and c.detected_encoding = 'gb18030' "
        "and c.headers like '%text/html; charset=utf-8%' order by c.id limit 1"
    ))


def test_served_content_type_carries_the_charset_the_crawl_used():
    assert served_content_type("text/html; charset=utf-8", "gb18030") == "text/html; charset=gb18030"
    assert served_content_type(None, "utf-8") == "text/html; charset=utf-8"
    assert served_content_type("Text/HTML;charset=gbk", "gb18030") == "text/html; charset=gb18030"
    assert served_content_type("text/html; charset=big5", "big5hkscs") == "text/html; charset=big5-hkscs"
    assert served_content_type("application/pdf", "utf-8") == "application/pdf"
    assert served_content_type("<script>", "utf-8") == "text/html; charset=utf-8"


def test_raw_capture_is_the_fetched_bytes_sandboxed_with_the_charset_the_crawl_used(datasette, demo_archive, disagreeing):
    response = get(datasette, f"/-/capture/archive/{disagreeing['capture_id']}/raw")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    directives = [part.strip() for part in csp.split(";")]
    assert directives[0] == "sandbox"  # no allow-scripts, no allow-same-origin
    assert "default-src 'none'" in directives and not any(d.startswith("script-src") for d in directives)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "set-cookie" not in response.headers
    # The header said UTF-8, the <meta> GBK; the crawl read GB18030 and so must a browser.
    assert response.headers["content-type"] == "text/html; charset=gb18030"
    body = response.content
    assert b'content="text/html; charset=gbk"' in body
    capture = find_capture(demo_archive, capture_id=disagreeing["capture_id"])
    assert capture is not None and body == capture.page.body
    assert capture.page.content_type == "text/html; charset=utf-8"
    decoded = body.decode("gb18030")
    assert disagreeing["title"] in decoded and disagreeing["text"].split("\n")[0][:20] in decoded


def test_a_utf8_page_behind_a_gbk_header_is_served_as_utf8(datasette, demo_archive):
    row = one(demo_archive, (
        "select id from captures where site = 'diyifanwen' and detected_encoding = 'utf-8' "
        "and headers like '%charset=gbk%' order by id limit 1"
    ))
    response = get(datasette, f"/-/capture/archive/{row['id']}/raw")
    assert response.headers["content-type"] == "text/html; charset=utf-8"


def test_capture_view_shows_the_frame_the_clean_text_and_the_removals(datasette, disagreeing):
    response = get(datasette, f"/-/capture/archive/{disagreeing['capture_id']}")
    assert response.status_code == 200
    html = lxml.html.fromstring(response.text)
    [frame] = html.cssselect("iframe.captured-page")
    assert frame.get("sandbox") == "" and frame.get("src") == f"/-/capture/archive/{disagreeing['capture_id']}/raw"
    clean = " ".join(p.text_content() for p in html.cssselect(".clean-text p"))
    assert all(line in clean for line in disagreeing["text"].split("\n") if line.strip())
    removed = json.loads(disagreeing["cleaning"])["removed"]
    assert removed, "the replica's article page carries boilerplate the cleaner removes"
    rows = [[cell.text_content() for cell in tr.cssselect("td")] for tr in html.cssselect("table.cleaning-removed tbody tr")]
    assert rows == [[reason, str(chars), text] for reason, chars, text in removed]
    assert "gb18030" in response.text and "the page declared utf-8" in response.text


def test_speech_page_links_to_its_capture(datasette, disagreeing):
    response = get(datasette, f"/archive/texts/{disagreeing['text_id']}")
    [link] = lxml.html.fromstring(response.text).cssselect("a.capture-link")
    assert link.get("href") == f"/-/capture/archive/{disagreeing['capture_id']}"


def test_unknown_captures_are_not_found(datasette):
    assert get(datasette, "/-/capture/archive/999999").status_code == 404
    assert get(datasette, "/-/capture/archive/999999/raw").status_code == 404
    assert get(datasette, "/-/capture/elsewhere/1").status_code == 404


def test_fanwen_capture_prints_the_page_decoded_and_saves_the_raw_bytes(demo_archive, disagreeing, tmp_path):
    printed = run_fanwen("capture", disagreeing["url"], "--archive", str(demo_archive))
    assert disagreeing["title"] in printed.stdout and "charset=gbk" in printed.stdout
    assert f"capture {disagreeing['capture_id']}" in printed.stderr and "read as gb18030" in printed.stderr

    capture = find_capture(demo_archive, url=disagreeing["url"])
    assert capture is not None
    saved = tmp_path / "page.html"
    run_fanwen("capture", disagreeing["url"], "--archive", str(demo_archive), "--raw", "-o", str(saved))
    assert saved.read_bytes() == capture.page.body
    streamed = subprocess.run(
        fanwen_command("capture", disagreeing["url"], "--archive", str(demo_archive), "--raw"),
        cwd=REPO, capture_output=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)}, check=True,
    )
    assert streamed.stdout == capture.page.body


def test_fanwen_capture_names_what_it_cannot_find(demo_archive):
    missing = subprocess.run(
        fanwen_command("capture", "http://127.0.0.1:9/none.html", "--archive", str(demo_archive)),
        cwd=REPO, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert missing.returncode == 1 and "no capture of http://127.0.0.1:9/none.html" in missing.stderr


@pytest.fixture(scope="session")
def pywb_bin(request, tmp_path_factory) -> Path:
    """pywb in a venv of its own: it pins redis 2.10.6 and werkzeug, which the project's venv must not get.

    Made once and kept in pytest's cache (about 30 s from the package registry).
    """
    cache = getattr(request.config, "cache", None)  # None under -p no:cacheprovider
    venv = Path(cache.mkdir("pywb-venv")) if cache is not None else tmp_path_factory.mktemp("pywb-venv")
    binaries = venv / "bin"
    if not (binaries / "wayback").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, timeout=120)
        install = subprocess.run([str(binaries / "pip"), "install", "--quiet", "pywb>=2.8"],
                                 capture_output=True, text=True, timeout=600)
        if install.returncode != 0:
            pytest.skip(f"pywb does not install here: {install.stderr[-500:]}")
    return binaries


def test_pywb_indexes_and_replays_the_demo_archive(pywb_bin, demo_archive, disagreeing, tmp_path):
    files = sorted(warc_directory(demo_archive).glob("*.warc.gz"))
    subprocess.run([str(pywb_bin / "wb-manager"), "init", "fanwen"], cwd=tmp_path, check=True, capture_output=True)
    subprocess.run([str(pywb_bin / "wb-manager"), "add", "fanwen", *map(str, files)],
                   cwd=tmp_path, check=True, capture_output=True, timeout=300)
    index = (tmp_path / "collections" / "fanwen" / "indexes" / "index.cdxj").read_text(encoding="utf-8")
    assert f'"url": "{disagreeing["url"]}"' in index

    capture = find_capture(demo_archive, capture_id=disagreeing["capture_id"])
    assert capture is not None
    port = free_port()
    server = subprocess.Popen([str(pywb_bin / "wayback"), "-p", str(port), "-b", "127.0.0.1"], cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # id_ asks pywb for the record as stored, without its replay rewriting.
    timestamp = capture.page.fetched_at.replace("-", "").replace(":", "").replace("T", "").rstrip("Z")
    replay = f"http://127.0.0.1:{port}/fanwen/{timestamp}id_/{disagreeing['url']}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(replay, timeout=10) as response:
                    body = response.read()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "wayback did not serve the capture"
                time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert body == capture.page.body
