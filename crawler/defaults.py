"""Every ``FANWEN_*`` setting with its default: the one place they are declared.

``ProfileSpider.update_settings`` applies them at Scrapy's "default" priority, so a
crawl gets them whatever settings module it runs with (``crawler.settings``, a
Scrapyd deployment with its own, ``get_crawler()`` in a test); anything a settings
module, a command-line option or a profile sets wins.  Components read them with
Scrapy's typed getters and no fallback of their own.
"""

from __future__ import annotations

from typing import Any

# Sent with every request, and by `fanwen profile suggest` when it fetches a page.
USER_AGENT = "fanwen-archive/0.1 (+research archive of public sample speeches)"

FANWEN_DEFAULTS: dict[str, Any] = {
    # Extra directories of user site profiles (*.toml), searched after the bundled ones.
    "FANWEN_PROFILE_DIRS": [],
    # The archive the pipelines write to, relative to the working directory.
    "FANWEN_ARCHIVE": "archive.db",
    # Texts written per transaction.
    "FANWEN_ARCHIVE_BATCH": 200,
    # Articles cleaned back to back (crawler.item_pipelines.ExtractTextsPipeline): at most
    # this many, or this many bytes of pages, each waiting at most FANWEN_EXTRACT_WAIT seconds.
    "FANWEN_EXTRACT_BATCH": 32,
    "FANWEN_EXTRACT_BATCH_BYTES": 1 << 20,
    "FANWEN_EXTRACT_WAIT": 0.05,
    # ... or handed to the archive writer process uncleaned, for it to clean, while fewer
    # than this many articles wait there (0: always cleaned in the crawl's process).
    "FANWEN_CLEAN_IN_WRITER": 64,
    # Write the archive from a process of its own (archive/writer_process.py), so
    # the crawl's reactor is not stalled by WARC, index and signature work.
    "FANWEN_WRITER_PROCESS": True,
    # What started the crawl, recorded in crawl_runs: "manual" or "schedule".
    "FANWEN_TRIGGER": "manual",
    # Incremental crawling: archived articles are not requested again, and a
    # category's pager is followed for at most this many list pages past the first
    # page whose article links are all archived already.
    "FANWEN_INCREMENTAL": True,
    "FANWEN_LIST_LOOKAHEAD": 1,
    # Re-request archived articles too (changed texts are updated).
    "FANWEN_REFRESH": False,
    # Net allocations between runs of the cyclic garbage collector while crawling (Python: 700; 0 leaves it).
    "FANWEN_GC_THRESHOLD": 20_000,
    # Crawl progress: "auto" (a live table on a terminal, else a log line per
    # interval), "live", "log" or "off".
    "FANWEN_PROGRESS": "auto",
    "FANWEN_PROGRESS_INTERVAL": 30.0,
    # A distributed crawl's Redis server (crawler.distributed); None crawls alone.
    "FANWEN_REDIS_URL": None,
    # How long a distributed worker stays with its site's queue empty and nothing in flight.
    "FANWEN_REDIS_IDLE_SECONDS": 5.0,
    # Crawl health (crawler/health.py): a crawl is judged against the site's last this many crawls.
    "FANWEN_HEALTH_RECENT_RUNS": 5,
    # Where a crawl's alert goes: e-mail addresses (through Scrapy's MAIL_* SMTP settings), and a URL
    # that receives it as a JSON POST.  Empty: the alert is only stored in crawl_runs.
    "FANWEN_ALERT_MAIL_TO": [],
    "FANWEN_ALERT_WEBHOOK": "",
    "FANWEN_ALERT_WEBHOOK_TIMEOUT": 30.0,
}


def apply_defaults(settings: Any) -> None:
    """Give ``settings`` (Scrapy ``Settings``) every FANWEN_* default, below anything set already,
    and the site lock, unless the settings name it (``None`` there turns it off)."""
    settings.setdict(FANWEN_DEFAULTS, priority="default")
    # Imported here: this module is read by crawler/settings.py, which must load without the archive.
    from crawler.site_lock import SiteLock

    # A Scrapyd deployment with a settings module of its own still gets one crawl per site.
    settings.setdefault_in_component_priority_dict("EXTENSIONS", SiteLock, 100)
