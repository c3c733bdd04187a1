"""A CSV Datasette fails to finish breaks off as an incomplete download (plugins/csv_whole_or_aborted.py).

Datasette 0.65 catches an error met while it streams a CSV, writes the message into the body and
ends the response as if it were whole.  These tests make a later page fail for real (an integer
overflow in SQLite, a failing query) and read the response as clients do.
"""

from __future__ import annotations

import asyncio
import csv
import http.client
import io
import shutil
import sqlite3
import urllib.request

import pytest

from fanwen.serve import datasette_instance

from .hostile_archive import served_archive

ROWS = 3000
FAILING_ROW = 1500  # on Datasette's second page of 1,000 rows (max_returned_rows)


def numbers_view(name: str, failing_row: int | None) -> str:
    # abs() of the smallest 64-bit integer is an error SQLite raises when it reaches that row.
    value = f"case when i = {failing_row} then -9223372036854775808 else i end" if failing_row else "i"
    return (f"create view {name} as with recursive n(i) as (select 1 union all select i + 1 from n where i < {ROWS}) "
            f"select i, abs({value}) as a from n")


@pytest.fixture(scope="module")
def archive_with_views(demo_archive, tmp_path_factory):
    path = tmp_path_factory.mktemp("csv-cut") / "archive.db"
    shutil.copy(demo_archive, path)
    connection = sqlite3.connect(path)
    connection.execute(numbers_view("numbers", None))
    connection.execute(numbers_view("numbers_failing", FAILING_ROW))
    connection.commit()
    connection.close()
    return path


def test_over_http_a_failed_stream_is_an_incomplete_download_and_a_whole_one_is_not(archive_with_views):
    with served_archive(archive_with_views) as base:
        with urllib.request.urlopen(f"{base}/archive/numbers.csv?_stream=on&_size=max", timeout=60) as response:
            whole = response.read().decode("utf-8")
        rows = list(csv.reader(io.StringIO(whole, newline="")))
        assert rows[0] == ["i", "a"] and len(rows) == ROWS + 1 and rows[-1] == [str(ROWS), str(ROWS)]

        with urllib.request.urlopen(f"{base}/archive/numbers_failing.csv?_stream=on&_size=max", timeout=60) as response:
            assert response.status == 200  # the headers went out before the failing page was read
            with pytest.raises(http.client.IncompleteRead) as cut:
                response.read()
        partial = cut.value.partial.decode("utf-8")
        # Everything written before the failure arrives, the error's message last; no clean end.
        assert partial.endswith("\r\ninteger overflow")
        lines = partial.split("\r\n")
        assert lines[0] == "i,a" and lines[1:-1] == [f"{i},{i}" for i in range(1, 1001)]

        # The server goes on serving.
        with urllib.request.urlopen(f"{base}/archive/numbers.csv?_size=10", timeout=30) as response:
            assert len(response.read().decode("utf-8").splitlines()) == 11


def body_parts(datasette, path: str, query: str) -> tuple[list[tuple[bytes, bool]], BaseException | None]:
    """The body parts of one GET as Datasette's app (plugins' wrappers included) sends them, and what it raised."""
    parts: list[tuple[bytes, bool]] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.body":
            parts.append((message.get("body", b""), message.get("more_body", False)))

    scope = {"type": "http", "http_version": "1.1", "method": "GET", "scheme": "http", "path": path,
             "raw_path": path.encode(), "root_path": "", "query_string": query.encode(), "headers": [],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8001)}
    try:
        asyncio.run(datasette.app()(scope, receive, send))
    except Exception as error:  # what the server would see
        return parts, error
    return parts, None


def test_a_failing_later_page_of_the_texts_table_is_not_ended(demo_archive, monkeypatch, capfd):
    from datasette import database

    datasette = datasette_instance(demo_archive, max_returned_rows=50)
    execute = database.Database.execute
    pages = []

    async def second_page_fails(self, sql, params=None, *args, **kwargs):
        if "from texts" in sql and "limit 51" in sql:
            pages.append(sql)
            if len(pages) == 2:
                raise database.QueryInterrupted(TimeoutError("interrupted"), sql, params)
        return await execute(self, sql, params, *args, **kwargs)

    monkeypatch.setattr(database.Database, "execute", second_page_fails)
    parts, raised = body_parts(datasette, "/archive/texts.csv", "_stream=on&_size=max")
    assert raised is not None and "cut short" not in str(raised)
    assert parts and all(more for _, more in parts)  # never the body's last part
    body = b"".join(part for part, _ in parts).decode("utf-8")
    rows = list(csv.reader(io.StringIO(body[:body.rindex("\r\n") + 2], newline="")))
    assert len(rows) == 1 + 50  # header and the first page, all of it, before the failure's message
    assert "CSV /archive/texts.csv cut short" in capfd.readouterr().err

    monkeypatch.setattr(database.Database, "execute", execute)
    parts, raised = body_parts(datasette, "/archive/texts.csv", "_stream=on&_size=max")
    assert raised is None and parts[-1][1] is False
    total = sqlite3.connect(demo_archive).execute("select count(*) from texts").fetchone()[0]
    body = b"".join(part for part, _ in parts).decode("utf-8")
    assert len(list(csv.reader(io.StringIO(body, newline="")))) == total + 1

    # A CSV with no rows and no header is empty, not cut.
    parts, raised = body_parts(datasette, "/archive/texts.csv", "id=-1&_header=off")
    assert raised is None and b"".join(part for part, _ in parts) == b""

