"""Scrapy item pipelines: thin adapters from ``ArticleItem`` to the cleaning core and the archive."""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.items import ArticleItem, ArticleNotModified
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

    def process_item(self, item: ArticleItem | ArticleNotModified) -> ArticleItem | ArticleNotModified:
        if isinstance(item, ArticleNotModified):
            return item
        rules = self.crawler.spider.profile.extract
        result = extract_texts(item.pages, rules)
        if not result.texts:
            self.crawler.stats.inc_value(f"fanwen/no_text/{result.skipped}")
            raise NoTextFound(f"no text in {item.url}: {result.skipped}")
        item.texts = result.texts
        return item


class ArchiveTextsPipeline:
    """Writes texts to the archive in batches; counts new / changed / unchanged in the crawl stats."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.path = crawler.settings.get("FANWEN_ARCHIVE")
        self.batch_size = crawler.settings.getint("FANWEN_ARCHIVE_BATCH")
        self.pending: list[TextToArchive] = []
        self.not_modified: list[ArticleNotModified] = []
        self.counts = SaveCounts()
        self.archive: Archive | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveTextsPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.archive = Archive(self.path)

    def process_item(self, item: ArticleItem | ArticleNotModified) -> ArticleItem | ArticleNotModified:
        if isinstance(item, ArticleNotModified):
            self.not_modified.append(item)
            if len(self.not_modified) >= self.batch_size:
                self.flush()
            return item
        self.pending.extend(TextToArchive(item.site, item.category, item.fetched_at, text) for text in item.texts)
        if len(self.pending) >= self.batch_size:
            self.flush()
        return item

    def flush(self) -> None:
        if self.archive is None:
            return
        if self.not_modified:
            self.counts.unchanged += self.archive.touch_texts((item.url, item.fetched_at) for item in self.not_modified)
            self.crawler.stats.set_value("fanwen/texts_unchanged", self.counts.unchanged)
            self.not_modified.clear()
        if self.pending:
            self.counts.add(self.archive.save_texts(self.pending))
            stats = self.crawler.stats
            stats.set_value("fanwen/texts_new", self.counts.new)
            stats.set_value("fanwen/texts_changed", self.counts.changed)
            stats.set_value("fanwen/texts_unchanged", self.counts.unchanged)
            self.pending.clear()

    def close_spider(self) -> None:
        self.flush()
        if self.archive is not None:
            self.archive.close()
            self.archive = None
