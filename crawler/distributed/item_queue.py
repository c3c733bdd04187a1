"""A worker's articles go to its site's Redis list, where ``fanwen ingest`` takes them into the archive."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy_redis.connection import get_redis_from_settings
from twisted.internet.threads import deferToThread

from crawler.distributed.keys import SiteKeys
from records.item_codec import encode_item


class PushItemsToRedis:
    """Item pipeline: each item, encoded by ``records.item_codec``, pushed onto ``SiteKeys.items``.

    The push runs in a thread, as a Redis server across the network may take a while to
    answer and the crawl's reactor must not wait for it.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.server = get_redis_from_settings(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PushItemsToRedis:
        return cls(crawler)

    async def process_item(self, item: Any) -> Any:
        assert self.crawler.spider is not None  # items come only while the spider runs
        key = SiteKeys(self.crawler.spider.name).items
        await maybe_deferred_to_future(deferToThread(self.server.rpush, key, encode_item(item)))
        return item
