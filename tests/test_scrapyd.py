"""Deploying to a real Scrapyd on 127.0.0.1 through scrapy.cfg's [deploy] section, scheduling via its JSON API."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from .conftest import REPO, free_port

PROJECT_FILES = ("records", "pipelines", "archive", "crawler", "fanwen", "replica", "datasette_config", "setup.py", "pyproject.toml", "scrapy.cfg", "README.md")
BIN = Path(sys.executable).parent


def call(url: str, data: dict | list | None = None) -> dict:
    body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
    with urllib.request.urlopen(url, data=body, timeout=30) as response:
        return json.load(response)


@pytest.fixture()
def scrapyd(tmp_path):
    if not (BIN / "scrapyd").exists():
        pytest.fail("scrapyd is not installed (it is in the [test] extra)")
    home = tmp_path / "scrapyd"
    home.mkdir()
    port = free_port()
    (home / "scrapyd.conf").write_text(
        f"[scrapyd]\nbind_address = 127.0.0.1\nhttp_port = {port}\neggs_dir = {home / 'eggs'}\n"
        f"logs_dir = {home / 'logs'}\ndbs_dir = {home / 'dbs'}\nitems_dir =\nmax_proc = 2\npoll_interval = 0.5\n",
        encoding="utf-8",
    )
    process = subprocess.Popen([str(BIN / "scrapyd")], cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            call(f"{base}/daemonstatus.json")
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(f"scrapyd did not start: {process.stderr.read().decode()[-2000:]}") from None
            time.sleep(0.2)
    try:
        yield base, home
    finally:
        process.terminate()
        process.wait(timeout=20)


def deploy(base: str, tmp_path: Path) -> None:
    """Deploy the project as a user would: an egg built by scrapyd-deploy from a copy of the tree."""
    project = tmp_path / "project"
    for name in PROJECT_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            project.mkdir(exist_ok=True)
            shutil.copy(source, project / name)
    config = (project / "scrapy.cfg").read_text(encoding="utf-8")
    (project / "scrapy.cfg").write_text(config.replace("http://127.0.0.1:6800/", f"{base}/"), encoding="utf-8")

    deployed = subprocess.run([str(BIN / "scrapyd-deploy")], cwd=project, capture_output=True, text=True, timeout=300)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert "huabo" in call(f"{base}/listspiders.json?project=fanwen")["spiders"]


def schedule(base: str, base_url: str, archive: Path, *settings: str) -> str:
    """Schedule a crawl of huabo into ``archive``; returns the job id."""
    job = call(f"{base}/schedule.json", [
        ("project", "fanwen"), ("spider", "huabo"), ("base_url", base_url), ("setting", f"FANWEN_ARCHIVE={archive}"),
        *(("setting", setting) for setting in settings),
    ])
    assert job["status"] == "ok"
    return job["jobid"]


def finished_jobs(base: str) -> dict[str, dict]:
    return {entry["id"]: entry for entry in call(f"{base}/listjobs.json?project=fanwen")["finished"]}


def wait_until_finished(base: str, *jobs: str, timeout: float = 180) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        finished = finished_jobs(base)
        if all(job in finished for job in jobs):
            return finished
        time.sleep(0.5)
    pytest.fail("the Scrapyd jobs did not finish in time")


def test_deploy_schedule_and_texts_land(scrapyd, replica_urls, tmp_path):
    base, home = scrapyd
    deploy(base, tmp_path)
    archive = tmp_path / "archive.db"
    job = schedule(base, replica_urls["huabo"], archive, "DOWNLOAD_DELAY=0", "CLOSESPIDER_ITEMCOUNT=15")
    wait_until_finished(base, job)
    connection = sqlite3.connect(archive)
    texts = connection.execute("select count(*) from texts").fetchone()[0]
    runs = connection.execute("select site, finish_reason from crawl_runs").fetchall()
    connection.close()
    assert texts >= 15 and runs == [("huabo", "closespider_itemcount")]


def test_a_second_job_of_a_site_is_refused_while_the_first_runs(scrapyd, replica_urls, tmp_path):
    from archive.locks import lock_holder

    base, home = scrapyd
    deploy(base, tmp_path)
    archive = tmp_path / "archive.db"
    url = replica_urls["huabo"]
    # A page at a time, ending by itself after 15 seconds: the second job starts meanwhile.
    first = schedule(base, url, archive, "DOWNLOAD_DELAY=0.2", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
                     "CLOSESPIDER_TIMEOUT=15")
    deadline = time.monotonic() + 120
    while (holder := lock_holder(archive, "huabo")) is None or holder.job != first:
        if time.monotonic() > deadline or first in finished_jobs(base):
            pytest.fail("the first job did not take the site lock")
        time.sleep(0.2)
    second = schedule(base, url, archive, "DOWNLOAD_DELAY=0", "CLOSESPIDER_ITEMCOUNT=5")
    finished = wait_until_finished(base, first, second)
    assert finished[second]["end_time"] < finished[first]["end_time"], "the first job ended before the second started"

    log = (home / "logs" / "fanwen" / "huabo" / f"{second}.log").read_text(encoding="utf-8")
    assert f"ERROR: a crawl of huabo is already running (pid {holder.pid} on " in log
    assert f"Scrapyd job {first}): this crawl is refused" in log
    assert "Crawled (" not in log  # not even robots.txt
    connection = sqlite3.connect(archive)
    runs = connection.execute("select finish_reason, pages_requested, texts_new from crawl_runs order by id").fetchall()
    texts = connection.execute("select count(*), count(distinct url || '#' || part) from texts").fetchone()
    connection.close()
    assert runs[0][0] == "closespider_timeout" and runs[0][2] > 0
    assert runs[1] == (f"skipped: already_running ({holder.describe()})", 0, 0)
    assert holder.describe().endswith(f", Scrapyd job {first}")
    assert texts == (runs[0][2], runs[0][2])  # every text from the first job, each once
