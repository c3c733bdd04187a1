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
        f"logs_dir = {home / 'logs'}\ndbs_dir = {home / 'dbs'}\nitems_dir =\nmax_proc = 2\n",
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


def test_deploy_schedule_and_texts_land(scrapyd, replica_urls, tmp_path):
    base, home = scrapyd
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

    archive = tmp_path / "archive.db"
    job = call(f"{base}/schedule.json", [
        ("project", "fanwen"), ("spider", "huabo"), ("base_url", replica_urls["huabo"]),
        ("setting", f"FANWEN_ARCHIVE={archive}"), ("setting", "DOWNLOAD_DELAY=0"),
        ("setting", "CLOSESPIDER_ITEMCOUNT=15"),
    ])
    assert job["status"] == "ok"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        jobs = call(f"{base}/listjobs.json?project=fanwen")
        if any(entry["id"] == job["jobid"] for entry in jobs["finished"]):
            break
        time.sleep(0.5)
    else:
        pytest.fail("the Scrapyd job did not finish in time")
    connection = sqlite3.connect(archive)
    texts = connection.execute("select count(*) from texts").fetchone()[0]
    runs = connection.execute("select site, finish_reason from crawl_runs").fetchall()
    connection.close()
    assert texts >= 15 and runs == [("huabo", "closespider_itemcount")]
