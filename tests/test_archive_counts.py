"""Counts a large archive can afford (plugins/archive_counts.py): the database page and a table search."""

from __future__ import annotations

import asyncio
import re
import sqlite3

import lxml.html
import pytest

from fanwen.serve import SETTINGS, datasette_instance


def get(datasette, path: str, params: dict | None = None):
    return asyncio.run(datasette.client.get(path, params=params))


@pytest.fixture(scope="module")
def datasette(demo_archive):
    instance = datasette_instance(demo_archive)
    asyncio.run(instance.invoke_startup())
    return instance


def stored_hits(archive, word: str, where: str = "1", params: tuple = ()) -> int:
    connection = sqlite3.connect(archive)
    count = connection.execute(
        f"select count(*) from texts where (instr(title, ?) or instr(text, ?)) and {where}", (word, word, *params)
    ).fetchone()[0]
    connection.close()
    return count


def test_database_page_counts_the_shown_tables_only(datasette, demo_archive):
    tables = {t["name"]: t for t in get(datasette, "/archive.json").json()["tables"]}
    # The index's shadow tables are the ones a bare count(*) walks page by page.
    assert tables["texts_fts_data"]["hidden"] and tables["texts_fts_data"]["count"] is None
    assert all(t["count"] is None for t in tables.values() if t["hidden"])
    connection = sqlite3.connect(demo_archive)
    for name in ("texts", "crawl_runs", "duplicate_clusters"):
        assert tables[name]["count"] == connection.execute(f"select count(*) from [{name}]").fetchone()[0], name
    connection.close()
    assert get(datasette, "/archive").status_code == 200


def test_a_search_alone_is_counted_in_the_index(datasette, demo_archive):
    expected = stored_hits(demo_archive, "文明")
    assert expected > 1
    response = get(datasette, "/archive/texts", {"_search": "文明"})
    assert response.status_code == 200
    doc = lxml.html.fromstring(response.text)
    count = doc.xpath("string(//p[@class='search-count']/strong)")
    assert int(count.replace(",", "")) == expected
    # Datasette's own count (every hit's row read) was skipped: its heading has no number.
    heading = doc.xpath("string(//h3)")
    assert not re.search(r"\d+ rows?", heading), heading
    assert len(doc.xpath("//table[contains(@class, 'rows-and-columns')]//tbody/tr")) == min(expected, SETTINGS["default_page_size"])


def test_a_search_with_a_filter_keeps_datasettes_count(datasette, demo_archive):
    expected = stored_hits(demo_archive, "文明", "site = ?", ("huabo",))
    response = get(datasette, "/archive/texts", {"_search": "文明", "site": "huabo"})
    doc = lxml.html.fromstring(response.text)
    assert not doc.xpath("//p[@class='search-count']")
    assert f"{expected:,} row" in doc.xpath("string(//h3)")


def test_the_json_api_keeps_its_count(datasette, demo_archive):
    data = get(datasette, "/archive/texts.json", {"_search": "文明", "_size": "1"}).json()
    assert data["filtered_table_rows_count"] == stored_hits(demo_archive, "文明")


def test_a_search_page_bounds_its_facets(datasette):
    assert datasette.setting("facet_time_limit_ms") == SETTINGS["facet_time_limit_ms"] <= 120
    facets = get(datasette, "/archive/texts.json", {"_search": "文明", "_size": "0"}).json()["facet_results"]
    assert "site" in facets and "cluster_id" not in facets


def plugin_module():
    from datasette.plugins import pm

    return next(m for m in pm.get_plugins() if (getattr(m, "__file__", "") or "").endswith("plugins/archive_counts.py"))


def test_a_search_of_many_texts_offers_no_facets_and_says_so(datasette, demo_archive, monkeypatch):
    expected = stored_hits(demo_archive, "文明")
    few = lxml.html.fromstring(get(datasette, "/archive/texts", {"_search": "文明"}).text)
    assert few.xpath("//div[contains(@class, 'facet-info')]") and not few.xpath("//p[@class='facets-left-out']")
    monkeypatch.setattr(plugin_module(), "FACETED_HITS_MAX", expected - 1)
    many = lxml.html.fromstring(get(datasette, "/archive/texts", {"_search": "文明"}).text)
    assert not many.xpath("//div[contains(@class, 'facet-info')]")
    assert f"{expected - 1:,} texts" in many.xpath("string(//p[@class='facets-left-out'])")
    assert int(many.xpath("string(//p[@class='search-count']/strong)").replace(",", "")) == expected
    # A filter brings Datasette's facets (and count) back.
    filtered = lxml.html.fromstring(get(datasette, "/archive/texts", {"_search": "文明", "site": "huabo"}).text)
    assert filtered.xpath("//div[contains(@class, 'facet-info')]")
