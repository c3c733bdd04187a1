"""Writing fetched articles into the archive: raw pages to WARC at once, the index and texts in batches.

Used by the crawl's item pipeline and by ``fanwen ingest`` (the single writer
of a distributed crawl) alike.  WARC first, index second: a row in the archive
never points at a record that is not on disk.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from archive.database import Archive, ArticleToArchive, GonePage, PageToCapture, RejectedPage, SaveCounts, warc_directory
from archive.warc_store import WarcStore
from pipelines.decoding import decode_html
from pipelines.extraction import extract_or_report
from pipelines.rules import ExtractionRules
from records.crawl_items import ArticleGone, ArticleItem, ArticleNotModified, PageRejected

# A full disk, a full quota, or a file-size limit (RLIMIT_FSIZE): the archive cannot grow.
_NO_ROOM = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


class ArchiveDiskError(RuntimeError):
    """The archive could not be written for want of room; what was not yet indexed is dropped, not half-kept."""


def is_disk_problem(error: BaseException) -> bool:
    if isinstance(error, OSError) and error.errno in _NO_ROOM:
        return True
    # SQLite reports a full disk (or an EFBIG on its file) as SQLITE_FULL, sometimes as an I/O error.
    return isinstance(error, sqlite3.OperationalError) and any(
        phrase in str(error).lower() for phrase in ("disk is full", "disk i/o error"))


@dataclass(frozen=True)
class ItemOutcome:
    """What the archive makes of an item handed to the writer: stored, or an article stored without text (why)."""

    url: str
    no_text: str | None = None

    @classmethod
    def of(cls, item: ArticleItem | ArticleNotModified | PageRejected | ArticleGone) -> ItemOutcome:
        """The outcome of ``item`` as it stands: an article must have been cleaned."""
        if isinstance(item, ArticleItem) and not item.texts:
            return cls(item.url, item.skipped or "no_text")
        return cls(item.url)


class ArchiveWriter:
    def __init__(
        self,
        archive_path: str | Path,
        *,
        warc_prefix: str = "fanwen",
        batch_size: int = 200,
        forced_encoding: Callable[[str], str | None] = lambda site: None,
        clean_rules: ExtractionRules | None = None,
    ) -> None:
        self.archive = Archive(archive_path)
        self.warc = WarcStore(warc_directory(archive_path), prefix=warc_prefix)
        self.batch_size = batch_size
        self.idle_batch_size = max(1, batch_size // 4)  # smallest batch work_ahead writes early
        self.forced_encoding = forced_encoding
        self.clean_rules = clean_rules  # for articles handed over uncleaned (ArticleItem.clean_in_writer)
        self.pending: list[ArticleToArchive] = []
        self.not_modified: list[tuple[str, str, str]] = []
        self.counts = SaveCounts()
        self.rejected: list[RejectedPage] = []
        self.gone: list[GonePage] = []

    @contextmanager
    def _room_guard(self) -> Iterator[None]:
        """Turn a full disk into ``ArchiveDiskError``, dropping every article not yet indexed.

        Their WARC records may be cut or still in a write buffer that can no longer
        be written, so indexing them could point past the end of a file.  Dropped
        articles are not in the archive, so the next crawl fetches them again.
        """
        try:
            yield
        except Exception as error:
            if not is_disk_problem(error):
                raise
            for waiting in (self.pending, self.not_modified, self.rejected, self.gone):
                waiting.clear()
            self.warc.abandon()
            raise ArchiveDiskError(
                f"no room to write the archive at {self.archive.path} ({error}): the disk is full or a file "
                f"size limit was reached"
            ) from error

    def add(self, item: ArticleItem | ArticleNotModified | PageRejected | ArticleGone) -> ItemOutcome:
        """Take ``item`` in (cleaning an article handed over uncleaned); returns what the archive makes of it."""
        with self._room_guard():
            self._add(item)
        return ItemOutcome.of(item)

    def _add(self, item: ArticleItem | ArticleNotModified | PageRejected | ArticleGone) -> None:
        if isinstance(item, PageRejected):
            self.rejected.append(RejectedPage(item.site, item.url, item.reason, item.at, item.detail))
        elif isinstance(item, ArticleGone):
            self.gone.append(GonePage(item.site, item.url, item.status, item.at))
            self.rejected.append(RejectedPage(item.site, item.url, f"http_{item.status}", item.at))
        elif isinstance(item, ArticleNotModified):
            self.not_modified.append((item.site, item.url, item.fetched_at))
        else:
            if item.clean_in_writer:  # even a fetch stored already: what the archive makes of it needs its texts
                self._clean(item)
            if not self.archive.has_fetch(item.fetch_id):
                # Extraction hands over how it decoded each page; decode only when it did not (an item
                # from elsewhere, or one it stopped reading early).
                known = item.encodings if len(item.encodings) == len(item.pages) else [None] * len(item.pages)
                pages = [self._capture(item.site, page, encodings) for page, encodings in zip(item.pages, known)]
                self.pending.append(ArticleToArchive(item.site, item.category, pages, item.texts, item.fetch_id))
                if not item.texts:  # the capture is kept; the reason it is not a text is recorded
                    self.rejected.append(RejectedPage(item.site, item.url, item.skipped or "no_text", item.fetched_at))
        if len(self.pending) + len(self.not_modified) >= self.batch_size:
            self._flush()

    def _clean(self, item: ArticleItem) -> None:
        if self.clean_rules is None:
            raise ValueError(f"{item.url} was handed over uncleaned to a writer without cleaning rules")
        item.take_extraction(extract_or_report(item.pages, self.clean_rules))

    def work_ahead(self) -> bool:
        """Write a part-filled batch while nothing else waits, once it is worth a transaction; returns whether it did.

        So that the end of a crawl waits only for its last few items and the cluster refresh.
        """
        if len(self.pending) + len(self.not_modified) >= self.idle_batch_size:
            self.flush()
            return True
        return False

    def _capture(self, site: str, page, encodings: tuple[str | None, str] | None) -> PageToCapture:
        if encodings is None:
            decoded = decode_html(page.body, page.content_type, self.forced_encoding(site))
            encodings = (decoded.declared, decoded.encoding)
        return PageToCapture(page, self.warc.write_page(page), *encodings)

    def flush(self) -> None:
        with self._room_guard():
            self._flush()

    def _flush(self) -> None:
        self.warc.sync()
        if self.not_modified:
            self.counts.unchanged += self.archive.record_not_modified(self.not_modified)
            self.not_modified.clear()
        if self.pending:
            self.counts.add(self.archive.save_articles(self.pending))
            self.pending.clear()
        if self.rejected:
            self.archive.record_rejected(self.rejected)
            self.rejected.clear()
        if self.gone:
            self.archive.mark_gone(self.gone)
            self.gone.clear()

    def close(self) -> int | None:
        """Flush, refresh duplicate clusters if texts changed, close; returns the number of clusters."""
        try:
            with self._room_guard():
                self._flush()
                self.warc.close()
                # Texts a killed crawl saved but never clustered wait in the archive for the next refresh.
                if self.counts.new or self.counts.changed or self.archive.duplicates_pending():
                    return self.archive.refresh_duplicates()
                return None
        finally:
            self.warc.abandon()
            self.archive.close()
