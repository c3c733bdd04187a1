"""Articles of a replica site as the spider hands them over (and, cleaned, as the extraction pipeline does)."""

from __future__ import annotations

from crawler.profiles import load_profile
from pipelines.extraction import extract_texts
from records.crawl_items import ArticleItem
from records.texts import FetchedPage
from replica.site import load_site


def replica_items(count: int, *, site: str = "huabo", cleaned: bool = True) -> list[ArticleItem]:
    replica, rules = load_site(site), load_profile(site).extract
    items = []
    for article in replica.articles[:count]:
        response = replica.respond(article.path)
        page = FetchedPage(f"http://127.0.0.1:1{article.path}", response.body, response.content_type, 200,
                           (("Content-Type", response.content_type),), (), None, "2026-01-01T00:00:00+00:00")
        item = ArticleItem(site, article.category.name, [page], page.fetched_at)
        if cleaned:
            result = extract_texts(item.pages, rules)
            item.texts, item.encodings = result.texts, list(result.encodings)
        items.append(item)
    return items


def make_cleaning_fail_on(monkeypatch, url: str) -> None:
    """From now on the cleaning core raises on the article whose first page is ``url``; others clean as usual."""
    from pipelines import extraction

    real = extraction.extract_texts

    def extract_or_fail(pages, rules):
        if pages[0].url == url:
            raise RuntimeError("the cleaning core tripped")
        return real(pages, rules)

    monkeypatch.setattr(extraction, "extract_texts", extract_or_fail)
