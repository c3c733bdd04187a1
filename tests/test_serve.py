"""``fanwen serve`` answers Datasette's JSON API over HTTP with the archived rows."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from .conftest import REPO, fanwen_command, free_port


def get_json(url: str, deadline: float) -> dict:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.load(response)
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture()
def served(demo_archive, tmp_path):
    archive = tmp_path / "archive.db"
    shutil.copy(demo_archive, archive)
    port = free_port()
    process = subprocess.Popen(
        fanwen_command("serve", "--archive", str(archive), "--port", str(port)),
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        yield f"http://127.0.0.1:{port}", archive
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_texts_table_over_http(served):
    base, archive = served
    import sqlite3

    expected = sqlite3.connect(archive).execute("select count(*) from texts").fetchone()[0]
    page = get_json(f"{base}/archive/texts.json?_shape=objects&_size=5&_sort=id", time.monotonic() + 30)
    assert page["filtered_table_rows_count"] == expected >= 200
    first = page["rows"][0]
    assert first["id"] == 1 and first["text"] and first["url"].startswith("http://127.0.0.1:")


def test_metadata_applied(served):
    base, _ = served
    metadata = get_json(f"{base}/-/metadata.json", time.monotonic() + 30)
    assert metadata["databases"]["archive"]["tables"]["texts"]["title"] == "范文 texts"


def test_serve_refuses_missing_archive(tmp_path):
    result = subprocess.run(
        fanwen_command("serve", "--archive", str(tmp_path / "none.db")), capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode != 0 and "no archive" in result.stderr


def test_excel_csv_and_atom_feed_over_http(served):
    # Both stream or render through fanwen serve's plugins; here over a real socket, as a browser and a feed reader get them.
    import csv
    import io
    import sqlite3

    base, archive = served
    get_json(f"{base}/-/versions.json", time.monotonic() + 30)  # up
    with urllib.request.urlopen(f"{base}/archive/texts.excel.csv", timeout=60) as response:
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        body = response.read()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert len(rows) == sqlite3.connect(archive).execute("select count(*) from texts").fetchone()[0]
    with urllib.request.urlopen(f"{base}/archive/new_texts.atom?site=huabo", timeout=30) as response:
        assert response.headers["content-type"].startswith("application/atom+xml")
        assert b"<feed" in response.read()
