"""Each shipped family profile crawls its replica over HTTP: every text archived, equal to what the page shows.

The replicas (replica/sites/{ruiwen,xuexila,liuxue86}.toml) are built to the
layouts of docs/site-families.md, "Family replicas"; the profiles are the shipped ones, only rebased to
the replica's origin (``--base-url``), as a user would point them at a mirror.
"""

from __future__ import annotations

import sqlite3

import pytest

from crawler.profiles import load_profile
from replica.process import replica_request_counts, running_replicas
from replica.site import load_site

from .conftest import run_fanwen

FAMILIES = ("ruiwen", "xuexila", "liuxue86")

# Phrases of each layout's chrome and boilerplate that must not reach a text.
BOILERPLATE = {
    "ruiwen": ("小编", "优秀文章", "Word文档", "下载文档", "推荐度", "您的位置", "相关推荐", "篇一", "篇二"),
    "xuexila": ("推荐阅读", "conten", "猜你喜欢", "上一篇", "下一篇", "热门文章", "当前位置"),
    "liuxue86": ("小编", "敬请关注", "未完", "提示信息", "热门关注", "扫码关注", "下一页"),
}


@pytest.fixture(scope="module")
def family_archive(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("families")
    archive = workdir / "archive.db"
    with running_replicas(FAMILIES) as urls:
        bases = [f"--base-url={site}={url}" for site, url in urls.items()]
        result = run_fanwen("crawl", *FAMILIES, "--archive", str(archive), *bases, "--delay", "0",
                            "--concurrency", "8", "-s", "LOG_LEVEL=WARNING", cwd=workdir, timeout=300)
        requests = {site: replica_request_counts(url) for site, url in urls.items()}
    return archive, result.stdout, requests


@pytest.fixture(scope="module", params=FAMILIES)
def family(request):
    return request.param


@pytest.fixture(scope="module")
def rows(family_archive, family):
    connection = sqlite3.connect(family_archive[0])
    connection.row_factory = sqlite3.Row
    found = {
        ("/" + row["url"].split("/", 3)[3], row["part"]): dict(row)
        for row in connection.execute("select * from texts where site = ?", [family])
    }
    connection.close()
    return found


def test_every_text_of_every_article_archived(rows, family):
    site = load_site(family)
    expected = {(a.path, part) for a in site.articles for part in range(1, len(a.expected_texts) + 1)}
    assert set(rows) == expected
    # the replica really has the shapes the family is known for
    if family in ("ruiwen", "liuxue86"):
        assert any(len(a.expected_texts) > 1 for a in site.articles)
    if family == "ruiwen":  # numbered "… 1", with a skipped number, and 篇一
        headings = [[p.heading for p in a.shape.parts] for a in site.articles if a.shape and a.shape.parts]
        assert any(h[-1].endswith(f" {len(h)}") for h in headings)
        assert any(h[2].endswith(" 4") for h in headings)
        assert any(h[0] == "篇一" for h in headings)
    if family == "liuxue86":
        continued = [a for a in site.articles if a.page_count > 1]
        assert continued and any(not a.page_paragraphs(a.page_count) for a in continued)


def test_texts_equal_what_the_pages_show(rows, family):
    site = load_site(family)
    mismatches = [
        (a.path, part)
        for a in site.articles
        for part, text in enumerate(a.expected_texts, start=1)
        if rows[(a.path, part)]["text"] != text
    ]
    assert mismatches == []


def test_metadata(rows, family):
    site = load_site(family)
    for article in site.articles:
        for part, title in enumerate(article.expected_titles, start=1):
            row = rows[(article.path, part)]
            assert (row["title"], row["published"], bool(row["truncated"])) == (
                title, article.published, article.truncated), article.path
            assert row["collection_title"] == (article.title if len(article.expected_texts) > 1 else None)
            assert row["category"] == article.category.name


def test_no_boilerplate(rows, family):
    # A phrase the text itself says (未完成, 上一篇 in a speech) is no leak
    # (docs/site-families.md, "Speech with boilerplate's words").
    site = load_site(family)
    expected = {(a.path, part): text for a in site.articles for part, text in enumerate(a.expected_texts, start=1)}
    leaked = {key: phrase for key, row in rows.items() for phrase in BOILERPLATE[family]
              if phrase in row["text"] and phrase not in expected[key]}
    assert leaked == {}


def test_gbk_and_bare_header_decoded(family_archive):
    connection = sqlite3.connect(family_archive[0])
    encodings = dict(connection.execute("select site, group_concat(distinct encoding) from texts group by site"))
    connection.close()
    assert encodings["ruiwen"].lower() in ("gbk", "gb18030")
    assert encodings["liuxue86"].lower() in ("utf-8", "utf8")


def test_fanwen_sites_lists_profiles_with_their_last_crawl(family_archive):
    result = run_fanwen("sites", "--archive", str(family_archive[0]))
    rows = {line.split("\t")[0]: line.split("\t") for line in result.stdout.splitlines()[1:]}
    assert {"huabo", "ruiwen", "xuexila", "liuxue86"} <= set(rows)
    name, display, domains, schedule, last, health = rows["ruiwen"]
    assert display == "瑞文网" and "www.ruiwen.com" in domains and "yjbys.com" in domains
    assert schedule == "40 2 * * *"
    assert "(finished," in last and f"{sum(len(a.expected_texts) for a in load_site('ruiwen').articles)} new" in last
    assert health == "ok"  # a first complete crawl: judged, and shown
    assert rows["huabo"][4] == "never" and rows["huabo"][5] == "-"  # not crawled into this archive


def test_politeness_and_robots(family_archive, family):
    """Each shipped profile is slow by default, obeys robots.txt, and has a schedule; the crawl asked robots.txt first."""
    profile = load_profile(family)
    assert profile.politeness.obey_robots and profile.politeness.download_delay >= 2.0
    assert profile.politeness.concurrency <= 2
    assert profile.schedule is not None
    requests = family_archive[2][family]
    assert requests.get("/robots.txt") == 1
    assert all(count == 1 for path, count in requests.items() if path != "/robots.txt"), "a page fetched twice"
