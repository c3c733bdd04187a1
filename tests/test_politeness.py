"""The pace a site asks for, measured where the site sees it: when each request arrives at the replica.

Replica site A's robots.txt says ``Crawl-delay: 1``; the replica's throttle control makes one
request answer 429 with ``Retry-After``.  Both must pace every request to the host.
"""

from __future__ import annotations

import json
import urllib.request
from itertools import pairwise
from pathlib import Path

import pytest

from crawler.politeness import crawl_delay_stat
from replica.process import running_replicas
from tests.replica_crawl import REPO, crawl

CRAWL_DELAY = 1.0  # replica/sites/huabo.toml
RETRY_AFTER = 2


def arrivals(base_url: str) -> list[tuple[float, str]]:
    """(monotonic time, target) of every request the replica received, in order."""
    with urllib.request.urlopen(f"{base_url}__replica__/arrivals", timeout=10) as response:
        return [(when, target) for when, target in json.load(response)]


def throttle(base_url: str, after: int, retry_after: int) -> int:
    """Make the replica's ``after``-th request from now answer 429; returns its index in ``arrivals``."""
    request = urllib.request.Request(
        f"{base_url}__replica__/throttle?after={after}&retry_after={retry_after}", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["arrival"]


def unhurried_profile(directory: Path) -> Path:
    """The huabo profile renamed, with no delay of its own and four requests at a time."""
    text = (REPO / "crawler" / "profiles" / "huabo.toml").read_text(encoding="utf-8")
    text = text.replace('name = "huabo"', 'name = "huabo_unhurried"', 1)
    text = text.replace("download_delay = 2.0", "download_delay = 0", 1).replace("concurrency = 2", "concurrency = 4", 1)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "huabo_unhurried.toml").write_text(text, encoding="utf-8")
    return directory


@pytest.fixture()
def replica():
    """A replica of its own: its arrivals are this test's crawl's alone."""
    with running_replicas(["huabo"]) as urls:
        yield urls["huabo"]


def test_robots_crawl_delay_paces_the_host_when_longer_than_the_profiles_delay(replica, tmp_path):
    # A stopping crawl still sends what it queued, a second apart: two at most (CONCURRENT_REQUESTS).
    stats = crawl("huabo_unhurried", replica, tmp_path / "archive.db", unhurried_profile(tmp_path / "profiles"),
                  DOWNLOAD_DELAY=None, CONCURRENT_REQUESTS_PER_DOMAIN=None, CONCURRENT_REQUESTS=2,
                  CLOSESPIDER_PAGECOUNT=5)
    times = [when for when, _ in arrivals(replica)]
    gaps = [later - earlier for earlier, later in pairwise(times)]
    assert len(times) >= 6
    # robots.txt first, then one request a second, although the profile allows four at once without delay.
    assert min(gaps) >= CRAWL_DELAY - 0.05, gaps
    assert stats[crawl_delay_stat("127.0.0.1")] == CRAWL_DELAY


def test_a_delay_given_for_the_crawl_is_kept(replica, tmp_path):
    stats = crawl("huabo", replica, tmp_path / "archive.db", CLOSESPIDER_PAGECOUNT=10)  # DOWNLOAD_DELAY=0 given
    times = [when for when, _ in arrivals(replica)]
    assert times[-1] - times[0] < CRAWL_DELAY * 3
    assert crawl_delay_stat("127.0.0.1") not in stats


def test_retry_after_holds_back_every_request_to_the_host(tmp_path):
    # Slow answers (0.1 s), four at a time, 50 ms apart: while one request waits out its
    # Retry-After, the crawl has plenty of others to send to the host.  (Without a delay,
    # Scrapy hands a host's whole queue to the network at once, before a 429 can stop it.)
    with running_replicas(["huabo"], latency=0.1) as urls:
        replica = urls["huabo"]
        throttled = throttle(replica, after=8, retry_after=RETRY_AFTER)
        stats = crawl("huabo", replica, tmp_path / "archive.db", DOWNLOAD_DELAY=0.05, DOWNLOAD_DELAY_JITTER=0,
                      CONCURRENT_REQUESTS_PER_DOMAIN=4, CLOSESPIDER_PAGECOUNT=40)
        seen = arrivals(replica)
    answered_429 = seen[throttled][0]
    after = [when - answered_429 for when, _ in seen[throttled + 1:]]
    # Sent before the crawl read the 429 (it comes at once, without the replica's latency): one at most.
    assert sum(1 for offset in after if offset <= 0.25) <= 1, after[:10]
    # Then nothing, the retry included (it waits too), until Retry-After has passed; then the crawl goes on.
    held_back = [offset for offset in after if offset > 0.25]
    assert len(held_back) > 10 and min(held_back) >= RETRY_AFTER - 0.05, after[:10]
    assert stats["retry/host_held_seconds"] == pytest.approx(RETRY_AFTER, abs=0.1)
    assert stats["downloader/response_status_count/429"] == 1
