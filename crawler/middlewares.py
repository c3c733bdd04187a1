"""Downloader middlewares: retries that wait (Retry-After, exponential backoff) and safe redirects."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import reactor
from twisted.internet.task import deferLater

from crawler.urls import redirect_refusal


def retry_after_seconds(value: bytes | None, now: datetime | None = None) -> float | None:
    """A Retry-After header in seconds: delta-seconds or an HTTP date (RFC 9110 10.2.3); None if absent or bad."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware, but a retry waits: ``Retry-After`` on 429/503 when the server
    sends one (capped by ``RETRY_AFTER_MAX``), otherwise ``RETRY_BACKOFF_BASE * 2**attempt``
    seconds (capped by ``RETRY_BACKOFF_MAX``).  Scrapy itself retries at once."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler.settings)
        self.crawler = crawler
        settings = crawler.settings
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)
        self.retry_after_max = settings.getfloat("RETRY_AFTER_MAX", 120.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        return cls(crawler)

    def delay(self, request: Request, response: Response | None = None) -> float:
        if response is not None and response.status in (429, 503):
            told = retry_after_seconds(response.headers.get(b"Retry-After"))
            if told is not None:
                return min(told, self.retry_after_max)
        return min(self.backoff_base * 2 ** request.meta.get("retry_times", 0), self.backoff_max)

    async def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.crawler.stats.inc_value("retry/waited_seconds", seconds)  # type: ignore[arg-type]  # stats hold floats too
            await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))

    # Scrapy awaits a downloader middleware's coroutine methods; its stubs type only the plain ones.
    async def process_response(self, request: Request, response: Response, spider=None):  # type: ignore[override]
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        if request.meta.get("retry_times", 0) < request.meta.get("max_retry_times", self.max_retry_times):
            await self._wait(self.delay(request, response))
        return super().process_response(request, response)

    async def process_exception(self, request: Request, exception: Exception, spider=None):  # type: ignore[override]
        if isinstance(exception, self.exceptions_to_retry) and not request.meta.get("dont_retry"):
            if request.meta.get("retry_times", 0) < request.meta.get("max_retry_times", self.max_retry_times):
                await self._wait(self.delay(request))
        return super().process_exception(request, exception)


class SafeRedirectMiddleware:
    """Refuses a redirect before Scrapy's RedirectMiddleware would follow it (see ``redirect_refusal``),
    or one leaving the spider's domains, so the request's errback records why."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SafeRedirectMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        location = response.headers.get(b"Location")
        if response.status not in (301, 302, 303, 307, 308) or not location or request.meta.get("dont_redirect"):
            return response
        target = urljoin(request.url, location.decode("latin-1").strip())
        reason = redirect_refusal(request.url, target, request.meta.get("redirect_urls", ()))
        if reason is None and not self._allowed_host(urlparse_cached(Request(target)).hostname or ""):
            reason = "redirect_offsite"
        if reason:
            self.crawler.stats.inc_value(f"fanwen/redirect_refused/{reason}")
            raise IgnoreRequest(f"{reason}: {request.url} -> {target}")
        return response

    def _allowed_host(self, host: str) -> bool:
        domains = getattr(self.crawler.spider, "allowed_domains", None) or []
        return not domains or any(host == d or host.endswith("." + d) for d in domains)
