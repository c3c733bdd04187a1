"""Distributed crawling on scrapy-redis: settings for workers, and the Redis keys they share.

Workers on any number of machines run ``fanwen crawl SITE --redis URL``: the
scrapy-redis scheduler and duplicate filter keep one request queue and one
seen-set per site in Redis (persisted between runs), and extracted items are
pushed to a Redis list that ``fanwen ingest`` drains into the archive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SiteKeys:
    """The Redis keys of one site's distributed crawl."""

    site: str

    @property
    def requests(self) -> str:  # scrapy-redis request queue
        return f"{self.site}:requests"

    @property
    def dupefilter(self) -> str:  # scrapy-redis request fingerprints
        return f"{self.site}:dupefilter"

    @property
    def items(self) -> str:  # extracted articles waiting for the ingester
        return f"{self.site}:items"

    @property
    def processing(self) -> str:  # items the ingester took but has not committed yet
        return f"{self.site}:items:processing"

    @property
    def unreadable(self) -> str:  # items the ingester could not decode, set aside as they came
        return f"{self.site}:items:unreadable"

    @property
    def seen_articles(self) -> str:  # hash: article URL seen on a list page -> category
        return f"{self.site}:seen_articles"

    @property
    def archived(self) -> str:  # set: article URLs stored by the ingester
        return f"{self.site}:archived"

    @property
    def requeue(self) -> str:  # list: requests `fanwen reconcile` wants made again
        return f"{self.site}:requeue"

    def worker(self, worker_id: str) -> str:  # expiring key: this worker is alive
        return f"{self.site}:workers:{worker_id}"

    @property
    def in_flight(self) -> str:  # hash: URL being downloaded by some worker -> how to redo it
        return f"{self.site}:in_flight"


def worker_settings(redis_url: str) -> dict[str, Any]:
    return {
        "FANWEN_REDIS_URL": redis_url,
        "REDIS_URL": redis_url,
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_KEY": "%(spider)s:requests",
        "SCHEDULER_DUPEFILTER_KEY": "%(spider)s:dupefilter",
        # Keep queue and seen-set when a worker stops: other workers go on, a restarted one resumes.
        "SCHEDULER_PERSIST": True,
        "REDIS_ITEMS_KEY": "%(spider)s:items",
        "REDIS_ITEMS_SERIALIZER": "records.item_codec.encode_item",
        "DOWNLOADER_MIDDLEWARES": {"crawler.distributed.InFlightRequests": 950},
        "SPIDER_MIDDLEWARES": {"crawler.distributed.FinishedRequests": 10},
        "ITEM_PIPELINES": {
            "crawler.item_pipelines.ExtractTextsPipeline": 300,
            "scrapy_redis.pipelines.RedisPipeline": 800,
        },
        # A worker has no archive of its own: the ingester keeps the crawl-run record.
        "EXTENSIONS": {
            "crawler.extensions.CrawlRunLog": None,
            "crawler.extensions.CrawlProgress": 510,
            "crawler.extensions.RedisHealth": 520,
        },
    }


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
        from scrapy_redis.connection import get_redis_from_settings

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
        from scrapy_redis.connection import get_redis_from_settings

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
