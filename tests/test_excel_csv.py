"""Datasette's "CSV for Excel" (plugins/excel_csv.py): BOM, formula-safe like ``fanwen export --excel``, every row."""

from __future__ import annotations

import asyncio
import csv
import io
import shutil
import sqlite3

import lxml.html
import pytest

from fanwen.export import FORMULA_PREFIXES, neutralise_formula, restore_cell
from fanwen.serve import datasette_instance

BOM = b"\xef\xbb\xbf"
PAGE = 50  # max_returned_rows for these tests: the demo archive is several pages of it
# Cells a spreadsheet would run, and the apostrophe that makes the neutralising reversible.
FORMULA_BODIES = ('=HYPERLINK("http://127.0.0.1/","点击")', "+86 电话", "-1 同志们", "@所有人", "\t=1+1",
                  "\r\n=2", "'引号开头", "同志们：=不变")


@pytest.fixture(scope="module")
def archive(demo_archive, tmp_path_factory):
    path = tmp_path_factory.mktemp("excel") / "archive.db"
    shutil.copy(demo_archive, path)
    from archive.database import Archive, TextToArchive
    from records.texts import ExtractedText

    with Archive(path) as opened:
        opened.save_texts([
            TextToArchive("huabo", "=栏目", "2030-01-01T00:00:00+00:00", ExtractedText(
                url=f"http://127.0.0.1:9/formula/{i}.html", title=f"{body}文明", published="2030-01-01",
                text=body, truncated=False, genre="讲话稿"))
            for i, body in enumerate(FORMULA_BODIES)
        ])
    return path


@pytest.fixture(scope="module")
def datasette(archive):
    return datasette_instance(archive, max_returned_rows=PAGE)


def get(datasette, path: str, params: dict | None = None):
    return asyncio.run(datasette.client.get(path, params=params))


def excel_rows(response) -> list[dict]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(BOM)
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def stored(archive, where: str = "1", params: tuple = ()) -> dict[int, dict]:
    connection = sqlite3.connect(archive)
    connection.row_factory = sqlite3.Row
    rows = {row["id"]: dict(row) for row in connection.execute(f"select * from texts where {where}", params)}
    connection.close()
    return rows


def cell(value: object) -> str:
    """A stored value as the CSV for Excel writes it (csv writes None as an empty cell)."""
    return neutralise_formula("" if value is None else str(value))


def test_texts_table_as_excel_csv_is_complete_and_formula_safe(datasette, archive):
    rows = excel_rows(get(datasette, "/archive/texts.excel.csv"))
    expected = stored(archive)
    assert len(expected) > 4 * PAGE
    assert len(rows) == len(expected)  # past max_returned_rows, nothing cut
    assert sorted(int(row["id"]) for row in rows) == sorted(expected)  # each row once
    for row in rows:
        assert not any(value.startswith(FORMULA_PREFIXES) for value in row.values()), row["id"]
        original = expected[int(row["id"])]
        assert row == {column: cell(original[column]) for column in row}
        assert restore_cell(row["text"]) == original["text"]  # the archived characters come back
    neutralised = [row["text"] for row in rows if row["url"].startswith("http://127.0.0.1:9/formula/")]
    assert neutralised == ["'" + body if body.startswith(("=", "+", "-", "@", "\t", "\r", "'")) else body
                           for body in FORMULA_BODIES]


def test_same_cells_as_fanwen_export_excel(datasette, archive):
    from archive.database import Archive
    from fanwen.export import EXPORT_COLUMNS, export_csv

    out = io.StringIO(newline="")
    with Archive(archive) as opened:
        export_csv(opened, out, excel=True)
    exported = {row["id"]: row for row in csv.DictReader(io.StringIO(out.getvalue().removeprefix("\ufeff"), newline=""))}
    served = {row["id"]: row for row in excel_rows(get(datasette, "/archive/texts.excel.csv"))}
    assert exported.keys() == served.keys()
    for text_id, row in exported.items():
        assert row == {column: served[text_id][column] for column in EXPORT_COLUMNS}


def test_filters_and_search_of_the_page_apply(datasette, archive):
    rows = excel_rows(get(datasette, "/archive/texts.excel.csv", {"_search": "文明", "_sort": "title"}))
    expected = stored(archive, "title like '%文明%' or text like '%文明%'")
    assert len(expected) > PAGE
    assert sorted(int(row["id"]) for row in rows) == sorted(expected)
    titles = [restore_cell(row["title"]) for row in rows]
    assert titles == sorted(titles)  # the page's sort, of the archived titles
    rows = excel_rows(get(datasette, "/archive/texts.excel.csv", {"_search": "文明", "genre": "讲话稿"}))
    assert sorted(int(row["id"]) for row in rows) == sorted(
        stored(archive, "genre = '讲话稿' and (title like '%文明%' or text like '%文明%')"))
    only = excel_rows(get(datasette, "/archive/texts.excel.csv", {"_col": "title", "site": "deyu"}))
    assert set(only[0]) == {"id", "title"} and len(only) == len(stored(archive, "site = 'deyu'"))


def link(datasette, path: str, params: dict) -> str:
    response = get(datasette, path, params)
    assert response.status_code == 200
    hrefs = lxml.html.fromstring(response.text).xpath("//p[@class='excel-csv']/a/@href")
    assert len(hrefs) == 1, path
    return hrefs[0]


def test_texts_table_and_search_results_link_their_excel_csv(datasette, archive):
    href = link(datasette, "/archive/texts", {"_search": "文明", "truncated": "0"})
    count = get(datasette, "/archive/texts.json", {"_search": "文明", "truncated": "0", "_size": "0"}).json()
    assert len(excel_rows(get(datasette, href))) == count["filtered_table_rows_count"] > PAGE

    # Ranked search shows the best clusters; its download holds every matching text.
    href = link(datasette, "/archive/search", {"q": "文明"})
    total = get(datasette, "/archive/search.json", {"q": "文明", "_shape": "objects"}).json()["rows"][0]["total"]
    rows = excel_rows(get(datasette, href))
    assert len(rows) == total == len(stored(archive, "title like '%文明%' or text like '%文明%'"))


def test_a_query_is_whole_or_refused_never_cut(datasette, archive):
    connection = sqlite3.connect(archive)
    runs, = connection.execute("select count(*) from crawl_runs").fetchone()
    truncated, = connection.execute("select count(*) from texts where truncated = 1").fetchone()
    connection.close()
    assert len(excel_rows(get(datasette, "/archive/crawl_history.excel.csv"))) == runs < PAGE
    assert truncated > PAGE
    for path, params in (("/archive/truncated_texts.excel.csv", {}), ("/archive.excel.csv", {"sql": "select id from texts"})):
        response = get(datasette, path, params)
        assert response.status_code == 400 and f"more than {PAGE} rows" in response.text, path
    page = lxml.html.fromstring(get(datasette, "/archive/truncated_texts").text)
    assert not page.xpath("//p[@class='excel-csv']/a") and page.xpath("//p[@class='excel-csv']")  # no link to a refusal
    sql = excel_rows(get(datasette, "/archive.excel.csv", {"sql": "select :v as cell", "v": "=1+1"}))
    assert sql == [{"cell": "'=1+1"}]


def test_a_failure_after_the_first_page_does_not_end_the_file(archive, monkeypatch, capfd):
    datasette = datasette_instance(archive, max_returned_rows=PAGE)
    client_get = type(datasette.client).get
    later_pages = []

    async def failing_later_pages(self, path, **kwargs):
        if any(name == "_next" for name, _ in kwargs.get("params") or []):
            later_pages.append(path)
            return await client_get(self, "/archive/no_such_table.json")
        return await client_get(self, path, **kwargs)

    monkeypatch.setattr(type(datasette.client), "get", failing_later_pages)
    # The stream raises after its headers went out: in process that surfaces as an exception; over
    # HTTP the server closes the connection before the last chunk (curl: "transfer closed with
    # outstanding read data remaining", a browser: a failed download), never a clean end of file.
    with pytest.raises(Exception):  # noqa: B017 (httpx's in-process transport reports it as its own assertion)
        asyncio.run(client_get(datasette.client, "/archive/texts.excel.csv"))
    assert later_pages == ["/archive/texts.json"]  # the first page was written; the second failed
    assert "IncompleteDownload" in "".join(capfd.readouterr())  # Datasette logs why


def test_behind_a_password_the_download_needs_it_and_passes_it_on(archive, monkeypatch):
    import base64

    from datasette.app import Datasette
    from datasette_auth_passwords.utils import hash_password

    from fanwen.serve import PASSWORD_HASH_VARIABLE, SETTINGS, config_dir, metadata_for, with_password

    monkeypatch.setenv(PASSWORD_HASH_VARIABLE, hash_password("reader-password"))
    datasette = Datasette([str(archive)], metadata=with_password(metadata_for(archive), "reader"),
                          plugins_dir=str(config_dir() / "plugins"), template_dir=str(config_dir() / "templates"),
                          settings=dict(SETTINGS))
    path = "/archive/texts.excel.csv?site=xuexila"
    assert asyncio.run(datasette.client.get(path)).status_code == 401
    # The rows are read through Datasette's JSON with the reader's credentials, not around them.
    credentials = base64.b64encode(b"reader:reader-password").decode()
    response = asyncio.run(datasette.client.get(path, headers={"authorization": f"Basic {credentials}"}))
    assert len(excel_rows(response)) == len(stored(archive, "site = 'xuexila'"))
