"""Scrapy item pipelines: thin adapters from ``ArticleItem`` to the cleaning core and the archive."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, cast

from scrapy.core.engine import ExecutionEngine
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro

from archive.writer import ArchiveDiskError, ArchiveWriter, ItemOutcome
from archive.writer_process import ArchiveWriteError, ArchiveWriterProcess
from pipelines.extraction import extract_or_report
from records.crawl_items import ArticleItem, ArticleNotModified

if TYPE_CHECKING:
    from crawler.spiders.profile_spider import ProfileSpider

log = logging.getLogger(__name__)


# Where ArchiveTextsPipeline leaves its writer process on the crawler for ExtractTextsPipeline to ask.
ARCHIVE_WRITER_ATTRIBUTE = "fanwen_archive_writer"
# Items the archive took in, less articles without text: the crawl's progress shows it as articles archived.
ITEMS_ARCHIVED_STAT = "fanwen/items_archived"
# Where each article was cleaned: in the crawl's process, or handed to the archive writer
# process uncleaned (FANWEN_CLEAN_IN_WRITER); the split shows how busy the writer was.
CLEANED_IN_CRAWL_STAT = "fanwen/articles_cleaned_in_crawl"
CLEANED_IN_WRITER_STAT = "fanwen/articles_cleaned_in_writer"

# The finish reason of a crawl stopped because the archive could not be written.
DISK_FULL = "disk_full"
DISK_ERROR_STAT = "fanwen/disk_error"
# ... and because it failed otherwise (the writer process died, a bug).
ARCHIVE_ERROR = "archive_error"
ARCHIVE_ERROR_STAT = "fanwen/archive_error"


def profile_spider(crawler: Crawler) -> ProfileSpider:
    """The crawl's spider: every spider of this project is a ProfileSpider."""
    return cast("ProfileSpider", crawler.spider)


class NoTextFound(DropItem):
    """An article page that yielded no text after cleaning; the message says why."""


class ExtractTextsPipeline:
    """Runs the cleaning core; an article without text is kept (its capture is archived) and dropped later.

    Articles are cleaned a few at a time: up to ``FANWEN_EXTRACT_BATCH`` of them or
    ``FANWEN_EXTRACT_BATCH_BYTES`` of pages, whichever comes first, each waiting at
    most ``FANWEN_EXTRACT_WAIT`` seconds for the others.  Interleaved with Scrapy's
    work on every response, the cleaning core ran with cold caches; back to back it
    costs less per page (what that gains has no current figure:
    docs/benchmarks.md, "Settings with no current measurement").  Batch size 1 cleans each
    article as it comes.
    When the crawl has no request left in flight or waiting, no other article is on
    its way, so the batch is cleaned at once instead of waiting out the timer.

    The crawl's process is the busier of the two (Scrapy's own work is most of it), so
    a batch goes to the archive writer process uncleaned instead, for it to clean,
    while the writer has time for it (``ArchiveWriterProcess.takes_uncleaned``,
    ``FANWEN_CLEAN_IN_WRITER``).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.batch_size = max(1, settings.getint("FANWEN_EXTRACT_BATCH"))
        self.batch_bytes = settings.getint("FANWEN_EXTRACT_BATCH_BYTES")
        self.max_wait = settings.getfloat("FANWEN_EXTRACT_WAIT")
        self._batch: list[tuple[ArticleItem, asyncio.Future]] = []
        self._batch_bytes = 0
        self._timer: asyncio.TimerHandle | None = None
        self._engine: ExecutionEngine | None = None  # the crawl's, once it runs (open_spider)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractTextsPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self._engine = self.crawler.engine

    async def process_item(self, item: ArticleItem | ArticleNotModified) -> ArticleItem | ArticleNotModified:
        if self.batch_size == 1 or not isinstance(item, ArticleItem):
            return self._extract(item)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a reactor without asyncio (TWISTED_REACTOR set to another): one at a time
            return self._extract(item)
        cleaned = loop.create_future()
        self._batch.append((item, cleaned))
        # Bounded in bytes too: Scrapy stops handing responses over while their bodies
        # held by unfinished items pass SCRAPER_SLOT_MAX_ACTIVE_SIZE (5 MB).
        self._batch_bytes += sum(len(page.body) for page in item.pages)
        if len(self._batch) >= self.batch_size or self._batch_bytes >= self.batch_bytes or self._nothing_in_flight():
            self._clean_batch()
        elif self._timer is None:
            self._timer = loop.call_later(self.max_wait, self._clean_batch)
        return await cleaned

    def _nothing_in_flight(self) -> bool:
        """No request being downloaded, none scheduled: the end of a crawl, or a lull in a slow one."""
        engine = self._engine
        if engine is None or engine.downloader.active:
            return False
        # engine.scheduler is Scrapy 2.19's; before it the slot held the scheduler.  (Not `or`:
        # a scheduler with nothing queued is falsy.)
        scheduler = getattr(engine, "scheduler", None)
        if scheduler is None:
            scheduler = getattr(getattr(engine, "slot", None), "scheduler", None)
        return scheduler is not None and not scheduler.has_pending_requests()

    def _writer_has_time_for(self, articles: int) -> bool:
        writer: ArchiveWriterProcess | None = getattr(self.crawler, ARCHIVE_WRITER_ATTRIBUTE, None)
        if writer is None:
            return False
        try:
            return writer.takes_uncleaned(articles)
        except ArchiveWriteError:
            return False  # the writer failed: ArchiveTextsPipeline reports it with the next item

    def _clean_batch(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._batch, self._batch_bytes = self._batch, [], 0
        if self._writer_has_time_for(len(batch)):
            for item, cleaned in batch:
                if not cleaned.done():
                    item.clean_in_writer = True
                    cleaned.set_result(item)
                    self.crawler.stats.inc_value(CLEANED_IN_WRITER_STAT)
            return
        for item, cleaned in batch:
            if cleaned.done():  # cancelled: the crawl is being torn down
                continue
            try:
                cleaned.set_result(self._extract(item))
            except Exception as error:
                cleaned.set_exception(error)

    def _extract(self, item: ArticleItem | ArticleNotModified) -> ArticleItem | ArticleNotModified:
        if isinstance(item, ArticleItem):
            item.take_extraction(extract_or_report(item.pages, profile_spider(self.crawler).profile.extract))
            self.crawler.stats.inc_value(CLEANED_IN_CRAWL_STAT)
        return item


class ArchiveTextsPipeline:
    """Hands each article to the archive writer (WARC, captures, texts) and keeps the crawl stats.

    The writer runs in a process of its own unless ``FANWEN_WRITER_PROCESS`` is off.
    When it cannot write (a full disk, or any other failure) the crawl stops at
    once: fetching on would only fill memory and logs, and `fanwen crawl` fails loudly.

    The writer says what the archive makes of each item: at once, or (for an article it
    cleans itself) in a later acknowledgement.  An article without text is counted by
    reason and dropped once its capture is handed over; one known only later has passed
    the pipeline by then, so it is counted and logged as Scrapy logs a drop.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.writer: ArchiveWriter | ArchiveWriterProcess | None = None
        self._reported: tuple[int, int, int] | None = None  # the counts last written to the stats
        level = crawler.settings.get("DEFAULT_DROPITEM_LOG_LEVEL", "WARNING")
        level = logging.getLevelName(level.upper()) if isinstance(level, str) else level
        self._drop_log_level = level if isinstance(level, int) else logging.WARNING

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveTextsPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        spider, settings = profile_spider(self.crawler), self.crawler.settings
        encoding = spider.profile.extract.encoding
        archive, batch_size = settings.get("FANWEN_ARCHIVE"), settings.getint("FANWEN_ARCHIVE_BATCH")
        if settings.getbool("FANWEN_WRITER_PROCESS"):
            self.writer = ArchiveWriterProcess(
                archive, forced_encoding=encoding, clean_rules=spider.profile.extract,
                clean_backlog=settings.getint("FANWEN_CLEAN_IN_WRITER"), warc_prefix=spider.name, batch_size=batch_size)
            setattr(self.crawler, ARCHIVE_WRITER_ATTRIBUTE, self.writer)
        else:
            self.writer = ArchiveWriter(
                archive, forced_encoding=lambda site: encoding, warc_prefix=spider.name, batch_size=batch_size)

    def process_item(self, item: ArticleItem | ArticleNotModified) -> ArticleItem | ArticleNotModified:
        if self.writer is None:
            raise DropItem(f"not archived (the archive writer failed): {item.url}")
        try:
            outcome = self.writer.add(item)
        except (ArchiveWriteError, ArchiveDiskError) as error:
            self._stop(error)
            raise DropItem(f"not archived: {item.url}") from None
        self._update_stats()
        if outcome is not None:
            self._count(outcome)
            if outcome.no_text is not None:
                raise NoTextFound(f"no text in {outcome.url}: {outcome.no_text}")
        return item

    def _count(self, outcome: ItemOutcome) -> None:
        if outcome.no_text is None:
            self.crawler.stats.inc_value(ITEMS_ARCHIVED_STAT)
        else:
            self.crawler.stats.inc_value(f"fanwen/no_text/{outcome.no_text}")

    def _update_stats(self) -> None:
        if self.writer is None:
            return
        stats = self.crawler.stats
        if isinstance(self.writer, ArchiveWriterProcess):
            for outcome in self.writer.take_outcomes():
                self._count(outcome)
                if outcome.no_text is not None:
                    log.log(self._drop_log_level, "Dropped: no text in %s: %s", outcome.url, outcome.no_text)
        counts = self.writer.counts
        current = (counts.new, counts.changed, counts.unchanged)
        if current == self._reported:
            return  # the writer reports once per batch; a stats call costs more than this test
        self._reported = current
        stats.set_value("fanwen/texts_new", counts.new)
        stats.set_value("fanwen/texts_changed", counts.changed)
        stats.set_value("fanwen/texts_unchanged", counts.unchanged)

    def _stop(self, error: ArchiveWriteError | ArchiveDiskError, *, closing: bool = False) -> None:
        """Record why the archive cannot be written and end the crawl (unless it is ending already)."""
        disk_full = isinstance(error, ArchiveDiskError) or error.disk_full
        stat, reason = (DISK_ERROR_STAT, DISK_FULL) if disk_full else (ARCHIVE_ERROR_STAT, ARCHIVE_ERROR)
        self.crawler.stats.set_value(stat, str(error).splitlines()[0])
        log.error(
            "%s; stopping the crawl (the archive keeps only complete texts)", error)
        self._update_stats()
        self._forget_writer()
        if not closing:
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))

    def close_spider(self) -> None:
        if self.writer is None:
            return
        try:
            clusters = self.writer.close()
        except (ArchiveWriteError, ArchiveDiskError) as error:
            self._stop(error, closing=True)
            return
        self._update_stats()
        if clusters is not None:
            self.crawler.stats.set_value("fanwen/duplicate_clusters", clusters)
        self._forget_writer()

    def _forget_writer(self) -> None:
        self.writer = None
        setattr(self.crawler, ARCHIVE_WRITER_ATTRIBUTE, None)
