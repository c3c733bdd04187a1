"""ExtractTextsPipeline cleans articles in small batches: same results, bounded waits, errors kept per item."""

from __future__ import annotations

import asyncio
import time

import pytest
from scrapy.utils.test import get_crawler

from crawler.item_pipelines import ExtractTextsPipeline
from crawler.profiles import load_profile
from pipelines import extraction
from pipelines.extraction import extract_texts
from records.crawl_items import ArticleItem
from replica.process import running_replicas

from .replica_crawl import crawl
from .replica_items import make_cleaning_fail_on, replica_items


class _Spider:
    name = "huabo"
    profile = load_profile("huabo")


def pipeline(**settings) -> ExtractTextsPipeline:
    crawler = get_crawler(settings_dict={
        "FANWEN_EXTRACT_BATCH": 8, "FANWEN_EXTRACT_BATCH_BYTES": 1 << 20, "FANWEN_EXTRACT_WAIT": 0.05, **settings,
    })
    crawler.spider = _Spider()
    return ExtractTextsPipeline.from_crawler(crawler)


def articles(count: int) -> list[ArticleItem]:
    return replica_items(count, cleaned=False)


async def clean_all(stage: ExtractTextsPipeline, items: list[ArticleItem]) -> list[ArticleItem]:
    return await asyncio.gather(*(stage.process_item(item) for item in items))


@pytest.mark.parametrize("batch", [1, 8])
def test_batched_cleaning_gives_what_cleaning_each_article_gives(batch):
    items = articles(20)  # two full batches of 8 and one the timer sends
    expected = [extract_texts(item.pages, _Spider.profile.extract) for item in articles(20)]
    cleaned = asyncio.run(clean_all(pipeline(FANWEN_EXTRACT_BATCH=batch), items))
    assert [item.url for item in cleaned] == [item.url for item in items]
    assert [item.texts for item in cleaned] == [result.texts for result in expected]
    assert [item.encodings for item in cleaned] == [list(result.encodings) for result in expected]


def test_a_lone_article_waits_no_longer_than_the_batch_wait():
    stage = pipeline(FANWEN_EXTRACT_BATCH=32, FANWEN_EXTRACT_WAIT=0.05)
    started = time.monotonic()
    [item] = asyncio.run(clean_all(stage, articles(1)))
    assert item.texts and time.monotonic() - started < 1.0


def test_a_batch_is_cleaned_as_soon_as_its_pages_pass_the_byte_bound():
    items = articles(3)
    stage = pipeline(FANWEN_EXTRACT_BATCH=32, FANWEN_EXTRACT_WAIT=30.0,
                     FANWEN_EXTRACT_BATCH_BYTES=sum(len(item.pages[0].body) for item in items))
    started = time.monotonic()
    cleaned = asyncio.run(clean_all(stage, items))
    assert all(item.texts for item in cleaned) and time.monotonic() - started < 5.0


def test_an_error_belongs_to_its_own_article_only(monkeypatch, caplog):
    # The cleaning core raising on one article: that article has no text (the reason says
    # why, its capture is still archived and the error logged with its traceback), the
    # others of its batch are cleaned as usual.
    items = articles(4)
    make_cleaning_fail_on(monkeypatch, items[2].url)
    stage = pipeline(FANWEN_EXTRACT_BATCH=4)

    async def run():
        return await asyncio.gather(*(stage.process_item(item) for item in items), return_exceptions=True)

    results = asyncio.run(run())
    assert not results[2].texts and results[2].skipped == extraction.CLEANING_FAILED
    assert all(result.texts for position, result in enumerate(results) if position != 2)
    logged = [record for record in caplog.records if record.name == "pipelines.extraction"]
    assert len(logged) == 1 and items[2].url in logged[0].getMessage() and logged[0].exc_info


def test_without_an_asyncio_loop_each_article_is_cleaned_at_once():
    """A crawl on a reactor without asyncio (TWISTED_REACTOR set to another) cleans one article at a time."""
    stage = pipeline(FANWEN_EXTRACT_BATCH=32)
    coroutine = stage.process_item(articles(1)[0])  # driven by hand: no event loop is running
    with pytest.raises(StopIteration) as finished:
        coroutine.send(None)
    assert finished.value.value.texts


def test_the_last_articles_of_a_crawl_do_not_wait_for_the_timer(tmp_path):
    """Once nothing is downloading or scheduled no other article is coming: the batch is cleaned at once."""
    wait = 60.0
    with running_replicas(["xuexila"]) as urls:
        stats = crawl("xuexila", urls["xuexila"], tmp_path / "archive.db",
                      FANWEN_EXTRACT_BATCH=1000, FANWEN_EXTRACT_WAIT=wait)
    assert stats["fanwen/texts_new"] >= 40
    assert stats["elapsed_time_seconds"] < wait / 2
