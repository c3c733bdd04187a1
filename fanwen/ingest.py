"""The single writer of a distributed crawl, and the reconcile step that recovers lost requests.

``ingest`` moves items from each site's Redis list into a processing list,
stores them through the ``ArchiveWriter`` in batches, and only after the batch
is committed drops the processing list: an ingester killed mid-batch leaves
the items there and the next run stores them; an item delivered twice is
stored once (fetch ids).

scrapy-redis pops a request from the queue before it is downloaded, so a
worker killed mid-request loses it.  ``reconcile`` finds article URLs that
workers saw on list pages but the archive does not hold, and re-queues them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, cast

import redis
from redis.exceptions import RedisError

from archive.database import Archive, SaveCounts
from archive.writer import ArchiveWriter
from crawler.distributed.keys import SiteKeys
from crawler.profiles import load_profile
from records.crawl_items import ArticleItem
from records.item_codec import decode_item

logger = logging.getLogger(__name__)


class RedisUnavailable(RuntimeError):
    """The Redis server cannot be reached; the message says what was kept."""


@dataclass
class IngestReport:
    items: int = 0
    counts: SaveCounts = field(default_factory=SaveCounts)
    unreadable: int = 0  # items set aside in each site's ``SiteKeys.unreadable`` list


@cache
def _forced_encoding(site: str) -> str | None:
    return load_profile(site).extract.encoding


def ingest(
    redis_url: str,
    archive_path: str | Path,
    sites: Sequence[str],
    *,
    batch_size: int = 200,
    until_idle: float | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> IngestReport:
    """Drain the sites' item lists into the archive until stopped (or idle for ``until_idle`` seconds)."""
    server = redis.Redis.from_url(redis_url)
    keys = [SiteKeys(site) for site in sites]
    writer = ArchiveWriter(archive_path, warc_prefix="ingest", batch_size=batch_size, forced_encoding=_forced_encoding)
    report = IngestReport()
    archived: dict[SiteKeys, list[str]] = {key: [] for key in keys}
    idle_since = time.monotonic()
    try:
        # Items a previous ingester took but did not commit come first.
        for key in keys:
            for taken_before in server.lrange(key.processing, 0, -1):
                _add(server, key, writer, taken_before, archived[key], report)
        _commit(server, writer, archived)
        while not should_stop():
            taken = 0
            for key in keys:
                while taken < batch_size and (raw := server.lmove(key.items, key.processing, "LEFT", "RIGHT")):
                    _add(server, key, writer, raw, archived[key], report)
                    taken += 1
            if taken:
                _commit(server, writer, archived)
                idle_since = time.monotonic()
            elif until_idle is not None and time.monotonic() - idle_since >= until_idle:
                break
            else:
                time.sleep(0.2)
    except RedisError as error:
        writer.flush()  # what was taken is on disk; Redis still lists it as processing, and re-delivery is harmless
        raise RedisUnavailable(
            f"lost the Redis server at {redis_url} ({error}); {report.items} items ingested in this run are safely "
            f"in {archive_path}. Start Redis again, then `fanwen ingest` again."
        ) from None
    finally:
        writer_counts = writer.counts
        writer.close()
        report.counts = writer_counts
    return report


def _add(server: redis.Redis, key: SiteKeys, writer: ArchiveWriter, raw: Any, urls: list[str], report: IngestReport) -> None:
    try:
        item = decode_item(raw)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        # Left in the processing list, one unreadable item (another version's worker, a
        # damaged entry) would stop this ingester and every one after it at the same place.
        # It is set aside as it came, for a person to look at; the batch goes on.
        server.rpush(key.unreadable, raw)
        report.unreadable += 1
        logger.error("set aside an item of %s that cannot be read (%s: %s) in the Redis list %s",
                     key.site, type(error).__name__, error, key.unreadable)
        return
    writer.add(item)
    report.items += 1
    if isinstance(item, ArticleItem):
        urls.append(item.url)


def _commit(server: redis.Redis, writer: ArchiveWriter, archived: dict[SiteKeys, list[str]]) -> None:
    writer.flush()
    for key, urls in archived.items():
        if urls:
            server.sadd(key.archived, *urls)
            urls.clear()
        server.delete(key.processing)


def reconcile(redis_url: str, archive_path: str | Path, site: str) -> int:
    """Re-queue requests left in flight by dead workers, and articles seen but not archived; returns how many.

    Run it when the workers have stopped (or gone idle) and the ingester has drained the items.
    """
    server = redis.Redis.from_url(redis_url)
    key = SiteKeys(site)
    try:
        waiting = server.llen(key.items) + server.llen(key.processing)
        if waiting:
            raise RuntimeError(
                f"{waiting} items of {site} are still waiting for the ingester: run `fanwen ingest` until they "
                "are stored, then reconcile"
            )
        # A client without decode_responses answers bytes; redis-py's types also allow str.
        in_flight_raw = cast(dict[bytes, bytes], server.hgetall(key.in_flight))
        seen_raw = cast(dict[bytes, bytes], server.hgetall(key.seen_articles))
        in_flight = {url.decode(): entry.decode() for url, entry in in_flight_raw.items()}
        seen = {url.decode(): category.decode() for url, category in seen_raw.items()}
        with Archive(archive_path) as archive:
            stored = archive.archived_urls(site)
        redo = dict(in_flight)  # requests taken by a worker that never finished them (list pages too)
        for url, category in seen.items():
            if url not in stored:
                redo.setdefault(url, f"article\t{url}\t{category}")  # fetched, but the item never arrived
        redo = {url: entry for url, entry in redo.items() if not (entry.startswith("article") and url in stored)}
        if redo:
            server.delete(key.requeue)
            server.rpush(key.requeue, *sorted(redo.values()))
            server.delete(key.in_flight)
    except RedisError as error:
        raise RedisUnavailable(f"cannot reach the Redis server at {redis_url} ({error})") from None
    return len(redo)


def start_fresh(redis_url: str, sites: Sequence[str]) -> None:
    """Forget the sites' shared queue and seen-set, so a new crawl starts from the start pages."""
    server = redis.Redis.from_url(redis_url)
    for site in sites:
        key = SiteKeys(site)
        server.delete(key.requests, key.dupefilter, key.requeue)
