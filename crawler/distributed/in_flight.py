"""Which requests each worker took from the shared queue and has not finished, kept in Redis.

scrapy-redis removes a request from the queue when a worker takes it, so a worker
killed mid-request would lose it; ``fanwen reconcile`` re-queues what is left here.
"""

from __future__ import annotations

from typing import Any

from scrapy_redis.connection import get_redis_from_settings

from crawler.distributed.keys import SiteKeys


def redo_entry(request: Any) -> str | None:
    """How to make ``request`` again, as one line: kind, URL, category (None for robots.txt and the like)."""
    callback = getattr(request.callback, "__name__", None)
    kwargs = request.cb_kwargs
    if callback == "parse_article":
        pages = kwargs.get("pages") or ()
        url = pages[0].url if pages else request.url  # a continuation page redoes its whole article
        return f"article\t{url}\t{kwargs.get('category') or ''}"
    if callback == "parse_list":
        return f"list\t{request.url}\t"
    if callback in ("parse", "parse_sitemap"):
        return f"{callback.removeprefix('parse_') if callback != 'parse' else 'start'}\t{request.url}\t"
    return None


class InFlightRequests:
    """Records in Redis which requests a worker has taken from the shared queue but not finished.

    scrapy-redis removes a request from the queue when a worker takes it, so a
    worker killed mid-request would lose it; `fanwen reconcile` re-queues what
    this hash still holds.  The entry is removed when the request fails for
    good, or (``FinishedRequests``) once its callback's output was handed on.
    """

    def __init__(self, crawler: Any) -> None:
        self.server = get_redis_from_settings(crawler.settings)
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> InFlightRequests:
        return cls(crawler)

    def _key(self) -> str:
        return SiteKeys(self.crawler.spider.name).in_flight

    def process_request(self, request: Any) -> None:
        entry = redo_entry(request)
        if entry:
            self.server.hset(self._key(), request.url, entry)
        return None

    def process_exception(self, request: Any, exception: Exception) -> None:
        self.server.hdel(self._key(), request.url)
        return None


class FinishedRequests:
    """Spider middleware: clears a request's in-flight entry after its callback's output is handed on."""

    def __init__(self, crawler: Any) -> None:
        self.server = get_redis_from_settings(crawler.settings)
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> FinishedRequests:
        return cls(crawler)

    def _done(self, response: Any) -> None:
        self.server.hdel(SiteKeys(self.crawler.spider.name).in_flight, response.request.url)

    def process_spider_output(self, response: Any, result: Any) -> Any:
        yield from result
        self._done(response)

    async def process_spider_output_async(self, response: Any, result: Any) -> Any:
        async for output in result:
            yield output
        self._done(response)
