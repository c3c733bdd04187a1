"""Run profile crawls in this process with Scrapy's ``CrawlerProcess``."""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings


class _GracefulOnSigtermCrawlerProcess(CrawlerProcess):
    """Scrapy's ``CrawlerProcess``, except that only a second Ctrl-C forces an unclean stop.

    One stop of a service may bring SIGTERM more than once: ``systemctl stop`` signals
    every process of the service and ``fanwen schedule run`` passes the stop on to its
    crawls.  Scrapy takes a second signal as "force", which stops the reactor before
    the archive is closed; a service manager escalates with SIGKILL after its own timeout.
    """

    def _signal_kill(self, signum: int, frame: Any) -> None:  # Scrapy's handler once stopping
        if signum == signal.SIGTERM:
            return
        super()._signal_kill(signum, frame)


def project_settings(archive: str | Path, overrides: Mapping[str, Any] | None = None):
    """The crawler/settings.py settings with the archive path and command-line overrides on top."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    settings = get_project_settings()
    settings.set("FANWEN_ARCHIVE", str(archive), priority="cmdline")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


def run_crawls(
    sites: Sequence[str],
    *,
    archive: str | Path,
    base_urls: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """Crawl each site into ``archive`` (concurrently, one reactor); return each crawl's Scrapy stats."""
    process = _GracefulOnSigtermCrawlerProcess(project_settings(archive, overrides))
    crawlers = {}
    for site in sites:
        crawler = process.create_crawler(site)
        crawlers[site] = crawler
        kwargs = {"base_url": base_urls[site]} if base_urls and site in base_urls else {}
        process.crawl(crawler, **kwargs)
    process.start()
    return {site: crawler.stats.get_stats() for site, crawler in crawlers.items()}
