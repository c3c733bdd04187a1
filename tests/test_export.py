"""``fanwen export --format csv`` writes one UTF-8 row per text that Python's csv module reads back."""

from __future__ import annotations

import csv
import sqlite3

from .conftest import run_fanwen


def test_csv_export_round_trips(demo_archive, tmp_path):
    out = tmp_path / "texts.csv"
    run_fanwen("export", "--archive", str(demo_archive), "--format", "csv", "-o", str(out))
    with out.open(encoding="utf-8", newline="") as handle:
        exported = list(csv.DictReader(handle))
    connection = sqlite3.connect(demo_archive)
    stored = dict(connection.execute("select url, text from texts").fetchall())
    titles = dict(connection.execute("select url, title from texts").fetchall())
    connection.close()
    assert len(exported) == len(stored)
    for row in exported:
        assert row["text"] == stored[row["url"]]  # newlines, quotes and Chinese intact
        assert row["title"] == titles[row["url"]]
    assert any("\n" in row["text"] and "，" in row["text"] for row in exported)
    assert out.read_bytes()[:3] != b"\xef\xbb\xbf"  # plain UTF-8; the BOM variant is for Excel


def test_export_to_stdout(demo_archive):
    result = run_fanwen("export", "--archive", str(demo_archive))
    header = result.stdout.splitlines()[0]
    assert header.startswith("id,site,category,url,part,title,published")
    assert "exported" in result.stderr
