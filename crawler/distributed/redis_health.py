"""A worker of a distributed crawl says it is alive, and stops clearly when Redis goes away."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

log = logging.getLogger(__name__)
# The finish reason of a worker that lost its Redis server.
REDIS_UNAVAILABLE = "redis_unavailable"


class RedisHealth:
    """Stops a distributed-crawl worker with a clear message when its Redis server goes away.

    The worker's unfinished requests stay in (or were popped from) the shared
    queue; `fanwen reconcile` re-queues what was lost once Redis is back.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.url = crawler.settings.get("FANWEN_REDIS_URL")
        self.loop = task.LoopingCall(self.check)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisHealth:
        if not crawler.settings.get("FANWEN_REDIS_URL"):
            raise NotConfigured
        return cls(crawler)

    def spider_opened(self, spider) -> None:
        self.loop.start(1.0, now=False)

    def spider_closed(self, spider, reason: str) -> None:
        if self.loop.running:
            self.loop.stop()

    def check(self) -> None:
        try:
            self.crawler.spider.shared_queue.mark_alive()  # type: ignore[union-attr]  # a worker's ProfileSpider
        except RedisError as error:
            log.error(
                "lost the Redis server at %s (%s): stopping this worker; once Redis is back, restart the workers "
                "and run `fanwen reconcile` to re-queue requests that were in flight", self.url, error,
            )
            self.loop.stop()
            self.crawler.stats.set_value("fanwen/redis_unavailable", 1)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=REDIS_UNAVAILABLE))
