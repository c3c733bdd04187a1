"""Crawler traps served by replica site B over real HTTP: every one ends, bounded (docs/reliability.md)."""

from __future__ import annotations

import sqlite3
from urllib.parse import urlsplit

import pytest

from crawler.urls import canonical_url
from replica.faults import TRACKING_SUFFIXES
from replica.process import replica_request_counts, running_replicas
from replica.site import load_site
from tests.replica_crawl import channel_profile, crawl

SITE = load_site("diyifanwen")
MAX_LIST_PAGES = 5


@pytest.fixture(scope="module")
def traps_crawl(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("traps")
    channel_profile(workdir / "profiles", "diyifanwen_traps", "xianjing", "rili", "huixuan", "genzong",
                    max_list_pages=MAX_LIST_PAGES)
    archive = workdir / "archive.db"
    with running_replicas(["diyifanwen"]) as urls:
        stats = crawl("diyifanwen_traps", urls["diyifanwen"], archive, workdir / "profiles", timeout=120)
        requests = replica_request_counts(urls["diyifanwen"])
    connection = sqlite3.connect(archive)
    texts = [row[0] for row in connection.execute("select url from texts")]
    connection.close()
    return {"stats": stats, "requests": requests, "texts": texts}


def channel_requests(crawl_result, channel: str) -> dict[str, int]:
    return {t: n for t, n in crawl_result["requests"].items() if t.startswith(f"/fanwen/{channel}/")}


def test_endless_pagination_stops_at_max_list_pages(traps_crawl):
    assert channel_requests(traps_crawl, "xianjing") == {
        "/fanwen/xianjing/": 1, **{f"/fanwen/xianjing/index_{n}.html": 1 for n in range(2, MAX_LIST_PAGES + 1)}}
    assert traps_crawl["stats"]["fanwen/list_pages_capped"] == 1


def test_calendar_links_are_never_walked(traps_crawl):
    # The calendar links every day before and after, forever; only the pager ("下一页") is followed.
    assert channel_requests(traps_crawl, "rili") == {"/fanwen/rili/": 1, "/fanwen/rili/index_2.html": 1}


def test_pager_looping_back_to_page_one_ends(traps_crawl):
    requests = channel_requests(traps_crawl, "huixuan")
    assert set(requests) <= {"/fanwen/huixuan/", "/fanwen/huixuan/index.html",
                             "/fanwen/huixuan/index_2.html", "/fanwen/huixuan/index_3.html"}
    assert all(count == 1 for count in requests.values())


def test_tracking_parameters_canonicalised_to_one_request_and_one_text(traps_crawl):
    article = SITE.articles[20]
    assert traps_crawl["requests"][article.path] == 1
    assert not [t for t in traps_crawl["requests"] if t.startswith(article.path + "?")]
    assert [urlsplit(url).path for url in traps_crawl["texts"] if article.path in url] == [article.path]
    assert all("?" not in url for url in traps_crawl["texts"])


def test_canonical_url_drops_only_tracking_parameters():
    base = "http://www.diyifanwen.com/fanwen/x/30100001.html"
    for suffix in TRACKING_SUFFIXES:
        assert canonical_url(base + suffix) == base
    assert canonical_url(base + "?page=2&utm_source=wx&spm=1.2#top") == base + "?page=2"
    assert canonical_url("http://h/list.php?tid=3&from=share&id=9") == "http://h/list.php?tid=3&id=9"


def test_every_trap_crawl_finished_in_bounds(traps_crawl):
    assert traps_crawl["stats"]["finish_reason"] == "finished"
    assert traps_crawl["stats"]["downloader/request_count"] < 40
