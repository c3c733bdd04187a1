"""Crawl-level extensions: the crawl-run record in the archive, and crawl progress."""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter

from rich.console import Console
from rich.live import Live
from rich.table import Table
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from archive.database import Archive, CrawlRunSummary, SaveCounts


def errors_by_kind(stats: dict) -> dict[str, int]:
    """Group Scrapy's error counters into kinds a reader of the crawl history cares about."""
    kinds: Counter[str] = Counter()
    for key, value in stats.items():
        if key.startswith("downloader/exception_type_count/"):
            kinds["network:" + key.rsplit(".", 1)[-1]] += value
        elif key.startswith("downloader/response_status_count/") and not key.endswith(("/200", "/301", "/302", "/304")):
            kinds["http:" + key.rsplit("/", 1)[-1]] += value
        elif key.startswith("spider_exceptions/"):
            kinds["spider:" + key.rsplit("/", 1)[-1]] += value
        elif key.startswith("fanwen/no_text/"):
            kinds["no_text:" + key.rsplit("/", 1)[-1]] += value
        elif key.startswith("fanwen/rejected/"):
            kinds["rejected:" + key.rsplit("/", 1)[-1]] += value
    return dict(kinds)


def articles_without_text(stats: dict) -> int:
    """Articles whose pages held no text, whichever process cleaned them (fanwen/no_text/<reason>)."""
    return sum(value for key, value in stats.items() if key.startswith("fanwen/no_text/"))


log = logging.getLogger(__name__)
CRAWL_RUN_ID_STAT = "fanwen/crawl_run_id"


def _finish_reason(stats: dict, reason: str) -> str:
    """Scrapy's reason, unless the archive failed (a failure while closing leaves Scrapy's "finished")."""
    if stats.get("fanwen/disk_error"):
        return "disk_full"
    if stats.get("fanwen/archive_error"):
        return "archive_error"
    return reason


class CrawlRunLog:
    """Writes one ``crawl_runs`` row per crawl: opened when the spider opens, completed when it closes."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run_id: int | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunLog:
        return cls(crawler)

    def _archive(self) -> Archive:
        return Archive(self.crawler.settings.get("FANWEN_ARCHIVE"))

    def spider_opened(self, spider) -> None:
        with self._archive() as archive:
            self.run_id = archive.start_run(spider.name, self.crawler.settings.get("FANWEN_TRIGGER"))
        # The crawl's health monitor (crawler/health.py) stores its judgement on this row.
        self.crawler.stats.set_value(CRAWL_RUN_ID_STAT, self.run_id)

    def spider_closed(self, spider, reason: str) -> None:
        if self.run_id is None:
            return
        stats = self.crawler.stats.get_stats()
        summary = CrawlRunSummary(
            finish_reason=_finish_reason(stats, reason),
            pages_requested=stats.get("downloader/request_count", 0),
            pages_fetched=stats.get("response_received_count", 0),
            counts=SaveCounts(
                stats.get("fanwen/texts_new", 0), stats.get("fanwen/texts_changed", 0),
                stats.get("fanwen/texts_unchanged", 0),
            ),
            articles_without_text=articles_without_text(stats),
            articles_skipped_known=stats.get("fanwen/articles_skipped_known", 0),
            errors=errors_by_kind(stats),
        )
        with self._archive() as archive:
            archive.finish_run(self.run_id, summary)


class CrawlProgress:
    """Progress of a crawl: a live table on a terminal, a compact log line per interval otherwise.

    ``FANWEN_PROGRESS``: ``auto`` (live when stderr is a terminal), ``live``, ``log`` or ``off``;
    ``FANWEN_PROGRESS_INTERVAL``: seconds between log lines.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        mode = crawler.settings.get("FANWEN_PROGRESS")
        if mode == "auto":
            mode = "live" if sys.stderr.isatty() else "log"
        self.mode = mode
        self.interval = crawler.settings.getfloat("FANWEN_PROGRESS_INTERVAL")
        self.started = 0.0
        self.loop: task.LoopingCall | None = None
        self.live: Live | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlProgress:
        extension = cls(crawler)
        if extension.mode == "off":
            raise NotConfigured
        return extension

    def snapshot(self) -> dict[str, float]:
        stats = self.crawler.stats.get_stats()
        elapsed = max(time.monotonic() - self.started, 1e-9)
        fetched = stats.get("response_received_count", 0)
        return {
            "requested": stats.get("downloader/request_count", 0),
            "fetched": fetched,
            "new": stats.get("fanwen/texts_new", 0),
            "changed": stats.get("fanwen/texts_changed", 0),
            "archived": stats.get("fanwen/items_archived", 0),
            "skipped": stats.get("fanwen/articles_skipped_known", 0),
            "without_text": articles_without_text(stats),
            "errors": sum(errors_by_kind(stats).values()),
            "rate": fetched / elapsed,
            "elapsed": elapsed,
        }

    @property
    def _site(self) -> str:
        return self.crawler.spider.name if self.crawler.spider else ""

    def line(self) -> str:
        s = self.snapshot()
        minutes, seconds = divmod(int(s["elapsed"]), 60)
        return (
            f"{self._site}: {s['requested']} requested, {s['fetched']} fetched, "
            f"{s['archived']} articles archived ({s['new']} new texts, {s['changed']} changed), "
            f"{s['skipped']} skipped as known, {s['without_text']} without text, {s['errors']} errors, "
            f"{s['rate']:.1f} pages/s, {minutes:02d}:{seconds:02d} elapsed"
        )

    def table(self):
        s = self.snapshot()
        table = Table(title=f"crawling {self._site}", show_header=False, min_width=40)
        minutes, seconds = divmod(int(s["elapsed"]), 60)
        for label, value in (
            ("pages requested", s["requested"]), ("pages fetched", s["fetched"]),
            ("articles archived", s["archived"]), ("  new texts", s["new"]), ("  changed texts", s["changed"]),
            ("skipped (already archived)", s["skipped"]), ("articles without text", s["without_text"]),
            ("errors", s["errors"]), ("rate", f"{s['rate']:.1f} pages/s"),
            ("elapsed", f"{minutes:02d}:{seconds:02d}"),
        ):
            table.add_row(label, str(value))
        return table

    def tick(self) -> None:
        if self.live is not None:
            self.live.update(self.table())
        else:
            log.info(self.line())

    def spider_opened(self, spider) -> None:
        self.started = time.monotonic()
        if self.mode == "live":
            self.live = Live(self.table(), console=Console(stderr=True), refresh_per_second=4, transient=False)
            self.live.start()
            self.loop = task.LoopingCall(self.tick)
            self.loop.start(0.5, now=False)
        else:
            self.loop = loop = task.LoopingCall(self.tick)
            loop.start(self.interval, now=False)

    def spider_closed(self, spider, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.live is not None:
            self.live.update(self.table())
            self.live.stop()
            self.live = None
        else:
            log.info(self.line())
