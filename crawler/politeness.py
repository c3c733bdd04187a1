"""What a site asks of the crawl's pace, applied to the site's download slot.

Scrapy paces each host through one downloader slot: the slot sends its queued
requests at most ``delay`` seconds apart and no more than its concurrency at a
time.  A site can ask for more: a ``Crawl-delay`` in robots.txt (every request),
or a ``Retry-After`` on a 429/503 answer (every request, for that long).  Both
are applied to the slot, so they hold back all of the host's requests, not the
one that brought the answer.
"""

from __future__ import annotations

import logging
from time import monotonic

from scrapy import Request, signals
from scrapy.core.downloader import Downloader
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.robotstxt import RobotParser
from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.utils.asyncio import call_later
from scrapy.utils.httpobj import urlparse_cached

from crawler.middlewares import retry_after_seconds

log = logging.getLogger(__name__)


def crawl_delay_stat(host: str) -> str:
    """The crawl's stats key holding the Crawl-delay (seconds) it kept to on ``host``."""
    return f"fanwen/crawl_delay/{host}"


class CrawlDelayFromRobots:
    """Slows a host down to its robots.txt ``Crawl-delay`` when that is longer than the profile's delay.

    A delay given for the crawl itself (``--delay``, ``-s DOWNLOAD_DELAY``, a Scrapyd
    setting) is the operator's decision and is kept, with a warning when the site
    asks for more: that is how the tests and the demo crawl the local replica.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.delay = settings.getfloat("DOWNLOAD_DELAY")
        # Profiles set DOWNLOAD_DELAY at spider priority (crawler.spider_loader); anything above came with the crawl.
        self.delay_given = (settings.getpriority("DOWNLOAD_DELAY") or 0) > SETTINGS_PRIORITIES["spider"]
        self.user_agent = settings.get("ROBOTSTXT_USER_AGENT") or settings.get("USER_AGENT")
        crawler.signals.connect(self.robots_parsed, signal=signals.robots_parsed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlDelayFromRobots:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured
        return cls(crawler)

    def robots_parsed(self, robotparser: RobotParser, request: Request) -> None:
        asked = robotparser.crawl_delay(self.user_agent)
        downloader: Downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        configured = downloader.per_slot_settings.get(key, {}).get("delay", self.delay)
        if asked is None or asked <= configured:
            return
        host = urlparse_cached(request).hostname or key
        if self.delay_given:
            log.warning("robots.txt of %s asks for Crawl-delay: %g; keeping the delay given for this crawl (%g s)",
                        host, asked, configured)
            return
        # Crawl-delay is a least time between requests: no jitter, which would halve it half the time.
        # Kept in the slot settings too: Scrapy drops a slot idle for a minute and makes it again from them.
        downloader.per_slot_settings[key] = {**downloader.per_slot_settings.get(key, {}), "delay": asked, "jitter": 0}
        slot = downloader.slots.get(key)
        if slot is not None:
            slot.delay, slot.jitter = asked, 0.0
        self.crawler.stats.set_value(crawl_delay_stat(host), asked)
        log.info("robots.txt of %s asks for Crawl-delay: %g; %g s between its requests (the profile says %g s)",
                 host, asked, asked, configured)


class RetryAfterHold:
    """A 429 or 503 answer with ``Retry-After`` holds back every request to its host for that long.

    The retry itself waits in ``BackoffRetryMiddleware``; this stops the host's other
    requests, queued or yet to come, from going out meanwhile.  The hold is capped
    by ``RETRY_AFTER_MAX`` as the retry's wait is.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.longest = crawler.settings.getfloat("RETRY_AFTER_MAX", 120.0)
        self.held_until: dict[str, float] = {}  # slot key -> monotonic time its hold ends
        crawler.signals.connect(self.response_downloaded, signal=signals.response_downloaded)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterHold:
        return cls(crawler)

    def response_downloaded(self, response: Response, request: Request, spider=None) -> None:
        if response.status not in (429, 503):
            return
        seconds = retry_after_seconds(response.headers.get(b"Retry-After"))
        key = request.meta.get(Downloader.DOWNLOAD_SLOT)
        if seconds and key is not None:
            self.hold(key, min(seconds, self.longest))

    def hold(self, key: str, seconds: float) -> None:
        """Send nothing from slot ``key`` for ``seconds`` (a hold already longer stays as it is)."""
        downloader: Downloader = self.crawler.engine.downloader
        slot = downloader.slots.get(key)
        now = monotonic()
        until = now + seconds
        held = max(self.held_until.get(key, now), now)
        if slot is None or until <= held:
            return
        self.held_until[key] = until
        self.crawler.stats.inc_value("retry/host_held_seconds", until - held)  # type: ignore[arg-type]  # stats hold floats too
        log.info("holding back requests to %s for %g s (Retry-After)", key, seconds)
        # response_downloaded is sent before the downloader frees this request's place in the
        # slot and sends the next one, so the hold starts before anything else leaves.  A slot
        # sends nothing while it has a wake-up call pending (its own for DOWNLOAD_DELAY): this
        # replaces that call with a later one.  Scrapy has no public API for it.
        if slot.latercall is not None:
            slot.latercall.cancel()
        slot.latercall = call_later(seconds, downloader._latercall, slot)
