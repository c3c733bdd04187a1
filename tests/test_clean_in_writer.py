"""Articles handed to the archive writer process uncleaned: the same archive, the same statistics.

What the archive makes of such an article reaches the crawl in the writer's acknowledgement
of its batch, the writer's only reply until it closes.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from archive.writer import ItemOutcome
from archive.writer_process import ArchiveWriterProcess
from crawler import item_pipelines
from crawler.profiles import load_profile
from pipelines.extraction import extract_or_report
from records.crawl_items import ArticleItem
from records.texts import FetchedPage
from replica.process import running_replicas

from .replica_crawl import channel_profile, crawl
from .replica_items import make_cleaning_fail_on, replica_items
from .test_writer_process import archived

FAULT_SETTINGS = {"DOWNLOAD_TIMEOUT": 2, "DOWNLOAD_MAXSIZE": 1024 * 1024, "RETRY_TIMES": 2, "RETRY_BACKOFF_BASE": 0.1}


def empty_article() -> ArticleItem:
    page = FetchedPage("http://127.0.0.1:1/empty.html", b"", "text/html; charset=utf-8", 200, (), (), None,
                       "2026-01-01T00:00:00+00:00")
    return ArticleItem("huabo", None, [page], page.fetched_at)


def write(path: Path, items: list[ArticleItem]) -> tuple[ArchiveWriterProcess, list[ItemOutcome | None]]:
    """The closed writer, and what its ``add`` said of each item."""
    writer = ArchiveWriterProcess(path, batch_size=25, clean_rules=load_profile("huabo").extract)
    said = [writer.add(item) for item in items]
    writer.close()
    return writer, said


def test_the_writer_cleans_what_it_is_handed_uncleaned_as_the_crawl_would(tmp_path):
    empty = empty_article()
    empty.take_extraction(extract_or_report(empty.pages, load_profile("huabo").extract))
    cleaned, said_at_once = write(tmp_path / "cleaned.db", [*replica_items(40), empty])
    uncleaned = replica_items(40, cleaned=False) + [empty_article()]
    for item in uncleaned:
        item.clean_in_writer = True
    by_writer, said_of_uncleaned = write(tmp_path / "by_writer.db", uncleaned)
    assert by_writer.counts == cleaned.counts and by_writer.counts.new == 40
    assert archived(tmp_path / "by_writer.db") == archived(tmp_path / "cleaned.db")
    # Every article's outcome, once: from add when the crawl cleaned it, else acknowledged by the writer.
    assert said_at_once[-1] == ItemOutcome("http://127.0.0.1:1/empty.html", "empty_body")
    assert [outcome.no_text for outcome in said_at_once[:-1]] == [None] * 40
    assert said_of_uncleaned == [None] * 41 and by_writer.take_outcomes() == said_at_once
    assert cleaned.take_outcomes() == [] and by_writer.take_outcomes() == []
    assert by_writer.backlog() == 0


def test_the_writer_takes_articles_uncleaned_only_with_rules_and_room_in_its_backlog(tmp_path):
    rules = load_profile("huabo").extract
    for clean_rules, clean_backlog in ((None, 64), (rules, 0)):
        writer = ArchiveWriterProcess(tmp_path / "never.db", clean_rules=clean_rules, clean_backlog=clean_backlog)
        assert not writer.takes_uncleaned(1)
        writer.close()
    writer = ArchiveWriterProcess(tmp_path / "archive.db", clean_rules=rules, clean_backlog=64)
    assert writer.takes_uncleaned(64) and not writer.takes_uncleaned(65)
    writer.close()


def run_summary(archive: Path) -> tuple:
    connection = sqlite3.connect(archive)
    try:
        run = connection.execute("select articles_without_text, errors from crawl_runs").fetchone()
        rejected = connection.execute("select url, reason from rejected_pages order by url, reason").fetchall()
        texts = connection.execute("select url, part, text from texts order by url, part").fetchall()
    finally:
        connection.close()
    # Each crawl had a replica of its own, on a port of its own: compare paths.
    return (run[0], json.loads(run[1]), [(urlsplit(url).path, reason) for url, reason in rejected],
            [(urlsplit(url).path, part, text) for url, part, text in texts])


def logged_without_text(log: Path) -> list[tuple[str, str]]:
    """(path, reason) of each article the crawl's log reports dropped for want of text."""
    found = re.findall(r"Dropped: no text in (\S+): (\w+)", log.read_text(encoding="utf-8"))
    return sorted((urlsplit(url).path, reason) for url, reason in found)


@pytest.fixture(scope="module")
def fault_crawls(tmp_path_factory):
    """The fault channel of replica B crawled with every article cleaned in the crawl, then in the writer."""
    workdir = tmp_path_factory.mktemp("clean_in_writer")
    channel_profile(workdir / "profiles", "diyifanwen_faults", "guzhang")
    results = {}
    for mode, below in (("crawl", 0), ("writer", 1_000_000)):
        # A fresh replica each time: some faults heal after their first requests.
        with running_replicas(["diyifanwen"]) as urls:
            archive, log = workdir / f"{mode}.db", workdir / f"{mode}.log"
            stats = crawl("diyifanwen_faults", urls["diyifanwen"], archive, workdir / "profiles",
                          FANWEN_CLEAN_IN_WRITER=below, LOG_FILE=str(log), **FAULT_SETTINGS)
        results[mode] = (stats, run_summary(archive), logged_without_text(log))
    return results


def fanwen_stats(stats: dict) -> dict:
    """The crawl's own stats, less where its articles were cleaned (which the two crawls set apart)."""
    cleaned_where = {item_pipelines.CLEANED_IN_CRAWL_STAT, item_pipelines.CLEANED_IN_WRITER_STAT}
    return {key: value for key, value in stats.items() if key.startswith("fanwen/") and key not in cleaned_where}


def test_the_stats_say_where_each_article_was_cleaned(fault_crawls):
    (crawl_stats, _, _), (writer_stats, _, _) = fault_crawls["crawl"], fault_crawls["writer"]
    articles = crawl_stats[item_pipelines.CLEANED_IN_CRAWL_STAT]
    assert articles >= 5 and item_pipelines.CLEANED_IN_WRITER_STAT not in crawl_stats
    assert writer_stats[item_pipelines.CLEANED_IN_WRITER_STAT] == articles
    assert item_pipelines.CLEANED_IN_CRAWL_STAT not in writer_stats


def test_articles_without_text_are_counted_wherever_they_were_cleaned(fault_crawls):
    (crawl_stats, crawl_run, crawl_log), (writer_stats, writer_run, writer_log) = fault_crawls["crawl"], fault_crawls["writer"]
    no_text = {key: value for key, value in crawl_stats.items() if key.startswith("fanwen/no_text/")}
    assert sum(no_text.values()) >= 5  # empty, binary, anti-bot, script-only, garbled ...
    # The same reasons, counts, health findings and items archived (what the progress shows), ...
    assert fanwen_stats(writer_stats) == fanwen_stats(crawl_stats)
    assert crawl_stats["fanwen/items_archived"] == crawl_stats["item_scraped_count"]
    # ... though articles found without text after they left the pipeline could not be dropped.
    assert writer_stats["item_scraped_count"] == crawl_stats["item_scraped_count"] + sum(no_text.values())
    # crawl_runs: the same count of articles without text, the same errors by kind, rejected pages and texts.
    assert writer_run == crawl_run and crawl_run[0] == sum(no_text.values())
    # ... and the same log line for each of them.
    assert writer_log == crawl_log and len(crawl_log) == sum(no_text.values())



def test_an_article_the_cleaning_core_trips_on_is_kept_as_a_capture_and_the_writer_goes_on(tmp_path, monkeypatch):
    from archive.writer import ArchiveWriter
    from pipelines import extraction

    items = replica_items(5, cleaned=False)
    broken = items[2].url
    make_cleaning_fail_on(monkeypatch, broken)
    writer = ArchiveWriter(tmp_path / "archive.db", batch_size=2, clean_rules=load_profile("huabo").extract)
    outcomes = []
    for item in items:
        item.clean_in_writer = True
        outcomes.append(writer.add(item))
    writer.close()
    assert writer.counts.new == 4
    assert [outcome for outcome in outcomes if outcome.no_text] == [ItemOutcome(broken, extraction.CLEANING_FAILED)]
    connection = sqlite3.connect(tmp_path / "archive.db")
    try:
        assert connection.execute("select reason from rejected_pages where url = ?",
                                  [broken]).fetchall() == [(extraction.CLEANING_FAILED,)]
        assert connection.execute("select count(*) from captures where article_url = ?", [broken]).fetchone() == (1,)
    finally:
        connection.close()
