"""Scrapy settings for fanwen-archive.  Per-site politeness comes from each profile."""

from crawler.defaults import USER_AGENT as DEFAULT_USER_AGENT

BOT_NAME = "fanwen"
SPIDER_LOADER_CLASS = "crawler.spider_loader.ProfileSpiderLoader"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# The FANWEN_* settings and their defaults: crawler/defaults.py.

USER_AGENT = DEFAULT_USER_AGENT
ROBOTSTXT_OBEY = True
DOWNLOAD_DELAY = 2.0
CONCURRENT_REQUESTS = 16
# Scrapy starts this many asyncio tasks for every response's output, however
# few items and requests it holds (ours: one article or a list page's links);
# the default of 100 made the task bookkeeping the crawl's largest CPU cost.
CONCURRENT_ITEMS = 16
# Scrapy re-reads and parses a generator callback's source to warn about a
# `return value` inside it; keyed by bound method, its cache rarely hits, so it
# parsed on most responses (what turning it off gains has no current figure:
# docs/benchmarks.md, "Settings with no current measurement").
# tests/test_scrapy_project.py runs the same check once over the spider's callbacks.
WARN_ON_GENERATOR_RETURN_VALUE = False
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 2
# Retries wait: Retry-After when a 429/503 gives one (at most RETRY_AFTER_MAX seconds),
# else RETRY_BACKOFF_BASE * 2**attempt seconds (crawler.middlewares.BackoffRetryMiddleware);
# a Retry-After holds back the host's other requests as long (crawler.politeness.RetryAfterHold).
RETRY_BACKOFF_BASE = 1.0
RETRY_BACKOFF_MAX = 60.0
RETRY_AFTER_MAX = 120.0
# Real 范文 pages are a few hundred KB; anything far larger is not an article.
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    # After RedirectMiddleware (600) in process_response order: sees a 3xx before it is followed.
    "crawler.middlewares.SafeRedirectMiddleware": 650,
}
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False

EXTENSIONS = {
    # One crawl per site and archive, however started (crawler/site_lock.py); before anything records the crawl.
    "crawler.site_lock.SiteLock": 100,
    "crawler.extensions.CrawlRunLog": 500,
    "crawler.extensions.CrawlProgress": 510,
    "crawler.gc_tuning.CollectLessOften": 520,
    # A site's robots.txt Crawl-delay and Retry-After answers pace its whole download slot.
    "crawler.politeness.CrawlDelayFromRobots": 530,
    "crawler.politeness.RetryAfterHold": 540,
    # Runs crawler.health.CrawlHealthSuite at spider_closed, after CrawlRunLog (500) completed the row it judges.
    "spidermon.contrib.scrapy.extensions.Spidermon": 560,
}
# Crawl health (crawler/health.py): each crawl is judged against the site's recent crawls
# (FANWEN_HEALTH_RECENT_RUNS, crawler/defaults.py), and 'ok' or 'alert' is stored in crawl_runs.
SPIDERMON_ENABLED = True
SPIDERMON_SPIDER_CLOSE_MONITORS = ["crawler.health.CrawlHealthSuite"]
# Alerts by mail (FANWEN_ALERT_MAIL_TO) go through this SMTP server (MAIL_USER and MAIL_PASS to
# log in, MAIL_TLS for STARTTLS, MAIL_SSL for a TLS connection).
MAIL_HOST = "localhost"
MAIL_PORT = 25
MAIL_FROM = "fanwen-archive@localhost"

ITEM_PIPELINES = {
    "crawler.item_pipelines.ExtractTextsPipeline": 300,
    "crawler.item_pipelines.ArchiveTextsPipeline": 800,
}

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
