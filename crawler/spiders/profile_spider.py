"""The one spider: every site is a ``SiteProfile`` bound to this class.

It walks start page → list pages (following the pager) → article pages
(following continuation pages), and yields the raw responses of each article.
Extraction happens in the pipelines.

Crawls are incremental: articles already in the archive are not requested
again, and a category's pager stops a few pages (``FANWEN_LIST_LOOKAHEAD``)
after the first list page that holds only archived articles, since these
sites list newest first.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any, ClassVar
from urllib.parse import urljoin

import scrapy
from scrapy.exceptions import (
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap
from twisted.internet.error import ConnectionLost, DNSLookupError, TCPTimedOutError
from twisted.internet.error import TimeoutError as TwistedTimeoutError
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from crawler.defaults import apply_defaults
from crawler.distributed.shared_queue import SharedSiteQueue
from crawler.profiles import SiteProfile
from crawler.urls import canonical_url
from records.crawl_items import ArticleGone, ArticleItem, ArticleNotModified, PageRejected
from records.texts import FetchedPage


def _is_newer(lastmod: str, fetched_at: str) -> bool:
    """Whether a sitemap's lastmod is at or after our fetch (same-second changes count as changed)."""
    try:
        modified = datetime.fromisoformat(lastmod.strip().replace("Z", "+00:00"))
        fetched = datetime.fromisoformat(fetched_at)
    except ValueError:
        return False
    if modified.tzinfo is None:
        modified = modified.replace(tzinfo=UTC)
    if fetched.tzinfo is None:
        fetched = fetched.replace(tzinfo=UTC)
    return modified >= fetched.replace(microsecond=0)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _content_type(response: Response) -> str | None:
    value = response.headers.get(b"Content-Type")
    return value.decode("latin-1") if value else None


def _header_pairs(headers: Any) -> tuple[tuple[str, str], ...]:
    return tuple(
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in headers.items()
        for value in values
    )


def _fetched_page(response: Response) -> FetchedPage:
    """The response with what the archive keeps about it (headers, request, time)."""
    redirects = response.request.meta.get("redirect_urls") if response.request else None
    return FetchedPage(
        url=response.url,
        body=response.body,
        content_type=_content_type(response),
        status=response.status,
        headers=_header_pairs(response.headers),
        request_headers=_header_pairs(response.request.headers) if response.request else (),
        requested_url=redirects[0] if redirects else None,
        fetched_at=_now(),
        protocol=response.protocol or "HTTP/1.1",
    )


def failure_reason(failure: Any) -> tuple[str, str | None]:
    """A short reason key for a failed request, and the detail worth keeping."""
    error = failure.value
    if failure.check(HttpError):
        return f"http_{error.response.status}", None
    if failure.check(IgnoreRequest):
        # SafeRedirectMiddleware's refusals read "<reason>: <from> -> <to>"
        reason, _, rest = str(error).partition(": ")
        return (reason, rest) if reason.startswith("redirect_") else ("ignored", str(error))
    if failure.check(DownloadCancelledError):
        return "too_large", str(error)
    if failure.check(DownloadTimeoutError, TwistedTimeoutError, TCPTimedOutError):
        return "timeout", str(error)
    if failure.check(DownloadConnectionRefusedError):
        return "connection_refused", str(error)
    if failure.check(DownloadFailedError, ConnectionLost, ResponseFailed, ResponseNeverReceived):
        return "connection_lost", str(error)
    if failure.check(DNSLookupError):
        return "dns", str(error)
    return type(error).__name__, str(error)


# List pages go ahead of articles.  In a distributed crawl the shared queue is a
# Redis sorted set that serves equal priorities in the order of their pickled
# bytes, so a category's next list page could wait behind every queued article:
# the queue then ran dry each time the pager was downloaded, and idle workers
# slept until Scrapy's next 5 s heartbeat (benchmarks/distributed_speedup.py).
LIST_PAGE_PRIORITY = 1


class ProfileSpider(scrapy.Spider):
    """Crawl one site as its profile describes.  Arguments: ``base_url`` (rebase the profile)."""

    profile: SiteProfile  # set on each site's subclass by crawler.spider_loader
    refresh: bool
    list_lookahead: int
    last_seen: dict[str, str]  # archived article URL -> when it was fetched ("" when unknown)
    stop_paging_early: bool
    shared_queue: SharedSiteQueue | None

    def __init__(self, *args: Any, base_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if base_url:
            self.profile = self.profile.rebased(base_url)
        self.allowed_domains = self.profile.domains
        navigation = self.profile.navigation
        self._list_url = re.compile(navigation.list_url_pattern)
        self._article_url = re.compile(navigation.article_url_pattern)

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        super().update_settings(settings)
        apply_defaults(settings)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> ProfileSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.refresh = settings.getbool("FANWEN_REFRESH")
        spider.list_lookahead = settings.getint("FANWEN_LIST_LOOKAHEAD")
        spider.last_seen = {}
        # Stopping a pager early is only sound when everything older was crawled:
        # after an interrupted run the pager is walked to its end (known articles
        # are still skipped), so the next run completes the site.
        spider.stop_paging_early = False
        spider.shared_queue = None
        if settings.get("FANWEN_REDIS_URL"):
            spider.shared_queue = SharedSiteQueue(crawler, spider.name, spider.request_again)
            spider.last_seen = spider.shared_queue.archived_urls()
        elif settings.getbool("FANWEN_INCREMENTAL"):
            from archive.database import Archive

            with Archive(settings.get("FANWEN_ARCHIVE")) as archive:
                spider.last_seen = archive.last_seen_by_url(spider.name)
                spider.stop_paging_early = archive.last_run_completed(spider.name) and not spider.refresh
        return spider

    def request_again(self, entry: str) -> scrapy.Request:
        """A request again from its in-flight entry (see crawler.distributed.in_flight.redo_entry)."""
        kind, url, category = entry.split("\t")
        callbacks: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
            "article": (self.parse_article, {"category": category or None}),
            "list": (self.parse_list, {}),
            "sitemap": (self.parse_sitemap, {}),
        }
        callback, kwargs = callbacks.get(kind, (self.parse, {}))
        priority = 0 if kind == "article" else LIST_PAGE_PRIORITY
        return scrapy.Request(
            url, callback=callback, cb_kwargs=kwargs, dont_filter=True, priority=priority, errback=self.fetch_failed
        )

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.profile.start_urls:
            callback = self.parse_list if self._list_url.search(url) else self.parse
            yield scrapy.Request(url, callback=callback, errback=self.fetch_failed, priority=LIST_PAGE_PRIORITY)
        # With archived articles, a sitemap's lastmod tells which of them changed
        # since they were fetched; new articles still come from the lists.
        if self.last_seen and not self.refresh:
            for sitemap in self.profile.navigation.sitemaps:
                yield scrapy.Request(urljoin(self.profile.start_urls[0], sitemap), callback=self.parse_sitemap,
                                     errback=self.fetch_failed)

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        body = response.body
        if body[:2] == b"\x1f\x8b":
            body = gunzip(body, max_size=self.settings.getint("DOWNLOAD_MAXSIZE"))
        try:
            sitemap = Sitemap(body)
        except Exception as error:  # lxml raises several types on broken XML
            self.logger.warning("unreadable sitemap %s: %s", response.url, error)
            return
        if sitemap.type == "sitemapindex":
            for entry in sitemap:
                yield scrapy.Request(response.urljoin(entry["loc"]), callback=self.parse_sitemap)
            return
        for entry in sitemap:
            url = response.urljoin(entry["loc"])
            seen = self.last_seen.get(url)
            if seen and entry.get("lastmod") and _is_newer(entry["lastmod"], seen) and self._article_url.search(url):
                self.crawler.stats.inc_value("fanwen/sitemap_changed")
                yield self._article_request(url, None)

    def _links(self, response: Response, selectors: list[str], pattern: re.Pattern[str]) -> Iterator[str]:
        for css in selectors:
            for href in response.css(css).xpath("@href").getall():
                url = canonical_url(response.urljoin(href.strip()))
                if pattern.search(url):
                    yield url

    def parse(self, response: Response) -> Iterator[scrapy.Request]:
        """A start page: follow its links to list pages."""
        for url in self._links(response, self.profile.navigation.list_links, self._list_url):
            yield scrapy.Request(url, callback=self.parse_list, errback=self.fetch_failed, priority=LIST_PAGE_PRIORITY)

    def parse_list(self, response: Response, list_page: int = 1, known_pages: int = 0) -> Iterator[scrapy.Request]:
        """A list page: request its new articles, then follow the pager unless the list has run into known ones."""
        navigation = self.profile.navigation
        category = None
        for css in navigation.category:
            category = " ".join(response.css(css).xpath("normalize-space(.)").getall()).strip() or None
            if category:
                break
        links = list(dict.fromkeys(self._links(response, navigation.article_links, self._article_url)))
        if self.shared_queue is not None:
            self.shared_queue.record_list_links({url: category or "" for url in links})
        new_links = [url for url in links if url not in self.last_seen]
        for url in new_links:
            yield self._article_request(url, category)
        known_links = [url for url in links if url in self.last_seen]
        if self.refresh:
            for url in known_links:
                yield self._conditional_request(url, category)
        elif known_links:
            self.crawler.stats.inc_value("fanwen/articles_skipped_known", len(known_links))
        known_pages = known_pages + 1 if links and not new_links else 0
        if self.stop_paging_early and known_pages > self.list_lookahead:
            self.logger.info("stopped paging %s at list page %d: its articles are archived already", category, list_page)
            return
        if list_page >= navigation.max_list_pages:
            if any(self._links(response, navigation.next_list_page, self._list_url)):
                # An endless or runaway pager (a trap): stop, and say so in the crawl's stats.
                self.crawler.stats.inc_value("fanwen/list_pages_capped")
                self.logger.warning("stopped paging %s at max_list_pages=%d", response.url, navigation.max_list_pages)
        else:
            for url in self._links(response, navigation.next_list_page, self._list_url):
                yield scrapy.Request(
                    url, callback=self.parse_list, cb_kwargs={"list_page": list_page + 1, "known_pages": known_pages},
                    errback=self.fetch_failed,
                    priority=LIST_PAGE_PRIORITY,
                )
                break

    def _conditional_request(self, url: str, category: str | None) -> scrapy.Request:
        """Re-request an archived article; the server answers 304 if it has not changed since we fetched it."""
        # HTTP dates have one-second resolution: a change within the second of our
        # fetch would look unmodified, so ask from one second earlier.
        fetched = datetime.fromisoformat(self.last_seen[url]) - timedelta(seconds=1)
        return self._article_request(
            url, category, headers={"If-Modified-Since": format_datetime(fetched.astimezone(UTC), usegmt=True)}
        )

    # An article that answers 404/410 reaches parse_article: an archived text is then marked gone.
    GONE_STATUSES: ClassVar[tuple[int, ...]] = (404, 410)

    def _article_request(self, url: str, category: str | None, **kwargs: Any) -> scrapy.Request:
        return scrapy.Request(
            url, callback=self.parse_article, cb_kwargs={"category": category}, errback=self.fetch_failed,
            meta={"handle_httpstatus_list": [304, *self.GONE_STATUSES]}, **kwargs,
        )

    def fetch_failed(self, failure: Any) -> Iterator[PageRejected]:
        """A request that brought no usable page: record why (after the retries, if any)."""
        request = failure.request
        url = request.meta.get("redirect_urls", [request.url])[0]  # the URL the crawl asked for
        reason, detail = failure_reason(failure)
        self.crawler.stats.inc_value(f"fanwen/rejected/{reason}")
        self.logger.info("rejected %s: %s", url, detail or reason)
        yield PageRejected(site=self.name, url=url, reason=reason, at=_now(), detail=detail)

    def parse_article(
        self, response: Response, category: str | None, pages: tuple[FetchedPage, ...] = (), fetched_at: str = ""
    ) -> Iterator[scrapy.Request | ArticleItem | ArticleNotModified | ArticleGone]:
        if response.status == 304:
            self.crawler.stats.inc_value("fanwen/not_modified")
            yield ArticleNotModified(site=self.name, url=response.url, fetched_at=_now())
            return
        if response.status in self.GONE_STATUSES and not pages:
            self.crawler.stats.inc_value("fanwen/gone")
            self.crawler.stats.inc_value(f"fanwen/rejected/http_{response.status}")
            yield ArticleGone(site=self.name, url=response.url, status=response.status, at=_now())
            return
        page = _fetched_page(response)
        pages = (*pages, page)
        fetched_at = fetched_at or page.fetched_at
        continuation = self._next_continuation(response, {p.url for p in pages})
        if continuation and len(pages) < self.profile.navigation.max_article_pages:
            # dont_filter: a continuation page may be linked from several pages of the
            # same article; loops are stopped by the visited set above instead.
            yield scrapy.Request(
                continuation,
                callback=self.parse_article,
                cb_kwargs={"category": category, "pages": pages, "fetched_at": fetched_at},
                dont_filter=True,
                # A continuation page that fails ends the article with the pages it has.
                errback=self._continuation_failed,
            )
            return
        yield ArticleItem(site=self.name, category=category, pages=list(pages), fetched_at=fetched_at)

    def _continuation_failed(self, failure: Any) -> Iterator[ArticleItem | PageRejected]:
        yield from self.fetch_failed(failure)
        kwargs = failure.request.cb_kwargs
        yield ArticleItem(site=self.name, category=kwargs["category"], pages=list(kwargs["pages"]),
                          fetched_at=kwargs["fetched_at"])

    def _next_continuation(self, response: Response, visited: set[str]) -> str | None:
        for css in self.profile.extract.next_page:
            for href in response.css(css).xpath("@href").getall():
                url = response.urljoin(href.strip())
                if url not in visited and url.startswith(("http://", "https://")):
                    return url
        return None
