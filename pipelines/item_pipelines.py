"""Scrapy item pipelines: thin adapters from ``ArticleItem`` to the cleaning core and the archive."""

from __future__ import annotations

from pathlib import Path

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.items import ArticleItem, ArticleNotModified
from fanwen.archive import Archive, ArticleToArchive, PageToCapture, SaveCounts, warc_directory
from fanwen.warc_store import WarcStore

from .decoding import decode_html
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
        if isinstance(item, ArticleNotModified):
            return item
        result = extract_texts(item.pages, self.crawler.spider.profile.extract)
        item.texts = result.texts
        item.skipped = result.skipped
        return item


class ArchiveTextsPipeline:
    """Writes every page to WARC at once, then indexes captures and saves texts in batched transactions.

    WARC first, index second: a row in the archive never points at a record
    that is not on disk.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.path = Path(crawler.settings.get("FANWEN_ARCHIVE"))
        self.batch_size = crawler.settings.getint("FANWEN_ARCHIVE_BATCH")
        self.pending: list[ArticleToArchive] = []
        self.not_modified: list[tuple[str, str, str]] = []
        self.counts = SaveCounts()
        self.archive: Archive | None = None
        self.warc: WarcStore | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveTextsPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.archive = Archive(self.path)
        self.warc = WarcStore(warc_directory(self.path), prefix=self.crawler.spider.name)

    def process_item(self, item: ArticleItem | ArticleNotModified) -> ArticleItem | ArticleNotModified:
        if isinstance(item, ArticleNotModified):
            self.not_modified.append((item.site, item.url, item.fetched_at))
        else:
            self.pending.append(ArticleToArchive(item.site, item.category, self._capture(item), item.texts))
        if len(self.pending) + len(self.not_modified) >= self.batch_size:
            self.flush()
        if isinstance(item, ArticleItem) and not item.texts:
            self.crawler.stats.inc_value(f"fanwen/no_text/{item.skipped}")
            raise NoTextFound(f"no text in {item.url}: {item.skipped}")
        return item

    def _capture(self, item: ArticleItem) -> list[PageToCapture]:
        captured = []
        for page in item.pages:
            decoded = decode_html(page.body, page.content_type, self.crawler.spider.profile.extract.encoding)
            captured.append(PageToCapture(page, self.warc.write_page(page), decoded.declared, decoded.encoding))
        return captured

    def flush(self) -> None:
        if self.archive is None:
            return
        self.warc.sync()
        if self.not_modified:
            self.counts.unchanged += self.archive.record_not_modified(self.not_modified)
            self.not_modified.clear()
        if self.pending:
            self.counts.add(self.archive.save_articles(self.pending))
            self.pending.clear()
        stats = self.crawler.stats
        stats.set_value("fanwen/texts_new", self.counts.new)
        stats.set_value("fanwen/texts_changed", self.counts.changed)
        stats.set_value("fanwen/texts_unchanged", self.counts.unchanged)

    def close_spider(self) -> None:
        self.flush()
        if self.warc is not None:
            self.warc.close()
        if self.archive is not None:
            if self.counts.new or self.counts.changed:
                clusters = self.archive.refresh_duplicates()
                self.crawler.stats.set_value("fanwen/duplicate_clusters", clusters)
            self.archive.close()
            self.archive = None
