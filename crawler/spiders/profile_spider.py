"""The one spider: every site is a ``SiteProfile`` bound to this class.

It walks start page → list pages (following the pager) → article pages
(following continuation pages), and yields the raw responses of each article.
Extraction happens in the pipelines.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from typing import Any, ClassVar

import scrapy
from scrapy.http import Response

from crawler.items import ArticleItem
from crawler.profiles import SiteProfile
from pipelines.records import FetchedPage


def _content_type(response: Response) -> str | None:
    value = response.headers.get(b"Content-Type")
    return value.decode("latin-1") if value else None


class ProfileSpider(scrapy.Spider):
    """Crawl one site as its profile describes.  Arguments: ``base_url`` (rebase the profile)."""

    profile: ClassVar[SiteProfile]

    def __init__(self, *args: Any, base_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if base_url:
            self.profile = self.profile.rebased(base_url)
        self.allowed_domains = self.profile.domains
        navigation = self.profile.navigation
        self._list_url = re.compile(navigation.list_url_pattern)
        self._article_url = re.compile(navigation.article_url_pattern)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.profile.start_urls:
            callback = self.parse_list if self._list_url.search(url) else self.parse
            yield scrapy.Request(url, callback=callback)

    def _links(self, response: Response, selectors: list[str], pattern: re.Pattern[str]) -> Iterator[str]:
        for css in selectors:
            for href in response.css(css).xpath("@href").getall():
                url = response.urljoin(href.strip())
                if pattern.search(url):
                    yield url

    def parse(self, response: Response) -> Iterator[scrapy.Request]:
        """A start page: follow its links to list pages."""
        for url in self._links(response, self.profile.navigation.list_links, self._list_url):
            yield scrapy.Request(url, callback=self.parse_list)

    def parse_list(self, response: Response, list_page: int = 1) -> Iterator[scrapy.Request]:
        navigation = self.profile.navigation
        category = None
        for css in navigation.category:
            category = " ".join(response.css(css).xpath("normalize-space(.)").getall()).strip() or None
            if category:
                break
        for url in self._links(response, navigation.article_links, self._article_url):
            yield scrapy.Request(url, callback=self.parse_article, cb_kwargs={"category": category})
        if list_page < navigation.max_list_pages:
            for url in self._links(response, navigation.next_list_page, self._list_url):
                yield scrapy.Request(url, callback=self.parse_list, cb_kwargs={"list_page": list_page + 1})
                break

    def parse_article(
        self, response: Response, category: str | None, pages: tuple[FetchedPage, ...] = (), fetched_at: str = ""
    ) -> Iterator[scrapy.Request | ArticleItem]:
        page = FetchedPage(response.url, response.body, _content_type(response), response.status)
        pages = (*pages, page)
        fetched_at = fetched_at or datetime.now(timezone.utc).isoformat(timespec="seconds")
        continuation = self._next_continuation(response, {p.url for p in pages})
        if continuation and len(pages) < self.profile.navigation.max_article_pages:
            # dont_filter: a continuation page may be linked from several pages of the
            # same article; loops are stopped by the visited set above instead.
            yield scrapy.Request(
                continuation,
                callback=self.parse_article,
                cb_kwargs={"category": category, "pages": pages, "fetched_at": fetched_at},
                dont_filter=True,
            )
            return
        yield ArticleItem(site=self.name, category=category, pages=list(pages), fetched_at=fetched_at)

    def _next_continuation(self, response: Response, visited: set[str]) -> str | None:
        for css in self.profile.extract.next_page:
            for href in response.css(css).xpath("@href").getall():
                url = response.urljoin(href.strip())
                if url not in visited and url.startswith(("http://", "https://")):
                    return url
        return None
