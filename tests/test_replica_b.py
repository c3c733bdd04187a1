"""Replica site B (第一范文网-style DedeCMS, GBK) crawled end to end over HTTP, and its encoding variants.

Every archived text must equal what the replica shows, multi-page articles
merged in reading order; each encoding case (docs/site-families.md, "Encodings and charset quirks")
decodes to the right characters (docs/reliability.md, "Encodings").
"""

from __future__ import annotations

import http.client
import json
import sqlite3
from urllib.parse import urlsplit

import pytest

from replica.dedecms import GBK_ONLY_PARAGRAPH
from replica.process import replica_request_counts, running_replicas
from replica.site import load_site
from tests.replica_crawl import crawl

SITE = load_site("diyifanwen")


@pytest.fixture(scope="module")
def replica_b():
    with running_replicas(["diyifanwen"]) as urls:
        yield urls["diyifanwen"]


@pytest.fixture(scope="module")
def crawled(replica_b, tmp_path_factory):
    archive = tmp_path_factory.mktemp("replica_b") / "archive.db"
    stats = crawl("diyifanwen", replica_b, archive)
    connection = sqlite3.connect(archive)
    connection.row_factory = sqlite3.Row
    rows = {urlsplit(row["url"]).path: dict(row) for row in connection.execute("select * from texts")}
    captures = [dict(row) for row in connection.execute("select * from captures")]
    connection.close()
    return {"stats": stats, "rows": rows, "captures": captures, "requests": replica_request_counts(replica_b)}


def article_at(position: int):
    return sorted(SITE.articles, key=lambda a: a.id)[position]


def variant_article(variant: str):
    positions = {v: int(k) for k, v in SITE.definition.layout_options["encoding_variants"].items()}
    return article_at(positions[variant])


def test_replica_has_enough_articles_and_variants():
    assert len(SITE.articles) >= 60
    assert len(SITE.definition.layout_options["encoding_variants"]) == 7
    assert {SITE.layout_of(a).variant for a in SITE.articles} >= {
        "meta_only", "header_and_meta_agree", "header_disagrees", "malformed_meta", "gbk_only_characters",
        "utf8_bom", "undeclared"}


def test_every_article_archived_exactly_as_the_replica_shows_it(crawled):
    rows = crawled["rows"]
    assert sorted(rows) == sorted(a.path for a in SITE.articles)
    mismatches = [a.path for a in SITE.articles if rows[a.path]["text"] != a.expected_text]
    assert mismatches == []
    for article in SITE.articles:
        row = rows[article.path]
        assert (row["title"], row["published"], row["category"]) == (article.title, article.published, article.category.name)


def test_multipage_articles_merged_in_reading_order(crawled):
    kinds = {int(k): v for k, v in SITE.definition.layout_options["multipage"].items()}
    assert set(kinds.values()) == {"normal", "empty_page_2", "looping_pager"}
    for position, kind in kinds.items():
        article = article_at(position)
        layout = SITE.layout_of(article)
        assert len(layout.pages) == 3
        assert crawled["rows"][article.path]["text"] == "\n".join(p for page in layout.pages for p in page)
        pages = [c for c in crawled["captures"] if urlsplit(c["article_url"]).path == article.path]
        assert [urlsplit(c["url"]).path for c in sorted(pages, key=lambda c: c["page"])] == [
            SITE.page_url(article, n) for n in (1, 2, 3)]
        if kind == "empty_page_2":
            assert layout.pages[1] == ()
        if kind == "looping_pager":
            # page 3 links back to page 2: each page is fetched once, then the article ends
            for n in (2, 3):
                assert crawled["requests"][SITE.page_url(article, n)] == 1


def test_hidden_text_ad_slots_and_white_font_junk_left_out(crawled):
    for phrase in ("第一范文网原创", "第一范文网推荐", "www.diyifanwen.com", "打印本文", "相关文章", "下一页"):
        assert [p for p, row in crawled["rows"].items() if phrase in row["text"]] == [], phrase


def test_old_htm_url_answers_301_and_is_archived_under_the_new_url(crawled):
    article = article_at(int(SITE.definition.layout_options["old_url"]))
    old = SITE.old_path(article)
    assert crawled["requests"][old] == 1
    [capture] = [c for c in crawled["captures"] if urlsplit(c["url"]).path == article.path]
    assert urlsplit(capture["requested_url"]).path == old
    assert crawled["rows"][article.path]["text"] == article.expected_text


def test_list_tid_channel_walked_to_its_last_page(crawled):
    pages = SITE.list_pages("jianghuagao")
    assert pages >= 2
    for page in range(2, pages + 1):
        assert crawled["requests"][f"/fanwen/jianghuagao/list_12_{page}.html"] == 1


def test_robots_txt_is_dedecms_default_and_its_disallow_is_obeyed(replica_b, crawled):
    connection = http.client.HTTPConnection(urlsplit(replica_b).netloc, timeout=10)
    connection.request("GET", "/robots.txt")
    body = connection.getresponse().read()
    assert body.startswith(b"User-agent: * \r\n") and b"Disallow: /fanwen/neibu/\r\n" in body
    assert crawled["stats"]["robotstxt/forbidden"] >= 1
    assert not [target for target in crawled["requests"] if target.startswith("/fanwen/neibu/")]
    connection.request("GET", "/sitemap.html")  # no XML sitemap: a GBK 网站地图 page
    assert "网站地图".encode("gb18030") in connection.getresponse().read()


def test_mobile_host_is_utf8_with_canonical_to_desktop(replica_b):
    article = article_at(20)
    connection = http.client.HTTPConnection(urlsplit(replica_b).netloc, timeout=10)
    connection.request("GET", article.path, headers={"Host": "m.diyifanwen.test"})
    response = connection.getresponse()
    page = response.read().decode("utf-8")
    assert response.status == 200 and "charset=utf-8" in response.getheader("Content-Type")
    assert f'<link rel="canonical" href="http://www.diyifanwen.test{article.path}" />' in page
    assert all(paragraph in page for paragraph in article.shown)


# -- encodings (docs/site-families.md, "Encodings and charset quirks") ------------------------

# variant -> (what the capture records as declared, the codec that decoded it)
EXPECTED_DECODING = {
    "meta_only": ("gb18030", "gb18030"),
    "header_and_meta_agree": ("gb18030", "gb18030"),
    "header_disagrees": ("utf-8", "gb18030"),  # the header's utf-8 fails on GBK bytes; <meta> gbk wins
    "malformed_meta": ("gb18030", "gb18030"),  # <meta httpequiv="ContentType" ...>
    "gbk_only_characters": ("gb18030", "gb18030"),  # declared gb2312, read as its superset
    "utf8_bom": ("utf-8", "utf-8"),  # the BOM beats the header's gbk
    "undeclared": (None, "gb18030"),
}


@pytest.mark.parametrize("variant", sorted(EXPECTED_DECODING))
def test_encoding_variant_decodes_to_the_exact_text(crawled, replica_b, variant):
    article = variant_article(variant)
    assert crawled["rows"][article.path]["text"] == article.expected_text
    [capture] = [c for c in crawled["captures"] if urlsplit(c["url"]).path == article.path]
    assert (capture["declared_encoding"], capture["detected_encoding"]) == EXPECTED_DECODING[variant]
    headers = dict(json.loads(capture["headers"]))
    assert headers["Content-Type"] == {
        "header_and_meta_agree": "text/html; charset=gbk", "header_disagrees": "text/html; charset=utf-8",
        "utf8_bom": "text/html; charset=gbk"}.get(variant, "text/html")


def test_gbk_only_characters_survive_a_gb2312_declaration(crawled):
    article = variant_article("gbk_only_characters")
    text = crawled["rows"][article.path]["text"]
    assert GBK_ONLY_PARAGRAPH in text and all(char in text for char in "镕堃喆")
