"""The end-to-end path: ``fanwen demo --no-serve`` crawls the replica over HTTP into archive.db."""

from __future__ import annotations

import sqlite3

import pytest

from replica.site import load_site

BOILERPLATE = ("预览阅读已结束", "联系老师", "相关阅读", "最近更新", "华博范文网 首页", "德育素材网 首页", "代笔",
               "原创材料代写", "分享到")


SITES = ("huabo", "deyu")


@pytest.fixture(scope="module", params=SITES)
def site(request):
    return request.param


@pytest.fixture(scope="module")
def rows(demo_archive, site):
    connection = sqlite3.connect(demo_archive)
    connection.row_factory = sqlite3.Row
    yield {
        row["url"].split("/", 3)[3]: dict(row)
        for row in connection.execute("select * from texts where site = ?", [site])
    }
    connection.close()


@pytest.fixture(scope="module")
def replica(site):
    return load_site(site)


def test_one_row_per_replica_article(rows, replica):
    assert len(replica.articles) >= (200 if replica.definition.name == "huabo" else 100)
    assert sorted(rows) == sorted(article.path.lstrip("/") for article in replica.articles)


def test_texts_equal_what_the_page_shows(rows, replica):
    mismatches = [a.path for a in replica.articles if rows[a.path.lstrip("/")]["text"] != a.expected_text]
    assert mismatches == []


def test_no_boilerplate_in_any_text(rows, replica):
    # A phrase the text itself says (代笔, 相关阅读 in a speech) is no leak
    # (docs/site-families.md, "Speech with boilerplate's words").
    expected = {a.path.lstrip("/"): a.expected_text for a in replica.articles}
    leaked = {url: phrase for url, row in rows.items() for phrase in BOILERPLATE
              if phrase in row["text"] and phrase not in expected[url]}
    assert leaked == {}


def test_truncated_exactly_where_the_notice_was(rows, replica):
    assert {a.path.lstrip("/"): bool(a.truncated) for a in replica.articles} == {
        url: bool(row["truncated"]) for url, row in rows.items()
    }
    assert 0 < sum(a.truncated for a in replica.articles) < len(replica.articles)


def test_metadata(rows, replica):
    for article in replica.articles:
        row = rows[article.path.lstrip("/")]
        assert row["title"] == article.title
        assert row["published"] == article.published
        assert row["category"] == article.category.name
        assert row["site"] == replica.definition.name
        assert row["part"] == 1
        assert row["chars"] == len(article.expected_text)


def test_crawl_run_recorded(demo_archive, replica, site):
    connection = sqlite3.connect(demo_archive)
    run = connection.execute(
        "select site, finish_reason, texts_new, pages_fetched from crawl_runs where site = ? order by id desc limit 1",
        [site],
    ).fetchone()
    connection.close()
    assert run[0] == site and run[1] == "finished"
    assert run[2] == len(replica.articles)
    assert run[3] > len(replica.articles)  # articles plus list pages, home and robots.txt
