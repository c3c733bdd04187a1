"""Scrapy item pipelines: thin adapters from ``ArticleItem`` to the cleaning core and the archive."""

from __future__ import annotations

import logging

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro

from crawler.items import ArticleItem, ArticleNotModified
from fanwen.archive_writer import ArchiveDiskError, ArchiveWriter

from .extraction import extract_texts


# The finish reason of a crawl stopped because the archive could not be written.
DISK_FULL = "disk_full"
DISK_ERROR_STAT = "fanwen/disk_error"


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
        try:
            self.writer.add(item)
        except ArchiveDiskError as error:
            # Fetching on would only fill memory and logs: stop, and let `fanwen crawl` fail loudly.
            if self._record_disk_error(error):
                deferred_from_coro(self.crawler.engine.close_spider_async(reason=DISK_FULL))
        self._update_stats()
        count_without_text(self.crawler, item)
        return item

    def _update_stats(self) -> None:
        counts = self.writer.counts
        stats = self.crawler.stats
        stats.set_value("fanwen/texts_new", counts.new)
        stats.set_value("fanwen/texts_changed", counts.changed)
        stats.set_value("fanwen/texts_unchanged", counts.unchanged)

    def _record_disk_error(self, error: ArchiveDiskError) -> bool:
        """Log and keep the first disk error in the stats; False if one was recorded already."""
        if self.crawler.stats.get_value(DISK_ERROR_STAT):
            return False
        logging.getLogger("fanwen.archive").error("%s; stopping the crawl (the archive keeps only complete texts)", error)
        self.crawler.stats.set_value(DISK_ERROR_STAT, str(error))
        return True

    def close_spider(self) -> None:
        if self.writer is None:
            return
        try:
            clusters = self.writer.close()
        except ArchiveDiskError as error:
            self._record_disk_error(error)
            clusters = None
        self._update_stats()
        if clusters is not None:
            self.crawler.stats.set_value("fanwen/duplicate_clusters", clusters)
        self.writer = None
