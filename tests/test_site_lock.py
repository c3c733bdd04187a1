"""One crawl per site and archive, however it is started: the lock (archive/locks.py) and the
extension every crawl loads (crawler/site_lock.py).  Two Scrapyd jobs: tests/test_scrapyd.py."""

from __future__ import annotations

import fcntl
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.misc import load_object
from scrapy.utils.test import get_crawler

from archive.locks import LockHolder, SiteBusy, lock_holder, lock_path, site_lock, take_site_lock
from crawler.profiles import load_profile
from crawler.site_lock import SiteLock
from crawler.spider_loader import spider_class_for

from .conftest import REPO, fanwen_command

ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def wait_for_holder(archive: Path, site: str, pid: int, process: subprocess.Popen, timeout: float = 90) -> LockHolder:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        holder = lock_holder(archive, site)
        if holder is not None and holder.pid == pid:
            return holder
        if process.poll() is not None:
            pytest.fail(f"the process meant to hold the lock ended first (exit code {process.returncode})")
        time.sleep(0.1)
    pytest.fail("the lock was not taken in time")


def crawl_runs(archive: Path) -> list[tuple]:
    connection = sqlite3.connect(archive)
    try:
        return connection.execute("select trigger, finish_reason, pages_requested, texts_new, health "
                                  "from crawl_runs order by id").fetchall()
    finally:
        connection.close()


def test_the_lock_names_its_holder_and_refuses_a_second_taker(tmp_path):
    archive = tmp_path / "archive.db"
    with site_lock(archive, "huabo", job="job-1") as holder:
        assert lock_holder(archive, "huabo") == holder
        assert (holder.pid, holder.job) == (os.getpid(), "job-1")
        # Even in the same process: two crawlers of a site in one `fanwen crawl` are two crawls.
        with pytest.raises(SiteBusy, match=rf"already running \(pid {os.getpid()} on .+ since .+, Scrapyd job job-1\)"):
            take_site_lock(archive, "huabo", grace=0)
        assert lock_holder(archive, "elsewhere") is None
        assert lock_holder(tmp_path / "other.db", "huabo") is None  # another archive in the same directory
    assert lock_holder(archive, "huabo") is None
    assert lock_path(archive, "huabo").read_text() == ""


def test_a_look_at_the_lock_never_refuses_a_crawl(tmp_path):
    archive = tmp_path / "archive.db"
    with site_lock(archive, "huabo"):
        pass  # the lock file exists now
    # What lock_holder holds for an instant, held longer: the crawl waits it out.
    probe = os.open(lock_path(archive, "huabo"), os.O_RDONLY)
    fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
    threading.Timer(0.2, os.close, [probe]).start()
    take_site_lock(archive, "huabo").release()


def test_every_crawl_loads_the_lock_but_distributed_workers(tmp_path):
    spider = spider_class_for(load_profile("huabo"))
    # Scrapy's defaults only, as a Scrapyd deployment with a settings module of its own.
    bare = get_crawler(spider)
    assert SiteLock in {load_object(path) for path in bare.settings.getdict("EXTENSIONS")}
    worker = get_crawler(spider, {"FANWEN_REDIS_URL": "redis://127.0.0.1:1/0"})
    with pytest.raises(NotConfigured):
        SiteLock.from_crawler(worker)


def test_scrapy_crawl_is_refused_while_fanwen_crawl_runs_and_runs_after_it(replica_urls, tmp_path):
    archive = tmp_path / "archive.db"
    url = replica_urls["huabo"]
    first_log = tmp_path / "fanwen-crawl.log"
    with first_log.open("w") as log:
        # Ends by itself after 12 seconds, a page at a time: long enough for `scrapy crawl` to start meanwhile.
        first = subprocess.Popen(
            fanwen_command("crawl", "huabo", "--archive", str(archive), "--base-url", url, "--delay", "0.2",
                           "--concurrency", "1", "-s", "CLOSESPIDER_TIMEOUT=12"),
            stdout=log, stderr=subprocess.STDOUT, env=ENV,
        )
    try:
        wait_for_holder(archive, "huabo", first.pid, first)
        scrapy_crawl = [sys.executable, "-m", "scrapy", "crawl", "huabo", "-a", f"base_url={url}",
                        "-s", f"FANWEN_ARCHIVE={archive}", "-s", "DOWNLOAD_DELAY=0", "-s", "CLOSESPIDER_ITEMCOUNT=5"]
        second = subprocess.run(scrapy_crawl, cwd=REPO, capture_output=True, text=True, env=ENV, timeout=120)
        assert first.poll() is None, "the first crawl ended before the second was refused: the test proves nothing"
        assert first.wait(timeout=120) == 0, first_log.read_text()[-3000:]
    finally:
        if first.poll() is None:
            first.kill()
    assert f"ERROR: a crawl of huabo is already running (pid {first.pid} on " in second.stderr
    assert "Spider closed (skipped: already_running" in second.stderr
    assert "downloader/request_count" not in second.stderr  # nothing was fetched
    runs = crawl_runs(archive)
    assert runs[0][:2] == ("manual", "closespider_timeout") and runs[0][3] > 0
    # Recorded, naming the holder; not judged as a crawl of the site.
    assert runs[1][1].startswith(f"skipped: already_running (pid {first.pid} on ")
    assert runs[1][2:] == (0, 0, None)

    # The first crawl released the lock: the same command now crawls.
    assert lock_holder(archive, "huabo") is None
    again = subprocess.run(scrapy_crawl, cwd=REPO, capture_output=True, text=True, env=ENV, timeout=120)
    assert again.returncode == 0, again.stderr[-3000:]
    assert crawl_runs(archive)[2][1] == "closespider_itemcount"


def test_a_stale_lock_of_a_killed_process_is_taken_over(replica_urls, tmp_path):
    archive = tmp_path / "archive.db"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import time; from archive.locks import site_lock\n"
         f"with site_lock({str(archive)!r}, 'huabo'):\n"
         "    time.sleep(120)"],
        env=ENV,
    )
    try:
        wait_for_holder(archive, "huabo", holder.pid, holder)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    # The killed holder could not clear the file: it still names it, but holds nothing.
    assert LockHolder.parse(lock_path(archive, "huabo").read_text()).pid == holder.pid
    assert lock_holder(archive, "huabo") is None
    result = subprocess.run(
        fanwen_command("crawl", "huabo", "--archive", str(archive), "--base-url", replica_urls["huabo"],
                       "--delay", "0", "-s", "CLOSESPIDER_ITEMCOUNT=3"),
        capture_output=True, text=True, env=ENV, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert [reason for _, reason, *_ in crawl_runs(archive)] == ["closespider_itemcount"]


def test_fanwen_crawl_refused_exits_non_zero_naming_the_holder(replica_urls, tmp_path):
    archive = tmp_path / "archive.db"
    with site_lock(archive, "huabo", job="elsewhere-1"):
        result = subprocess.run(
            fanwen_command("crawl", "huabo", "--archive", str(archive), "--base-url", replica_urls["huabo"]),
            capture_output=True, text=True, env=ENV, timeout=120,
        )
    assert result.returncode != 0
    assert f"a crawl of huabo is already running (pid {os.getpid()} on " in result.stderr
    assert "Scrapyd job elsewhere-1). Refused" in result.stderr
    [(trigger, reason, pages_requested, texts_new, health)] = crawl_runs(archive)
    assert re.fullmatch(rf"skipped: already_running \(pid {os.getpid()} on {re.escape(socket.gethostname())} "
                        r"since \S+, Scrapyd job elsewhere-1\)", reason), reason
    assert (trigger, pages_requested, texts_new, health) == ("manual", 0, 0, None)
