"""A distributed crawl's settings for its workers, and the Redis keys they share.

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
        "DOWNLOADER_MIDDLEWARES": {"crawler.distributed.in_flight.InFlightRequests": 950},
        "SPIDER_MIDDLEWARES": {"crawler.distributed.in_flight.FinishedRequests": 10},
        "ITEM_PIPELINES": {
            "crawler.item_pipelines.ExtractTextsPipeline": 300,
            "crawler.distributed.item_queue.PushItemsToRedis": 800,
        },
        # A worker has no archive of its own: the ingester keeps the crawl-run record.
        "EXTENSIONS": {
            "crawler.extensions.CrawlRunLog": None,
            "crawler.extensions.CrawlProgress": 510,
            "crawler.distributed.redis_health.RedisHealth": 520,
        },
    }
