"""Run profile crawls in this process with Scrapy's ``CrawlerProcess``."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings


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
    process = CrawlerProcess(project_settings(archive, overrides))
    crawlers = {}
    for site in sites:
        crawler = process.create_crawler(site)
        crawlers[site] = crawler
        kwargs = {"base_url": base_urls[site]} if base_urls and site in base_urls else {}
        process.crawl(crawler, **kwargs)
    process.start()
    return {site: crawler.stats.get_stats() for site, crawler in crawlers.items()}
