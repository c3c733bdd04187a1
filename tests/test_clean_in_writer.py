"""Articles handed to the archive writer process uncleaned: the same archive, the same statistics."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from archive.writer_process import ArchiveWriterProcess
from crawler.profiles import load_profile
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


def write(path: Path, items: list[ArticleItem]) -> ArchiveWriterProcess:
    writer = ArchiveWriterProcess(path, batch_size=25, clean_rules=load_profile("huabo").extract)
    for item in items:
        writer.add(item)
    writer.close()
    return writer


def test_the_writer_cleans_what_it_is_handed_uncleaned_as_the_crawl_would(tmp_path):
    cleaned = write(tmp_path / "cleaned.db", [*replica_items(40), empty_article()])
    uncleaned = replica_items(40, cleaned=False) + [empty_article()]
    for item in uncleaned:
        item.clean_in_writer = True
    by_writer = write(tmp_path / "by_writer.db", uncleaned)
    assert by_writer.counts == cleaned.counts and by_writer.counts.new == 40
    assert archived(tmp_path / "by_writer.db") == archived(tmp_path / "cleaned.db")
    assert by_writer.cleaned_without_text == [("http://127.0.0.1:1/empty.html", "empty_body")]
    assert not cleaned.cleaned_without_text
    assert by_writer.backlog() == 0


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


def test_articles_without_text_are_counted_wherever_they_were_cleaned(fault_crawls):
    (crawl_stats, crawl_run, crawl_log), (writer_stats, writer_run, writer_log) = fault_crawls["crawl"], fault_crawls["writer"]
    no_text = {key: value for key, value in crawl_stats.items() if key.startswith("fanwen/no_text/")}
    assert sum(no_text.values()) >= 5  # empty, binary, anti-bot, script-only, garbled ...
    assert {key: value for key, value in writer_stats.items() if key.startswith("fanwen/no_text/")} == no_text
    assert writer_stats["fanwen/no_text_cleaned_by_writer"] == sum(no_text.values())
    assert "fanwen/no_text_cleaned_by_writer" not in crawl_stats
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
    for item in items:
        item.clean_in_writer = True
        writer.add(item)
    writer.close()
    assert writer.counts.new == 4 and writer.cleaned_without_text == [(broken, extraction.CLEANING_FAILED)]
    connection = sqlite3.connect(tmp_path / "archive.db")
    try:
        assert connection.execute("select reason from rejected_pages where url = ?",
                                  [broken]).fetchall() == [(extraction.CLEANING_FAILED,)]
        assert connection.execute("select count(*) from captures where article_url = ?", [broken]).fetchone() == (1,)
    finally:
        connection.close()
