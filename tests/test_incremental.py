"""Incremental crawls, interrupted crawls and scheduled crawls against a replica over HTTP."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from replica.process import change_replica, running_replicas
from replica.site import load_site

from .conftest import REPO, fanwen_command, run_fanwen


@pytest.fixture()
def replica_url():
    """A replica of its own: these tests publish and edit articles on it."""
    with running_replicas(["huabo"]) as urls:
        yield urls["huabo"]


def crawl(archive, replica_url, *extra):
    return run_fanwen("crawl", "huabo", "--archive", str(archive), "--base-url", replica_url, "--delay", "0", *extra)


def last_run(archive) -> dict:
    connection = sqlite3.connect(archive)
    connection.row_factory = sqlite3.Row
    row = dict(connection.execute("select * from crawl_runs order by id desc limit 1").fetchone())
    connection.close()
    return row


def query(archive, sql):
    connection = sqlite3.connect(archive)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def test_recrawl_requests_little_and_new_articles_only(replica_url, tmp_path):
    archive = tmp_path / "archive.db"
    articles = len(load_site("huabo").articles)
    crawl(archive, replica_url)
    first = last_run(archive)
    assert first["texts_new"] == articles and first["trigger"] == "manual"

    crawl(archive, replica_url)
    again = last_run(archive)
    categories = len(load_site("huabo").definition.categories)
    assert again["texts_new"] == again["texts_changed"] == 0
    # robots.txt, the home page, two list pages per category, the sitemap index and its two sitemaps
    assert again["pages_requested"] == 2 + 2 * categories + 3

    published = change_replica(replica_url, "publish", 20)
    crawl(archive, replica_url)
    after = last_run(archive)
    assert after["texts_new"] == 20
    # the 20 articles, robots.txt, the home page, at most three list pages per category, the sitemaps
    assert after["pages_requested"] <= 20 + 2 + 3 * categories + 3
    archived = {url for (url,) in query(archive, "select url from texts")}
    assert {replica_url.rstrip("/") + path for path in published} <= archived
    assert query(archive, "select count(*), count(distinct url) from texts") == [(articles + 20, articles + 20)]


def test_refresh_records_changed_texts(replica_url, tmp_path):
    archive = tmp_path / "archive.db"
    crawl(archive, replica_url)
    articles = len(load_site("huabo").articles)
    edited = change_replica(replica_url, "edit", 10)
    output = crawl(archive, replica_url, "--refresh").stdout
    run = last_run(archive)
    assert run["texts_changed"] == 10 and run["texts_new"] == 0
    # every other article was asked with If-Modified-Since and answered 304
    assert run["texts_unchanged"] == articles - 10
    assert f"({articles - 10} pages answered 304 Not Modified)" in output
    changed = {url for (url,) in query(archive, "select url from texts where text like '%根据会议讨论意见修改完善%'")}
    assert changed == {replica_url.rstrip("/") + path for path in edited}


def test_sitemap_lastmod_finds_changed_articles_without_refresh(replica_url, tmp_path):
    archive = tmp_path / "archive.db"
    crawl(archive, replica_url)
    edited = change_replica(replica_url, "edit", 10)
    crawl(archive, replica_url)
    run = last_run(archive)
    assert run["texts_changed"] == 10 and run["texts_new"] == 0
    assert run["pages_requested"] < 40  # the ten changed articles, not the whole site
    categories = dict(query(archive, "select url, category from texts"))
    assert all(categories[replica_url.rstrip("/") + path] for path in edited)  # kept from the list crawl


def test_sigterm_then_next_run_completes_the_site(replica_url, tmp_path):
    archive = tmp_path / "archive.db"
    articles = len(load_site("huabo").articles)
    process = subprocess.Popen(
        fanwen_command("crawl", "huabo", "--archive", str(archive), "--base-url", replica_url,
                       "--delay", "0.03", "--concurrency", "1", "-s", "FANWEN_ARCHIVE_BATCH=5"),
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if archive.exists():
            try:
                if query(archive, "select count(*) from texts")[0][0] >= 20:
                    break
            except sqlite3.OperationalError:
                pass
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    interrupted = last_run(archive)
    assert interrupted["finish_reason"] == "shutdown"
    stored = query(archive, "select count(*) from texts")[0][0]
    assert 20 <= stored < articles

    crawl(archive, replica_url)
    completed = last_run(archive)
    assert completed["finish_reason"] == "finished"
    assert completed["texts_new"] == articles - stored
    assert query(archive, "select count(*), count(distinct url) from texts") == [(articles, articles)]


def test_crawl_refuses_to_overlap_itself(replica_url, tmp_path):
    from archive.locks import site_lock

    archive = tmp_path / "archive.db"
    with site_lock(archive, "huabo"):
        result = subprocess.run(
            fanwen_command("crawl", "huabo", "--archive", str(archive), "--base-url", replica_url),
            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60,
        )
    assert result.returncode != 0 and "already running" in result.stderr


def test_schedule_that_fires_during_a_running_crawl_is_skipped_and_logged(replica_url, tmp_path):
    archive = tmp_path / "archive.db"
    schedules = tmp_path / "schedules.toml"
    # Every 2 seconds; the crawl itself takes longer (delay 0.05 s x ~230 pages, one at a time).
    schedules.write_text(textwrap.dedent(f"""
        [[crawl]]
        site = "huabo"
        cron = "* * * * * */2"
        args = ["--base-url", "{replica_url}", "--delay", "0.05", "--concurrency", "1"]
    """), encoding="utf-8")
    result = subprocess.run(
        fanwen_command("schedule", "run", "--archive", str(archive), "--schedules", str(schedules), "--for", "7"),
        cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "starting scheduled crawl of huabo" in result.stderr
    assert "skipped scheduled crawl of huabo" in result.stderr
    runs = query(archive, "select trigger, finish_reason from crawl_runs order by id")
    assert runs[0][0] == "schedule"
    assert sum(1 for _, reason in runs if reason and reason.startswith("skipped")) >= 1
    started = [reason for _, reason in runs if not (reason or "").startswith("skipped")]
    assert len(started) == 1  # never two crawls of the site at once


def test_site_lock_is_released_when_its_holder_is_killed(tmp_path):
    from archive.locks import is_locked

    archive = tmp_path / "archive.db"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from archive.locks import site_lock\n"
         f"with site_lock({str(archive)!r}, 'huabo'):\n"
         "    print('locked', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert holder.stdout.readline().strip() == "locked"
    assert is_locked(archive, "huabo")
    holder.kill()
    holder.wait(timeout=10)
    assert not is_locked(archive, "huabo")
