"""Bad content and HTTP faults served by replica site B over real HTTP (docs/reliability.md).

None of them becomes an empty or garbage text; each is counted in the crawl's
stats and crawl_runs row and recorded in rejected_pages with its reason.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import quote, urlsplit

import pytest

from crawler.middlewares import retry_after_seconds
from crawler.urls import redirect_refusal
from replica.faults import FAULTS, fault_path
from replica.process import replica_request_counts, running_replicas
from replica.site import load_site
from tests.replica_crawl import REPO, channel_profile, crawl

SITE = load_site("diyifanwen")
SETTINGS = {"DOWNLOAD_TIMEOUT": 2, "DOWNLOAD_MAXSIZE": 1024 * 1024, "RETRY_TIMES": 2, "RETRY_BACKOFF_BASE": 0.1}


def read(archive, query, *args):
    connection = sqlite3.connect(archive)
    try:
        return connection.execute(query, args).fetchall()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def faults_crawl(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("faults")
    channel_profile(workdir / "profiles", "diyifanwen_faults", "guzhang")
    archive = workdir / "archive.db"
    with running_replicas(["diyifanwen"]) as urls:
        base = urls["diyifanwen"]
        stats = crawl("diyifanwen_faults", base, archive, workdir / "profiles", **SETTINGS)
        first_requests = replica_request_counts(base)
        texts_before = dict(read(archive, "select url, text from texts"))
        rejected = read(archive, "select url, reason from rejected_pages order by id")
        # The site deletes two archived articles; a refresh crawl finds them gone.
        for name, status in (("good", 410), ("good_2", 404)):
            urllib.request.urlopen(urllib.request.Request(
                f"{base}__replica__/gone?path={quote(fault_path(name))}&status={status}", method="POST"), timeout=10)
        refresh_stats = crawl("diyifanwen_faults", base, archive, workdir / "profiles", FANWEN_REFRESH=True, **SETTINGS)
    return {"archive": archive, "stats": stats, "requests": first_requests, "texts_before": texts_before, "rejected": rejected,
            "refresh_stats": refresh_stats, "base": base}


def rejected_reasons(crawl_result) -> dict[str, list[str]]:
    """fault name -> reasons recorded for its URL (in the first crawl)."""
    rows = crawl_result["rejected"]
    by_path: dict[str, list[str]] = {}
    for url, reason in rows:
        by_path.setdefault(urlsplit(url).path, []).append(reason)
    return {name: by_path.get(fault_path(name), []) for name in FAULTS}


def text_paths(archive) -> set[str]:
    return {urlsplit(url).path for (url,) in read(archive, "select url from texts")}


CONTENT_FAULTS = {
    "empty_body": "empty_body",
    "pdf_as_html": "not_text",
    "oversize": "too_large",
    "anti_bot": "anti_bot",
    "javascript_only": "javascript_only",
    "empty_after_cleaning": "empty_after_cleaning",
    "mojibake": "mojibake",
}


@pytest.mark.parametrize("fault", sorted(CONTENT_FAULTS))
def test_bad_content_is_recorded_with_its_reason_and_never_archived_as_text(faults_crawl, fault):
    reason = CONTENT_FAULTS[fault]
    assert rejected_reasons(faults_crawl)[fault][0] == reason
    assert fault_path(fault) not in text_paths(faults_crawl["archive"])
    stats = faults_crawl["stats"]
    assert stats.get(f"fanwen/no_text/{reason}", 0) + stats.get(f"fanwen/rejected/{reason}", 0) == 1
    [(errors,)] = read(faults_crawl["archive"], "select errors from crawl_runs order by id limit 1")
    assert json.loads(errors).get(f"no_text:{reason}", 0) + json.loads(errors).get(f"rejected:{reason}", 0) == 1


def test_no_text_is_empty_or_garbled(faults_crawl):
    for (text,) in read(faults_crawl["archive"], "select text from texts"):
        assert len(text) > 200 and "\ufffd" not in text


def test_only_the_healthy_and_healed_pages_became_texts(faults_crawl):
    assert text_paths(faults_crawl["archive"]) == {
        fault_path(name) for name in ("good", "good_2", "http_502_then_ok", "http_503_retry_after_then_ok")}
    assert faults_crawl["texts_before"][next(u for u in faults_crawl["texts_before"] if fault_path("good") in u)] \
        == SITE.articles[0].expected_text


HTTP_FAULTS = {
    # fault -> (reason recorded, requests the server saw: the first try plus RETRY_TIMES retries where retried)
    "http_404": ("http_404", 1),
    "http_410": ("http_410", 1),
    "http_500": ("http_500", 3),
    "http_429_retry_after": ("http_429", 3),
    "timeout": ("timeout", 3),
    "redirect_loop": ("redirect_loop", 1),
    "redirect_other_domain": ("redirect_offsite", 1),
    "redirect_not_http": ("redirect_not_http", 1),
}


@pytest.mark.parametrize("fault", sorted(HTTP_FAULTS))
def test_http_fault_is_retried_as_due_then_recorded(faults_crawl, fault):
    reason, requests = HTTP_FAULTS[fault]
    assert rejected_reasons(faults_crawl)[fault] == [reason]
    assert faults_crawl["requests"][fault_path(fault)] == requests
    assert faults_crawl["stats"][f"fanwen/rejected/{reason}"] == 1


def test_connection_reset_is_retried_then_recorded(faults_crawl):
    assert rejected_reasons(faults_crawl)["connection_reset"] == ["connection_lost"]
    assert faults_crawl["requests"][fault_path("connection_reset")] >= 3


def test_transient_errors_heal_within_the_retries(faults_crawl):
    assert faults_crawl["requests"][fault_path("http_502_then_ok")] == 3
    assert faults_crawl["requests"][fault_path("http_503_retry_after_then_ok")] == 2
    reasons = rejected_reasons(faults_crawl)
    assert reasons["http_502_then_ok"] == [] and reasons["http_503_retry_after_then_ok"] == []


def test_retries_wait_as_retry_after_says(faults_crawl):
    # 503 once and 429 twice with Retry-After: 1, plus short backoffs for the others
    assert faults_crawl["stats"]["retry/waited_seconds"] >= 3


def test_redirects_off_site_or_off_http_are_not_followed(faults_crawl):
    assert not any(path.startswith("ftp") for path in faults_crawl["requests"])
    details = dict(read(faults_crawl["archive"], "select reason, detail from rejected_pages where reason like 'redirect_%'"))
    assert "-> http://localhost:" in details["redirect_offsite"]
    assert details["redirect_not_http"].endswith("-> ftp://files.example.com/fanwen.doc")


def test_a_deleted_article_keeps_its_text_and_is_marked_gone(faults_crawl):
    archive = faults_crawl["archive"]
    gone = {urlsplit(url).path: status for url, status in read(archive, "select url, status from gone_pages")}
    assert gone[fault_path("good")] == 410 and gone[fault_path("good_2")] == 404
    assert dict(read(archive, "select url, text from texts")) == faults_crawl["texts_before"]
    assert faults_crawl["refresh_stats"]["fanwen/gone"] >= 2


def test_redirect_refusal_rules():
    assert redirect_refusal("http://www.example.com/a", "http://127.0.0.1/admin") == "redirect_to_private"
    assert redirect_refusal("http://www.example.com/a", "http://10.0.0.8/") == "redirect_to_private"
    assert redirect_refusal("http://www.example.com/a", "http://[::1]:8080/") == "redirect_to_private"
    assert redirect_refusal("http://www.example.com/a", "http://localhost/") == "redirect_to_private"
    assert redirect_refusal("http://www.example.com/a", "http://169.254.169.254/latest/meta-data") == "redirect_to_private"
    assert redirect_refusal("http://127.0.0.1:8373/a", "http://127.0.0.1:8373/b") is None  # private to private
    assert redirect_refusal("http://www.example.com/a", "https://www.example.com/b") is None
    assert redirect_refusal("http://www.example.com/a", "javascript:alert(1)") == "redirect_not_http"
    assert redirect_refusal("http://www.example.com/a", "http://www.example.com/b", ["http://www.example.com/b"]) \
        == "redirect_loop"


def test_retry_after_header_forms():
    now = datetime(2024, 1, 1, tzinfo=UTC)
    assert retry_after_seconds(b"120") == 120
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True).encode(), now) == 30
    assert retry_after_seconds(b"soon") is None and retry_after_seconds(None) is None


def test_rejected_and_gone_records_survive_the_distributed_item_codec():
    from records.crawl_items import ArticleGone, PageRejected
    from records.item_codec import decode_item, encode_item

    rejected = PageRejected("diyifanwen", "http://h/fanwen/a/1.html", "timeout", "2024-01-01T00:00:00+00:00", "took 2 s")
    gone = ArticleGone("diyifanwen", "http://h/fanwen/a/2.html", 410, "2024-01-01T00:00:00+00:00")
    assert decode_item(encode_item(rejected)) == rejected
    assert decode_item(encode_item(gone)) == gone


PROXY_PROBE = """
import json, sys
import scrapy
from scrapy.crawler import CrawlerProcess
from fanwen.crawl import project_settings

url, proxy, archive = sys.argv[1:4]
outcome = {}

class Probe(scrapy.Spider):
    name = "probe"

    async def start(self):
        yield scrapy.Request(url, callback=self.arrived, errback=self.refused, meta={"proxy": proxy})

    def arrived(self, response):
        outcome.update(result="followed", url=response.url)

    def refused(self, failure):
        outcome.update(result="refused", why=str(failure.value))

process = CrawlerProcess(project_settings(archive, {
    "ITEM_PIPELINES": {}, "EXTENSIONS": {"scrapy.extensions.telnet.TelnetConsole": None}, "ROBOTSTXT_OBEY": False,
    "LOG_LEVEL": "WARNING", "FANWEN_PROGRESS": "off",
}))
process.crawl(Probe)
process.start()
print(json.dumps(outcome))
"""


def test_a_public_site_cannot_redirect_the_crawler_into_its_own_network(tmp_path):
    from replica.faults import PRIVATE_REDIRECT, PRIVATE_TARGET

    with running_replicas(["diyifanwen"]) as urls:
        # The replica poses as the public www.diyifanwen.com: the probe reaches it through an HTTP proxy,
        # so the redirect comes from a public host, over real HTTP, to a loopback address.
        proxy = urls["diyifanwen"].rstrip("/")
        probe = subprocess.run(
            [sys.executable, "-c", PROXY_PROBE, f"http://www.diyifanwen.com{PRIVATE_REDIRECT}", proxy,
             str(tmp_path / "archive.db")],
            cwd=REPO, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert probe.returncode == 0, probe.stderr[-3000:]
        outcome = json.loads(probe.stdout.strip().splitlines()[-1])
        served = replica_request_counts(urls["diyifanwen"])
    assert outcome["result"] == "refused" and outcome["why"].startswith("redirect_to_private"), outcome
    assert PRIVATE_TARGET in outcome["why"]
    assert served.get(f"http://www.diyifanwen.com{PRIVATE_REDIRECT}") == 1  # the one request, via the proxy
