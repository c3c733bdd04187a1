"""Python's cyclic garbage collector, run less often while a crawl runs."""

from __future__ import annotations

import gc

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured


class CollectLessOften:
    """Raise the collector's first threshold to ``FANWEN_GC_THRESHOLD`` allocations for the crawl (0: leave it).

    Every request and response leaves tens of container objects behind, so at
    Python's default of 700 net allocations the collector ran many times a
    second, each run walking the young objects.  What a crawl gains from the
    higher threshold has no current measurement
    (docs/benchmarks.md, "Settings with no current measurement"):
    benchmarks/crawl_throughput.py run with and without
    ``--setting FANWEN_GC_THRESHOLD=0`` compares the two.  Reference
    counting still frees acyclic garbage at once; only objects in cycles wait
    longer.  The previous thresholds come back when the engine stops.
    """

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self.previous: tuple[int, int, int] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CollectLessOften:
        threshold = crawler.settings.getint("FANWEN_GC_THRESHOLD")
        if threshold <= 0:
            raise NotConfigured
        extension = cls(threshold)
        crawler.signals.connect(extension.engine_started, signal=signals.engine_started)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def engine_started(self) -> None:
        self.previous = gc.get_threshold()
        gc.set_threshold(max(self.threshold, self.previous[0]), *self.previous[1:])

    def engine_stopped(self) -> None:
        if self.previous is not None:
            gc.set_threshold(*self.previous)
            self.previous = None
