"""Scrapy item pipelines: thin adapters from ``ArticleItem`` to the cleaning core and the archive."""

from __future__ import annotations

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.items import ArticleItem
from fanwen.archive import Archive, SaveCounts, TextToArchive

from .extraction import extract_texts


class NoTextFound(DropItem):
    """An article page that yielded no text after cleaning; the message says why."""


class ExtractTextsPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractTextsPipeline:
        return cls(crawler)

    def process_item(self, item: ArticleItem) -> ArticleItem:
        rules = self.crawler.spider.profile.extract
        result = extract_texts(item.pages, rules)
        if not result.texts:
            self.crawler.stats.inc_value(f"fanwen/no_text/{result.skipped}")
            raise NoTextFound(f"no text in {item.url}: {result.skipped}")
        item.texts = result.texts
        return item


class ArchiveTextsPipeline:
    """Writes texts to the archive in batches and records the crawl run."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.path = crawler.settings.get("FANWEN_ARCHIVE")
        self.batch_size = crawler.settings.getint("FANWEN_ARCHIVE_BATCH")
        self.pending: list[TextToArchive] = []
        self.counts = SaveCounts()
        self.archive: Archive | None = None
        self.run_id: int | None = None
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveTextsPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.archive = Archive(self.path)
        self.run_id = self.archive.start_run(self.crawler.spider.name)

    def process_item(self, item: ArticleItem) -> ArticleItem:
        self.pending.extend(TextToArchive(item.site, item.category, item.fetched_at, text) for text in item.texts)
        if len(self.pending) >= self.batch_size:
            self.flush()
        return item

    def flush(self) -> None:
        if self.pending and self.archive is not None:
            self.counts.add(self.archive.save_texts(self.pending))
            stats = self.crawler.stats
            stats.set_value("fanwen/texts_new", self.counts.new)
            stats.set_value("fanwen/texts_changed", self.counts.changed)
            stats.set_value("fanwen/texts_unchanged", self.counts.unchanged)
            self.pending.clear()

    def close_spider(self) -> None:
        self.flush()

    def spider_closed(self, spider: object, reason: str) -> None:
        if self.archive is None:
            return
        self.flush()
        stats = self.crawler.stats
        self.archive.finish_run(
            self.run_id,
            finish_reason=reason,
            pages_fetched=stats.get_value("response_received_count", 0),
            counts=self.counts,
            articles_without_text=stats.get_value("item_dropped_count", 0),
        )
        self.archive.close()
        self.archive = None
