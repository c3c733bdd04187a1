"""``scrapy crawl <site>`` works from the repository root through scrapy.cfg, like ``fanwen crawl``."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from .conftest import REPO, run_fanwen


def scrapy(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_every_profile_is_a_spider():
    result = scrapy("list")
    assert result.returncode == 0, result.stderr
    assert "huabo" in result.stdout.split()


def test_scrapy_crawl_writes_the_archive(replica_urls, tmp_path):
    archive = tmp_path / "archive.db"
    result = scrapy(
        "crawl", "huabo", "-a", f"base_url={replica_urls['huabo']}", "-s", f"FANWEN_ARCHIVE={archive}",
        "-s", "DOWNLOAD_DELAY=0", "-s", "CLOSESPIDER_ITEMCOUNT=12",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    connection = sqlite3.connect(archive)
    count = connection.execute("select count(*) from texts").fetchone()[0]
    reason = connection.execute("select finish_reason from crawl_runs").fetchone()[0]
    connection.close()
    assert count >= 12 and reason == "closespider_itemcount"


def test_fanwen_crawl_unknown_site_fails_clearly(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "fanwen.cli", "crawl", "nosuchsite", "--archive", str(tmp_path / "a.db")],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode != 0 and "no site profile named 'nosuchsite'" in result.stderr
    assert not (tmp_path / "a.db").exists()


def test_fanwen_crawl_recrawl_changes_nothing(replica_urls, tmp_path):
    archive = tmp_path / "archive.db"
    common = ("crawl", "huabo", "--archive", str(archive), "--base-url", replica_urls["huabo"], "--delay", "0")
    first = run_fanwen(*common, "-s", "CLOSESPIDER_ITEMCOUNT=30")
    assert "huabo:" in first.stdout
    connection = sqlite3.connect(archive)
    before = connection.execute("select url, content_hash, first_seen from texts order by url").fetchall()
    connection.close()
    run_fanwen(*common, "-s", "CLOSESPIDER_ITEMCOUNT=30")
    connection = sqlite3.connect(archive)
    after = connection.execute("select url, content_hash, first_seen from texts order by url").fetchall()
    runs = connection.execute("select texts_changed from crawl_runs").fetchall()
    connection.close()
    assert set(before) <= set(after) and runs == [(0,), (0,)]


def test_no_spider_callback_returns_a_value_from_a_generator():
    # The project turns off Scrapy's per-response WARN_ON_GENERATOR_RETURN_VALUE (its
    # per-response source parsing cost 7 % of a crawl's pages/s); this is the same check, run once.
    import inspect

    from scrapy.utils.misc import is_generator_with_return_value

    from crawler import settings
    from crawler.spiders.profile_spider import ProfileSpider

    assert settings.WARN_ON_GENERATOR_RETURN_VALUE is False
    methods = [method for name, method in inspect.getmembers(ProfileSpider, inspect.isfunction)
               if inspect.isgeneratorfunction(method) or inspect.isasyncgenfunction(method)]
    assert len(methods) >= 3
    assert not [method.__name__ for method in methods if is_generator_with_return_value(method)]


def test_the_garbage_collector_runs_less_often_while_the_engine_runs():
    import gc

    from scrapy.utils.test import get_crawler

    from crawler.gc_tuning import CollectLessOften

    before = gc.get_threshold()
    extension = CollectLessOften.from_crawler(get_crawler(settings_dict={"FANWEN_GC_THRESHOLD": 25_000}))
    extension.engine_started()
    try:
        assert gc.get_threshold() == (max(25_000, before[0]), *before[1:])
    finally:
        extension.engine_stopped()
    assert gc.get_threshold() == before
    from scrapy.exceptions import NotConfigured

    with pytest.raises(NotConfigured):
        CollectLessOften.from_crawler(get_crawler(settings_dict={"FANWEN_GC_THRESHOLD": 0}))
