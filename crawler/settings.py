"""Scrapy settings for fanwen-archive.  Per-site politeness comes from each profile."""

BOT_NAME = "fanwen"
SPIDER_LOADER_CLASS = "crawler.spider_loader.ProfileSpiderLoader"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Extra directories of user site profiles (*.toml), searched after the bundled ones.
FANWEN_PROFILE_DIRS: list[str] = []
# The archive the pipelines write to, relative to the working directory.
FANWEN_ARCHIVE = "archive.db"
# Texts written per transaction.
FANWEN_ARCHIVE_BATCH = 200
# Articles cleaned back to back (pipelines.item_pipelines.ExtractTextsPipeline): at most
# this many, or this many bytes of pages, each waiting at most FANWEN_EXTRACT_WAIT seconds.
FANWEN_EXTRACT_BATCH = 32
FANWEN_EXTRACT_BATCH_BYTES = 1 << 20
FANWEN_EXTRACT_WAIT = 0.05
# ... or handed to the archive writer process uncleaned, for it to clean, while fewer
# than this many articles wait there (0: always cleaned in the crawl's process).
FANWEN_CLEAN_IN_WRITER = 64
# Write the archive from a process of its own (fanwen/writer_process.py), so
# the crawl's reactor is not stalled by WARC, index and signature work.
FANWEN_WRITER_PROCESS = True
# What started the crawl, recorded in crawl_runs: "manual" or "schedule".
FANWEN_TRIGGER = "manual"
# Incremental crawling: archived articles are not requested again, and a
# category's pager is followed for at most this many list pages past the first
# page whose article links are all archived already.
FANWEN_INCREMENTAL = True
FANWEN_LIST_LOOKAHEAD = 1
# Re-request archived articles too (changed texts are updated).
FANWEN_REFRESH = False

USER_AGENT = "fanwen-archive/0.1 (+research archive of public sample speeches)"
ROBOTSTXT_OBEY = True
DOWNLOAD_DELAY = 2.0
CONCURRENT_REQUESTS = 16
# Scrapy starts this many asyncio tasks for every response's output, however
# few items and requests it holds (ours: one article or a list page's links);
# the default of 100 made the task bookkeeping the crawl's largest CPU cost.
CONCURRENT_ITEMS = 16
# Scrapy re-reads and parses a generator callback's source to warn about a
# `return value` inside it; keyed by bound method, its cache rarely hits, so it
# parsed on most responses (docs/benchmarks.md: +7 % pages/s without it).
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
    "crawler.extensions.CrawlRunLog": 500,
    "crawler.extensions.CrawlProgress": 510,
    "crawler.gc_tuning.CollectLessOften": 520,
    # A site's robots.txt Crawl-delay and Retry-After answers pace its whole download slot.
    "crawler.politeness.CrawlDelayFromRobots": 530,
    "crawler.politeness.RetryAfterHold": 540,
    # Runs crawler.health.CrawlHealthSuite at spider_closed, after CrawlRunLog (500) completed the row it judges.
    "spidermon.contrib.scrapy.extensions.Spidermon": 560,
}
# Crawl health (crawler/health.py): each crawl is judged against the site's last
# FANWEN_HEALTH_RECENT_RUNS crawls, and 'ok' or 'alert' is stored in crawl_runs.
SPIDERMON_ENABLED = True
SPIDERMON_SPIDER_CLOSE_MONITORS = ["crawler.health.CrawlHealthSuite"]
FANWEN_HEALTH_RECENT_RUNS = 5
# Where an alert goes: e-mail addresses, and a URL that receives the alert as a JSON POST.
# Empty: the alert is only stored. Mail goes through the SMTP server of Scrapy's MAIL_* settings
# (MAIL_USER and MAIL_PASS to log in, MAIL_TLS for STARTTLS, MAIL_SSL for a TLS connection).
FANWEN_ALERT_MAIL_TO: list[str] = []
FANWEN_ALERT_WEBHOOK = ""
FANWEN_ALERT_WEBHOOK_TIMEOUT = 30.0
MAIL_HOST = "localhost"
MAIL_PORT = 25
MAIL_FROM = "fanwen-archive@localhost"
# Net allocations between runs of the cyclic garbage collector while crawling (Python: 700; 0 leaves it).
FANWEN_GC_THRESHOLD = 20_000
# Crawl progress: "auto" (a live table on a terminal, else a log line per
# interval), "live", "log" or "off".
FANWEN_PROGRESS = "auto"
FANWEN_PROGRESS_INTERVAL = 30.0

ITEM_PIPELINES = {
    "pipelines.item_pipelines.ExtractTextsPipeline": 300,
    "pipelines.item_pipelines.ArchiveTextsPipeline": 800,
}

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
