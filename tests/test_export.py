"""``fanwen export --format csv`` writes one UTF-8 row per text that Python's csv module reads back."""

from __future__ import annotations

import csv
import io
import sqlite3

import pytest

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


def plain_export(archive, out, columns, where, excel=False, exact=False) -> int:
    """The export as written before the batched, read-ahead one: a row at a time, a call per cell."""
    from fanwen.export import BOM, neutralise_formula

    if excel:
        out.write(BOM)
    writer = csv.writer(out)
    writer.writerow(columns if exact else [neutralise_formula(c) for c in columns])
    rows = 0
    for row in archive.iter_texts():
        if where(row):
            writer.writerow([row.get(c) if exact else neutralise_formula(row.get(c)) for c in columns])
            rows += 1
    return rows


@pytest.mark.parametrize("prefetch", [False, True])
@pytest.mark.parametrize("options", [
    {},
    {"exact": True},
    {"excel": True, "where": {"site": "huabo"}},
    {"columns": ("title", "no_such_column", "id", "text"), "where": {"genre": "讲话稿"}},
    {"columns": ("title", "id", "text")},
])
def test_csv_export_is_the_same_file_prefetched_or_not(demo_archive, prefetch, options):
    from archive.database import Archive
    from fanwen.export import EXPORT_COLUMNS, ExportFilter, export_csv

    columns = options.get("columns", EXPORT_COLUMNS)
    where = options.get("where", {})
    flags = {key: options[key] for key in ("excel", "exact") if key in options}
    with Archive(demo_archive) as archive:
        expected, shipped = io.StringIO(newline=""), io.StringIO(newline="")
        count = plain_export(archive, expected, list(columns),
                             lambda row: all(row[key] == value for key, value in where.items()), **flags)
        assert export_csv(archive, shipped, columns, ExportFilter(**where), prefetch=prefetch, **flags) == count
    assert count > 0
    assert shipped.getvalue() == expected.getvalue()


def test_text_pages_prefetch_reads_just_ahead_of_the_reader_and_stops_with_it(tmp_path):
    import threading
    import time

    from archive.page_prefetch import TextPagesPrefetch

    path = tmp_path / "texts.db"
    connection = sqlite3.connect(path)
    connection.execute("create table texts(id integer primary key, text)")
    connection.executemany("insert into texts values (?, ?)", [(i, "文" * 50) for i in range(1, 1001)])
    connection.commit()
    connection.close()

    def settled(prefetch, expected):
        deadline = time.monotonic() + 10
        while prefetch.read_to < expected and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)  # would it go further?
        return prefetch.read_to

    before = threading.active_count()
    with TextPagesPrefetch(path, ahead_ids=100, step_ids=30) as prefetch:
        assert settled(prefetch, 100) in range(100, 130)  # one window ahead of id 0, in whole steps
        prefetch.reached(500)
        assert settled(prefetch, 600) in range(600, 630)  # from the reader's place, not from where it stood
        prefetch.reached(990)
        assert settled(prefetch, 1000) in range(1000, 1030)  # not past the last text
        assert prefetch.error is None
    assert threading.active_count() == before

    with TextPagesPrefetch(tmp_path / "missing.db") as prefetch:  # nothing to read: the reader goes on alone
        prefetch.reached(10)
    assert prefetch.error is not None
