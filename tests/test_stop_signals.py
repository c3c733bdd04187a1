"""Stopping a crawl the way terminals and service managers do: a signal to every process of it.

Ctrl-C sends SIGINT to the terminal's process group; ``timeout`` and ``systemctl stop``
send SIGTERM to every process of the crawl, the archive writer process included (and
``systemctl stop`` of ``fanwen schedule run`` to the scheduler as well, which passes
the stop on to its crawls: a crawl gets SIGTERM twice).  Each must end like Ctrl-C:
what was fetched is written, exit 0, ``shutdown`` recorded, no process left behind.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from replica.process import running_replicas

from .conftest import REPO, fanwen_command

# A replica slow enough (50 ms an answer) that a crawl of it, one request at a time, is still running when signalled.
LATENCY = 0.05
TEXTS_BEFORE_SIGNAL = 5


@pytest.fixture(scope="module")
def slow_replica():
    with running_replicas(["huabo"], latency=LATENCY) as urls:
        yield urls["huabo"]


def query(archive: Path, sql: str) -> list[tuple]:
    connection = sqlite3.connect(f"file:{archive}?mode=ro", uri=True, timeout=30)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def crawl_args(base_url: str) -> list[str]:
    # A delay, however small: with none, Scrapy does not hold a host to its concurrency.
    return ["--base-url", base_url, "--delay", "0.02", "--concurrency", "1",
            "-s", "FANWEN_ARCHIVE_BATCH=3", "-s", "FANWEN_PROGRESS=off"]


def start_in_own_group(command: list[str], workdir: Path) -> tuple[subprocess.Popen, Path]:
    """Start ``command`` as the leader of a new process group (as a terminal or a service manager would)."""
    log = workdir / "output.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=workdir, env={**os.environ, "PYTHONPATH": str(REPO)},
                                   start_new_session=True, stdout=output, stderr=subprocess.STDOUT)
    return process, log


def wait_for_texts(archive: Path, process: subprocess.Popen, count: int = TEXTS_BEFORE_SIGNAL) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if query(archive, "select count(*) from texts")[0][0] >= count:
                break
        except sqlite3.OperationalError:  # not created yet, or busy
            pass
        time.sleep(0.05)
    else:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        pytest.fail("the crawl ended, or archived nothing, before it could be signalled")


def wait_for_group_to_end(process: subprocess.Popen, timeout: float = 60) -> int:
    """The group leader's exit code, once every process of the group is gone (the writer too)."""
    try:
        code = process.wait(timeout=timeout)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                return code
            time.sleep(0.1)
        pytest.fail("a process of the crawl was left running after it exited")
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def assert_stopped_cleanly(archive: Path, log: Path, code: int) -> None:
    output = log.read_text(encoding="utf-8", errors="replace")
    assert code == 0, output[-4000:]
    assert "archive writer process exited" not in output and "could not write the archive" not in output
    assert "forcing unclean shutdown" not in output
    runs = query(archive, "select finish_reason, texts_new from crawl_runs where finish_reason not like 'skipped%'")
    texts = query(archive, "select count(*) from texts")[0][0]
    assert runs == [("shutdown", texts)], runs  # the writer stored what it had and reported it
    assert texts >= TEXTS_BEFORE_SIGNAL
    assert query(archive, "pragma integrity_check") == [("ok",)]
    assert query(archive, "select count(*) from texts t left join captures c on c.id = t.capture_id "
                          "where c.id is null or c.warc_file is null") == [(0,)]


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_every_process_of_the_crawl_stops_it_cleanly(slow_replica, tmp_path, stop):
    archive = tmp_path / "archive.db"
    process, log = start_in_own_group(
        fanwen_command("crawl", "huabo", "--archive", str(archive), *crawl_args(slow_replica)), tmp_path)
    wait_for_texts(archive, process)
    os.killpg(process.pid, stop)
    code = wait_for_group_to_end(process)
    assert_stopped_cleanly(archive, log, code)
    assert "(shutdown)" in log.read_text(encoding="utf-8")


def test_sigterm_twice_is_still_one_graceful_stop(slow_replica, tmp_path):
    archive = tmp_path / "archive.db"
    process, log = start_in_own_group(
        fanwen_command("crawl", "huabo", "--archive", str(archive), *crawl_args(slow_replica)), tmp_path)
    wait_for_texts(archive, process)
    os.killpg(process.pid, signal.SIGTERM)
    time.sleep(0.1)  # the crawl is closing: the second SIGTERM lands while it stores what it fetched
    os.killpg(process.pid, signal.SIGTERM)
    assert_stopped_cleanly(archive, log, wait_for_group_to_end(process))


def test_ctrl_c_twice_forces_a_stop_and_leaves_no_process(slow_replica, tmp_path):
    # The writer ignores Ctrl-C; when a forced stop skips closing it, it still ends with the crawl.
    archive = tmp_path / "archive.db"
    process, _ = start_in_own_group(
        fanwen_command("crawl", "huabo", "--archive", str(archive), *crawl_args(slow_replica)), tmp_path)
    wait_for_texts(archive, process)
    os.killpg(process.pid, signal.SIGINT)
    time.sleep(0.1)
    os.killpg(process.pid, signal.SIGINT)
    wait_for_group_to_end(process)
    assert query(archive, "pragma integrity_check") == [("ok",)]


@pytest.mark.parametrize("to_group", [False, True], ids=["scheduler", "scheduler-and-crawl"])
def test_sigterm_to_the_scheduler_stops_its_running_crawl_cleanly(slow_replica, tmp_path, to_group):
    archive = tmp_path / "archive.db"
    schedules = tmp_path / "schedules.toml"
    schedules.write_text(textwrap.dedent(f"""
        [[crawl]]
        site = "huabo"
        cron = "* * * * * *"
        args = {json.dumps(crawl_args(slow_replica))}
    """), encoding="utf-8")
    process, log = start_in_own_group(
        fanwen_command("schedule", "run", "--archive", str(archive), "--schedules", str(schedules)), tmp_path)
    wait_for_texts(archive, process)
    (os.killpg if to_group else os.kill)(process.pid, signal.SIGTERM)
    code = wait_for_group_to_end(process, timeout=90)
    assert_stopped_cleanly(archive, log, code)
    assert "crawl of huabo finished with exit code 0" in log.read_text(encoding="utf-8")
