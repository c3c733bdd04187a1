"""Scrapy spider loader that turns each site profile into a named spider.

``scrapy crawl huabo`` and ``fanwen crawl huabo`` both resolve ``huabo`` here:
the profile file is loaded, validated, and bound to ``ProfileSpider``.
"""

from __future__ import annotations

import builtins
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.settings import BaseSettings

from crawler.profiles import SiteProfile, load_profile, profile_paths
from crawler.spiders.profile_spider import ProfileSpider


def politeness_settings(profile: SiteProfile) -> dict[str, Any]:
    politeness = profile.politeness
    return {
        "DOWNLOAD_DELAY": politeness.download_delay,
        "CONCURRENT_REQUESTS_PER_DOMAIN": politeness.concurrency,
        "ROBOTSTXT_OBEY": politeness.obey_robots,
    }


def spider_class_for(profile: SiteProfile) -> type[ProfileSpider]:
    return type(
        f"{profile.name.title().replace('_', '')}Spider",
        (ProfileSpider,),
        {"name": profile.name, "profile": profile, "custom_settings": politeness_settings(profile)},
    )


class ProfileSpiderLoader:
    def __init__(self, settings: BaseSettings) -> None:
        self._profile_dirs = tuple(settings.getlist("FANWEN_PROFILE_DIRS"))

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> ProfileSpiderLoader:
        return cls(settings)

    def load(self, spider_name: str) -> type[Spider]:
        if spider_name not in profile_paths(self._profile_dirs):
            raise KeyError(f"Spider not found: {spider_name}")
        return spider_class_for(load_profile(spider_name, self._profile_dirs))

    def list(self) -> list[str]:
        return sorted(profile_paths(self._profile_dirs))

    def find_by_request(self, request: Request) -> builtins.list[str]:
        host = urlsplit(request.url).hostname
        return [name for name in self.list() if host in load_profile(name, self._profile_dirs).domains]
