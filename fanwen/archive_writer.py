"""Writing fetched articles into the archive: raw pages to WARC at once, the index and texts in batches.

Used by the crawl's item pipeline and by ``fanwen ingest`` (the single writer
of a distributed crawl) alike.  WARC first, index second: a row in the archive
never points at a record that is not on disk.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from crawler.items import ArticleItem, ArticleNotModified
from pipelines.decoding import decode_html

from .archive import Archive, ArticleToArchive, PageToCapture, SaveCounts, warc_directory
from .warc_store import WarcStore


class ArchiveWriter:
    def __init__(
        self,
        archive_path: str | Path,
        *,
        warc_prefix: str = "fanwen",
        batch_size: int = 200,
        forced_encoding: Callable[[str], str | None] = lambda site: None,
    ) -> None:
        self.archive = Archive(archive_path)
        self.warc = WarcStore(warc_directory(archive_path), prefix=warc_prefix)
        self.batch_size = batch_size
        self.forced_encoding = forced_encoding
        self.pending: list[ArticleToArchive] = []
        self.not_modified: list[tuple[str, str, str]] = []
        self.counts = SaveCounts()

    def add(self, item: ArticleItem | ArticleNotModified) -> None:
        if isinstance(item, ArticleNotModified):
            self.not_modified.append((item.site, item.url, item.fetched_at))
        elif not self.archive.has_fetch(item.fetch_id):
            pages = [self._capture(item.site, page) for page in item.pages]
            self.pending.append(ArticleToArchive(item.site, item.category, pages, item.texts, item.fetch_id))
        if len(self.pending) + len(self.not_modified) >= self.batch_size:
            self.flush()

    def _capture(self, site: str, page) -> PageToCapture:
        decoded = decode_html(page.body, page.content_type, self.forced_encoding(site))
        return PageToCapture(page, self.warc.write_page(page), decoded.declared, decoded.encoding)

    def flush(self) -> None:
        self.warc.sync()
        if self.not_modified:
            self.counts.unchanged += self.archive.record_not_modified(self.not_modified)
            self.not_modified.clear()
        if self.pending:
            self.counts.add(self.archive.save_articles(self.pending))
            self.pending.clear()

    def close(self) -> int | None:
        """Flush, refresh duplicate clusters if texts changed, close; returns the number of clusters."""
        self.flush()
        self.warc.close()
        clusters = self.archive.refresh_duplicates() if self.counts.new or self.counts.changed else None
        self.archive.close()
        return clusters
