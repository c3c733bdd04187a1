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

USER_AGENT = "fanwen-archive/0.1 (+research archive of public sample speeches)"
ROBOTSTXT_OBEY = True
DOWNLOAD_DELAY = 2.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 2
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False

ITEM_PIPELINES = {
    "pipelines.item_pipelines.ExtractTextsPipeline": 300,
    "pipelines.item_pipelines.ArchiveTextsPipeline": 800,
}

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
