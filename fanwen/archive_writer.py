"""Writing fetched articles into the archive: raw pages to WARC at once, the index and texts in batches.

Used by the crawl's item pipeline and by ``fanwen ingest`` (the single writer
of a distributed crawl) alike.  WARC first, index second: a row in the archive
never points at a record that is not on disk.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from crawler.items import ArticleGone, ArticleItem, ArticleNotModified, PageRejected
from pipelines.decoding import decode_html

from .archive import Archive, ArticleToArchive, GonePage, PageToCapture, RejectedPage, SaveCounts, warc_directory
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
        self.rejected: list[RejectedPage] = []
        self.gone: list[GonePage] = []

    def add(self, item: ArticleItem | ArticleNotModified | PageRejected | ArticleGone) -> None:
        if isinstance(item, PageRejected):
            self.rejected.append(RejectedPage(item.site, item.url, item.reason, item.at, item.detail))
        elif isinstance(item, ArticleGone):
            self.gone.append(GonePage(item.site, item.url, item.status, item.at))
            self.rejected.append(RejectedPage(item.site, item.url, f"http_{item.status}", item.at))
        elif isinstance(item, ArticleNotModified):
            self.not_modified.append((item.site, item.url, item.fetched_at))
        elif not self.archive.has_fetch(item.fetch_id):
            pages = [self._capture(item.site, page) for page in item.pages]
            self.pending.append(ArticleToArchive(item.site, item.category, pages, item.texts, item.fetch_id))
            if not item.texts:  # the capture is kept; the reason it is not a text is recorded
                self.rejected.append(RejectedPage(item.site, item.url, item.skipped or "no_text", item.fetched_at))
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
        if self.rejected:
            self.archive.record_rejected(self.rejected)
            self.rejected.clear()
        if self.gone:
            self.archive.mark_gone(self.gone)
            self.gone.clear()

    def close(self) -> int | None:
        """Flush, refresh duplicate clusters if texts changed, close; returns the number of clusters."""
        self.flush()
        self.warc.close()
        clusters = self.archive.refresh_duplicates() if self.counts.new or self.counts.changed else None
        self.archive.close()
        return clusters
