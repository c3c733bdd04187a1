"""The spider's side of a distributed crawl: one site's queue shared through Redis.

Each worker runs the same spider; scrapy-redis's scheduler hands out requests from
the site's shared queue.  This object keeps what a worker must add to that: the
article URLs the ingester has archived already (not requested again), the list
links seen (what ``fanwen reconcile`` compares with the archive), requests
``fanwen reconcile`` put back, and staying open while other workers may still add work.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from uuid import uuid4

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.reactor import CallLaterOnce
from scrapy_redis.connection import get_redis_from_settings

from crawler.distributed.keys import SiteKeys

# How often an idle worker looks at the shared queue again.
IDLE_POLL_SECONDS = 0.5


class SharedSiteQueue:
    """A worker's view of its site's shared queue; ``request_again`` turns a re-queued entry into a request."""

    def __init__(self, crawler: Any, site: str, request_again: Callable[[str], Request]) -> None:
        self.crawler = crawler
        self.redis = get_redis_from_settings(crawler.settings)
        self.keys = SiteKeys(site)
        self.idle_limit = crawler.settings.getfloat("FANWEN_REDIS_IDLE_SECONDS")
        self.idle_since: float | None = None
        self.worker_id = uuid4().hex
        self.request_again = request_again
        # Scrapy looks at an idle engine's scheduler only on its 5 s heartbeat; a worker
        # whose share of the queue ran dry (at the start, or while others fetch the
        # pager) would sleep that long while the queue refills, so poll sooner.
        self.idle_poll = CallLaterOnce(self._poll_shared_queue)
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(self.idle_poll.cancel, signal=signals.spider_closed)

    def archived_urls(self) -> dict[str, str]:
        """The site's article URLs the ingester has stored (as the spider's ``last_seen``, without dates)."""
        return {url.decode(): "" for url in self.redis.smembers(self.keys.archived)}

    def record_list_links(self, categories_by_url: dict[str, str]) -> None:
        """What `fanwen reconcile` compares with the archive to find lost requests."""
        if categories_by_url:
            self.redis.hset(self.keys.seen_articles, mapping=categories_by_url)

    def mark_alive(self) -> None:
        """Refresh this worker's short-lived key (other workers wait for it while it has requests in flight)."""
        self.redis.set(self.keys.worker(self.worker_id), "1", ex=5)

    def _poll_shared_queue(self) -> None:
        slot = getattr(self.crawler.engine, "_slot", None)  # Scrapy has no public "look again now"
        if slot is not None:
            slot.nextcall.schedule()

    def _other_workers_alive(self) -> bool:
        mine = self.keys.worker(self.worker_id)
        return any(key.decode() != mine for key in self.redis.scan_iter(self.keys.worker("*")))

    def _queued_requests(self) -> int:
        key = self.keys.requests
        kind = self.redis.type(key)
        return self.redis.zcard(key) if kind == b"zset" else self.redis.llen(key) if kind == b"list" else 0

    def spider_idle(self) -> None:
        """Stay open while the shared queue has work (other workers may still add to it)."""
        requeued = 0
        while raw := self.redis.lpop(self.keys.requeue):
            self.crawler.engine.crawl(self.request_again(raw.decode()))
            requeued += 1
        # Other workers still downloading may add requests: stay while anything is queued or in flight.
        if requeued or self._queued_requests() or (
            self.redis.hlen(self.keys.in_flight) and self._other_workers_alive()
        ):
            self.idle_since = None
            self.idle_poll.schedule(IDLE_POLL_SECONDS)
            raise DontCloseSpider
        now = time.monotonic()
        self.idle_since = self.idle_since or now
        if now - self.idle_since < self.idle_limit:
            self.idle_poll.schedule(IDLE_POLL_SECONDS)
            raise DontCloseSpider
