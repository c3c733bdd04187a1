"""The archive as Datasette shows it: speech page, canned queries, facets, charts, CSV, read-only settings."""

from __future__ import annotations

import asyncio
import csv
import io
import shutil
import sqlite3
from pathlib import Path

import lxml.html
import pytest

from fanwen.serve import SETTINGS, datasette_arguments, datasette_instance


def get(datasette, path: str, params: dict | None = None):
    if params is None:  # the path carries its own query string
        return asyncio.run(datasette.client.get(path))
    return asyncio.run(datasette.client.get(path, params=params))


@pytest.fixture(scope="module")
def archive(demo_archive, tmp_path_factory):
    """A copy of the demo archive with one text changed in place (so it has an earlier version)."""
    path = tmp_path_factory.mktemp("served") / "archive.db"
    shutil.copy(demo_archive, path)
    from archive.database import Archive, TextToArchive
    from records.texts import ExtractedText

    with Archive(path) as opened:
        url, title, published, genre = opened.db.execute(
            "select url, title, published, genre from texts where site = 'huabo' order by id limit 1").fetchone()
        opened.save_texts([TextToArchive("huabo", None, "2030-01-01T00:00:00+00:00", ExtractedText(
            url=url, title=title, published=published, text="第一段，修改后。\n第二段，修改后。", truncated=False, genre=genre))])
    return path


@pytest.fixture(scope="module")
def datasette(archive):
    return datasette_instance(archive)


def page(response) -> lxml.html.HtmlElement:
    assert response.status_code == 200, response.text[:500]
    return lxml.html.fromstring(response.text)


def test_speech_page_reads_as_a_document(datasette, archive):
    connection = sqlite3.connect(archive)
    text_id, text, url, title = connection.execute(
        "select id, text, url, title from texts where truncated = 0 and cluster_id in "
        "(select cluster_id from texts group by cluster_id having count(*) > 1) order by id limit 1").fetchone()
    copies = connection.execute("select count(*) - 1 from texts where cluster_id = (select cluster_id from texts where id = ?)",
                                [text_id]).fetchone()[0]
    connection.close()
    doc = page(get(datasette, f"/archive/texts/{text_id}"))
    assert doc.xpath("string(//article//h1)") == title
    paragraphs = [p.text_content() for p in doc.xpath("//div[@class='paragraphs']/p")]
    assert paragraphs == [line for line in text.split("\n") if line.strip()]
    assert doc.xpath("//a[@class='source-link']/@href") == [url]
    assert not doc.xpath("//*[contains(@class, 'truncated-warning')]")
    assert copies >= 1 and len(doc.xpath("//ul[@class='copies']/li")) == copies


def test_truncated_text_carries_a_warning_and_versions_are_listed(datasette, archive):
    connection = sqlite3.connect(archive)
    truncated_id = connection.execute("select id from texts where truncated = 1 limit 1").fetchone()[0]
    changed_id = connection.execute("select text_id from text_versions order by id desc limit 1").fetchone()[0]
    connection.close()
    assert page(get(datasette, f"/archive/texts/{truncated_id}")).xpath("//*[contains(@class, 'truncated-warning')]")
    changed = page(get(datasette, f"/archive/texts/{changed_id}"))
    assert [p.text_content() for p in changed.xpath("//div[@class='paragraphs']/p")] == ["第一段，修改后。", "第二段，修改后。"]
    assert len(changed.xpath("//ul[@class='versions']/li")) == 1


def test_other_tables_keep_datasette_row_page(datasette):
    doc = page(get(datasette, "/archive/crawl_runs/1"))
    assert not doc.xpath("//article[@class='speech']") and doc.xpath("//table")


@pytest.mark.parametrize("name, params", [
    ("search", {"q": "文明城市"}),
    ("new_texts", {"site": "", "genre": "", "q": ""}),
    ("texts_by_genre_and_year", {"genre": "讲话稿", "year": ""}),
    ("counts_by_genre_and_year", {}),
    ("duplicate_clusters_with_sources", {}),
    ("truncated_texts", {}),
    ("crawl_history", {}),
    ("texts_with_placeholder", {"placeholder": "X县"}),
    ("texts_per_month", {}),
])
def test_canned_queries_return_rows(datasette, name, params):
    response = get(datasette, f"/archive/{name}.json", {**params, "_shape": "objects"})
    assert response.status_code == 200, response.text[:300]
    assert response.json()["rows"], name


def test_placeholder_query_matches_json_lists(datasette, archive):
    connection = sqlite3.connect(archive)
    expected = {row[0] for row in connection.execute(
        "select id from texts t where exists (select 1 from json_each(t.placeholders) where value = 'X县')")}
    connection.close()
    rows = get(datasette, "/archive/texts_with_placeholder.json", {"placeholder": "X县", "_shape": "objects", "_size": "max"}).json()["rows"]
    assert {row["id"] for row in rows} == expected


def test_facets_and_hidden_tables(datasette):
    data = get(datasette, "/archive/texts.json", {"_size": "1"}).json()
    assert set(data["facet_results"]) == {"site", "genre", "published (year)", "category", "truncated"}
    assert data["suggested_facets"] == []  # suggestions off: they dominate page cost
    tables = {t["name"]: t for t in get(datasette, "/archive.json").json()["tables"]}
    assert tables["texts_fts"]["hidden"] and tables["_sqlite_migrations"]["hidden"]
    assert not tables["texts"]["hidden"]


def test_charts_dashboard_queries_run(datasette):
    assert get(datasette, "/-/dashboards/archive").status_code == 200
    metadata = datasette.metadata()
    charts = metadata["plugins"]["datasette-dashboards"]["archive"]["charts"]
    for chart in charts.values():
        response = get(datasette, "/archive.json", {"sql": chart["query"], "_shape": "objects"})
        assert response.status_code == 200 and response.json()["rows"], chart["title"]


def test_streamed_csv_has_every_row_once(datasette, archive):
    response = get(datasette, "/archive/texts.csv", {"_stream": "on", "_size": "max", "_search": "文明"})
    rows = list(csv.DictReader(io.StringIO(response.text, newline="")))
    connection = sqlite3.connect(archive)
    expected = {row[0] for row in connection.execute("select id from texts where title like '%文明%' or text like '%文明%'")}
    connection.close()
    ids = [int(row["id"]) for row in rows]
    assert sorted(ids) == sorted(expected)  # no row repeated or lost across the stream's pages
    full = get(datasette, "/archive/texts.csv", {"_stream": "on", "_size": "max"}).text
    assert "CSV contains more than" not in full


def test_streamed_csv_pages_use_the_primary_key_index(datasette, archive, monkeypatch):
    # A streamed CSV fetches page after page; with a descending default sort Datasette
    # wrote "id < ? or id is null or ..." and SQLite scanned the whole table for every
    # page: 68 MB/s at 100,000 texts, and quadratic beyond.
    from datasette import database

    seen: list[tuple[str, dict]] = []
    execute = database.Database.execute

    async def recording(self, sql, params=None, *args, **kwargs):
        if "from texts" in sql and "limit" in sql:
            seen.append((sql, dict(params or {})))
        return await execute(self, sql, params, *args, **kwargs)

    monkeypatch.setattr(database.Database, "execute", recording)
    monkeypatch.setattr(datasette, "max_returned_rows", 50)  # several pages from the demo archive
    response = get(datasette, "/archive/texts.csv", {"_stream": "on", "_size": "max"})
    connection = sqlite3.connect(archive)
    total = connection.execute("select count(*) from texts").fetchone()[0]
    assert len(list(csv.reader(io.StringIO(response.text, newline="")))) == total + 1
    later_pages = [(sql, params) for sql, params in seen if params]
    assert later_pages, "the stream fetched more than one page"
    for sql, params in later_pages:
        plan = " ".join(row[3] for row in connection.execute(f"explain query plan {sql}", params))
        assert "SCAN texts" not in plan, (sql, plan)
    connection.close()


def asgi_body_parts(datasette, path: str, query: str) -> list[bytes]:
    """The body parts of one GET as Datasette's ASGI app (plugins' wrappers included) sends them."""
    parts: list[bytes] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    scope = {"type": "http", "http_version": "1.1", "method": "GET", "scheme": "http", "path": path,
             "raw_path": path.encode(), "root_path": "", "query_string": query.encode(), "headers": [],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8001)}
    asyncio.run(datasette.app()(scope, receive, send))
    return parts


def test_streamed_csv_goes_out_in_large_chunks_with_every_row(datasette, archive, monkeypatch):
    # Datasette sends each CSV row on its own: as many HTTP chunks as rows, each framed by the
    # server and parsed by the client (a million of them for a million texts).
    from datasette.plugins import pm

    chunks = pm.get_plugin("body_chunks.py")  # the module as Datasette loaded it from the plugins folder
    assert chunks is not None, "plugins/body_chunks.py is not loaded"
    size = chunks.BODY_CHUNK_BYTES
    monkeypatch.setattr(datasette, "max_returned_rows", 50)  # several of Datasette's pages
    parts = asgi_body_parts(datasette, "/archive/texts.csv", "_stream=on&_size=max")
    monkeypatch.setattr(chunks, "BODY_CHUNK_BYTES", 1)  # every part passed on as Datasette sends it
    as_sent = asgi_body_parts(datasette, "/archive/texts.csv", "_stream=on&_size=max")
    body = b"".join(parts)
    connection = sqlite3.connect(archive)
    total = connection.execute("select count(*) from texts").fetchone()[0]
    connection.close()
    assert len(as_sent) > total  # a part per row (and the header)
    assert body == b"".join(as_sent)
    assert len(list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))) == total + 1
    assert len(body) > 3 * size  # else one chunk could not be told from many
    assert all(len(part) >= size for part in parts[:-1])
    assert len(parts) <= len(body) // size + 1


def test_a_page_body_is_sent_as_it_was(datasette):
    parts = asgi_body_parts(datasette, "/archive/texts.json", "_size=5")
    assert len(parts) == 1 and parts[0].startswith(b"{")


def test_serving_is_loopback_read_only_and_time_limited(datasette):
    arguments = datasette_arguments(Path("archive.db"), Path("metadata.yml"))
    assert arguments[arguments.index("--host") + 1] == "127.0.0.1"
    assert SETTINGS["sql_time_limit_ms"] and SETTINGS["max_csv_mb"] == 0 and SETTINGS["allow_csv_stream"]
    assert datasette.setting("sql_time_limit_ms") == SETTINGS["sql_time_limit_ms"]
    response = get(datasette, "/archive.json", {"sql": "delete from texts"})
    assert response.status_code == 400
    still_there = get(datasette, "/archive.json", {"sql": "select count(*) as n from texts", "_shape": "objects"})
    assert still_there.json()["rows"][0]["n"] > 0
    posted = asyncio.run(datasette.client.post("/archive/texts", data={"title": "x"}))
    assert posted.status_code >= 400  # Datasette 0.65 accepts POSTs only for writable canned queries ...
    queries = datasette.metadata()["databases"]["archive"]["queries"]
    assert not any(query.get("write") for query in queries.values())  # ... and we define none


def test_year_facet_counts_and_filters(datasette, archive):
    connection = sqlite3.connect(archive)
    expected = dict(connection.execute("select substr(published, 1, 4), count(*) from texts group by 1"))
    connection.close()
    facet = get(datasette, "/archive/texts.json", {"_size": "0"}).json()["facet_results"]["published (year)"]
    assert {row["value"]: row["count"] for row in facet["results"]} == {k: v for k, v in expected.items() if k}
    year = facet["results"][0]
    filtered = get(datasette, year["toggle_url"].replace("http://localhost", "")).json()
    assert filtered["filtered_table_rows_count"] == year["count"]
