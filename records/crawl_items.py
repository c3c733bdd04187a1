"""What the spider hands to the pipelines: the raw responses of one article."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import uuid4

from records.texts import ExtractedText, FetchedPage, PageExtraction


@dataclass
class ArticleItem:
    site: str
    category: str | None
    pages: list[FetchedPage]  # page 1 first, then continuation pages in reading order
    fetched_at: str  # UTC ISO-8601 of page 1's response
    texts: list[ExtractedText] = field(default_factory=list)  # filled by ExtractTextsPipeline
    skipped: str | None = None  # why no text was found, when none was
    encodings: list[tuple[str | None, str]] = field(default_factory=list)  # per page (declared, used), from extraction
    # One id per fetch of the article: the archive stores a fetch once, however often it is delivered.
    fetch_id: str = field(default_factory=lambda: uuid4().hex)
    # Handed to the archive writer process uncleaned, for it to clean while it has time to
    # spare (archive.writer_process.ArchiveWriterProcess.takes_uncleaned); never set on an
    # item that leaves the crawl's machine.
    clean_in_writer: bool = False

    @property
    def url(self) -> str:
        return self.pages[0].url

    def take_extraction(self, result: PageExtraction) -> None:
        self.texts = result.texts
        self.skipped = result.skipped
        self.encodings = list(result.encodings)
        self.clean_in_writer = False


@dataclass
class ArticleNotModified:
    """An archived article the server reported unchanged (304) on a conditional re-request."""

    site: str
    url: str
    fetched_at: str


@dataclass
class PageRejected:
    """A request that yielded no page: an HTTP error after retries, a timeout, a refused redirect."""

    site: str
    url: str
    reason: str  # short key: http_500, timeout, connection_lost, too_large, redirect_loop, ...
    at: str
    detail: str | None = None


@dataclass
class ArticleGone:
    """An article URL that answered 404 or 410: an archived text stays, marked gone."""

    site: str
    url: str
    status: int
    at: str
