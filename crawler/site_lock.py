"""One crawl of a site into an archive at a time, however the crawl was started.

`fanwen crawl`, `fanwen schedule`, `scrapy crawl` and a Scrapyd job all load this
extension (crawler/settings.py, and ``crawler.defaults.apply_defaults`` for a crawl
run with another settings module), so the site lock of ``archive.locks`` is taken
in one place.  It is taken when the spider opens, before the first request; a crawl
that finds it held is closed at once with the finish reason
``skipped: already_running (pid … on HOST since … Scrapyd job …)``, which
``CrawlRunLog`` records in ``crawl_runs`` and ``REFUSED_STAT`` repeats for `fanwen crawl`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, NotConfigured

from archive.database import SKIPPED_PREFIX
from archive.locks import ALREADY_RUNNING, HeldSiteLock, LockHolder, SiteBusy, take_site_lock
from crawler.extensions import CRAWL_RUN_ID_STAT

log = logging.getLogger(__name__)

# Set on a refused crawl: who holds the lock ("a crawl of SITE is already running (pid …)").
REFUSED_STAT = "fanwen/site_lock/refused"


def refusal_reason(holder: LockHolder) -> str:
    """The finish reason of a refused crawl.  "skipped: " keeps it out of the site's crawl history
    (``Archive.last_run_completed``, the health baseline), as the scheduler's skipped crawls are."""
    return f"{SKIPPED_PREFIX}{ALREADY_RUNNING} ({holder.describe()})"


def scrapyd_job(spider: Spider) -> str | None:
    """The Scrapyd job running this crawl: Scrapyd passes it as the ``_job`` spider argument
    (older versions also set ``SCRAPY_JOB`` in the environment)."""
    return getattr(spider, "_job", None) or os.environ.get("SCRAPY_JOB")


def refusal(stats: Mapping[str, Any]) -> str | None:
    """Why the crawl with these stats was refused, or None if it ran."""
    return stats.get(REFUSED_STAT)


class SiteLock:
    """Holds the crawled site's lock from spider_opened to spider_closed; refuses the crawl if it is held."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.held: HeldSiteLock | None = None
        self.refused = False
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteLock:
        if crawler.settings.get("FANWEN_REDIS_URL"):
            # The workers of a distributed crawl share a site by design and write no archive;
            # `fanwen ingest` is the one writer of what they fetch.
            raise NotConfigured("a distributed crawl worker takes no site lock")
        return cls(crawler)

    def spider_opened(self, spider: Spider) -> None:
        archive = self.crawler.settings.get("FANWEN_ARCHIVE")
        try:
            self.held = take_site_lock(archive, spider.name, job=scrapyd_job(spider))
        except SiteBusy as busy:
            self.refused = True
            self.crawler.stats.set_value(REFUSED_STAT, str(busy))
            log.error("%s: this crawl is refused and recorded as skipped; nothing is fetched", busy)
            raise CloseSpider(refusal_reason(busy.holder)) from None
        # Connected now, after every component connected its own: the lock is released only once
        # the crawl's record is complete, so a crawl that takes it next reads a finished history.
        self.crawler.signals.connect(self.release, signal=signals.spider_closed)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.refused:
            # A refused crawl is not a crawl of the site: the health monitor must not judge (and alert on)
            # its empty record.  CrawlRunLog still completes the row, by its own id.
            self.crawler.stats.set_value(CRAWL_RUN_ID_STAT, None)

    def release(self, spider: Spider) -> None:
        if self.held is not None:
            self.held.release()
            self.held = None
