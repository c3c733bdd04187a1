"""Scrapy item pipelines: thin adapters from ``ArticleItem`` to the cleaning core and the archive."""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.items import ArticleItem, ArticleNotModified
from fanwen.archive_writer import ArchiveWriter

from .extraction import extract_texts


class NoTextFound(DropItem):
    """An article page that yielded no text after cleaning; the message says why."""


class ExtractTextsPipeline:
    """Runs the cleaning core; an article without text is kept (its capture is archived) and dropped later."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractTextsPipeline:
        return cls(crawler)

    def process_item(self, item: ArticleItem | ArticleNotModified) -> ArticleItem | ArticleNotModified:
        if isinstance(item, ArticleItem):
            result = extract_texts(item.pages, self.crawler.spider.profile.extract)
            item.texts = result.texts
            item.skipped = result.skipped
        return item


def count_without_text(crawler: Crawler, item: ArticleItem | ArticleNotModified) -> None:
    """Drop (and count by reason) an article that yielded no text, once its capture is stored."""
    if isinstance(item, ArticleItem) and not item.texts:
        crawler.stats.inc_value(f"fanwen/no_text/{item.skipped}")
        raise NoTextFound(f"no text in {item.url}: {item.skipped}")


class ArchiveTextsPipeline:
    """Hands each article to the ``ArchiveWriter`` (WARC, captures, texts) and keeps the crawl stats."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.writer: ArchiveWriter | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveTextsPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.writer = ArchiveWriter(
            self.crawler.settings.get("FANWEN_ARCHIVE"),
            warc_prefix=spider.name,
            batch_size=self.crawler.settings.getint("FANWEN_ARCHIVE_BATCH"),
            forced_encoding=lambda site: spider.profile.extract.encoding,
        )

    def process_item(self, item: ArticleItem | ArticleNotModified) -> ArticleItem | ArticleNotModified:
        self.writer.add(item)
        self._update_stats()
        count_without_text(self.crawler, item)
        return item

    def _update_stats(self) -> None:
        counts = self.writer.counts
        stats = self.crawler.stats
        stats.set_value("fanwen/texts_new", counts.new)
        stats.set_value("fanwen/texts_changed", counts.changed)
        stats.set_value("fanwen/texts_unchanged", counts.unchanged)

    def close_spider(self) -> None:
        if self.writer is None:
            return
        clusters = self.writer.close()
        self._update_stats()
        if clusters is not None:
            self.crawler.stats.set_value("fanwen/duplicate_clusters", clusters)
        self.writer = None
