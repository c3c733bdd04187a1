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
    # (url, part): a 合集 page (replicas ruiwen, liuxue86) holds several texts under one URL.
    stored = {(url, str(part)): (text, title)
              for url, part, text, title in connection.execute("select url, part, text, title from texts")}
    connection.close()
    assert len(exported) == len(stored)
    for row in exported:
        text, title = stored[(row["url"], row["part"])]
        assert row["text"] == text  # newlines, quotes and Chinese intact
        assert row["title"] == title
    assert any("\n" in row["text"] and "，" in row["text"] for row in exported)
    assert out.read_bytes()[:3] != b"\xef\xbb\xbf"  # plain UTF-8; the BOM variant is for Excel


def test_export_to_stdout(demo_archive):
    result = run_fanwen("export", "--archive", str(demo_archive))
    header = result.stdout.splitlines()[0]
    assert header.startswith("id,site,category,url,part,title,published")
    assert "exported" in result.stderr


def test_jsonl_export_with_filters(demo_archive, tmp_path):
    import json

    out = tmp_path / "texts.jsonl"
    run_fanwen("export", "--archive", str(demo_archive), "--format", "jsonl", "--site", "huabo",
               "--since", "2024", "--search", "文明", "-o", str(out))
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    connection = sqlite3.connect(demo_archive)
    expected = {row[0] for row in connection.execute(
        "select id from texts where site = 'huabo' and published >= '2024' and (title like '%文明%' or text like '%文明%')")}
    connection.close()
    assert expected and {row["id"] for row in rows} == expected
    assert all(isinstance(row["placeholders"], list) for row in rows)


def test_genre_filter(demo_archive, tmp_path):
    out = tmp_path / "texts.csv"
    run_fanwen("export", "--archive", str(demo_archive), "--genre", "讲话稿", "-o", str(out))
    with out.open(encoding="utf-8", newline="") as handle:
        genres = {row["genre"] for row in csv.DictReader(handle)}
    assert genres == {"讲话稿"}


def test_csv_is_formula_safe_by_default_reversibly_and_exact_on_request(tmp_path):
    from archive.database import Archive, TextToArchive
    from fanwen.export import restore_cell
    from records.texts import ExtractedText

    archive_path = tmp_path / "archive.db"
    bodies = {"=HYPERLINK(\"http://evil\")": "'=HYPERLINK(\"http://evil\")", "+86 电话": "'+86 电话",
              "-1 同志们": "'-1 同志们", "@所有人": "'@所有人", "\t=1+1": "'\t=1+1", "同志们：=不变": "同志们：=不变",
              "'=SUM(A1)": "''=SUM(A1)", "'引号开头": "''引号开头", "——在大会上的讲话": "——在大会上的讲话"}
    with Archive(archive_path) as archive:
        archive.save_texts([
            TextToArchive("huabo", None, "2026-01-01T00:00:00+00:00", ExtractedText(
                url=f"http://x/{i}.html", title=f"标题{i}", published="2025-01-01", text=body, truncated=False, genre="其他"))
            for i, body in enumerate(bodies)
        ])

    def texts(path, encoding="utf-8"):
        with path.open(encoding=encoding, newline="") as handle:
            return [row["text"] for row in csv.DictReader(handle)]

    safe = tmp_path / "safe.csv"
    run_fanwen("export", "--archive", str(archive_path), "-o", str(safe))
    assert texts(safe) == list(bodies.values())
    assert [restore_cell(t) for t in texts(safe)] == list(bodies)  # nothing lost: the apostrophe comes off exactly
    assert not any(t.startswith(("=", "+", "-", "@", "\t", "\r", "\n")) for t in texts(safe))

    excel = tmp_path / "excel.csv"
    run_fanwen("export", "--archive", str(archive_path), "--excel", "-o", str(excel))
    assert excel.read_bytes().startswith(b"\xef\xbb\xbf")
    assert texts(excel, "utf-8-sig") == list(bodies.values())

    exact = tmp_path / "exact.csv"
    run_fanwen("export", "--archive", str(archive_path), "--exact", "-o", str(exact))
    assert texts(exact) == list(bodies)  # characters exactly as archived
