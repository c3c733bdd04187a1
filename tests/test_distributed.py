"""Several crawler processes share one crawl through scrapy-redis and a real Redis; one ingester writes."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import time

import pytest
import redis

from fanwen.replica.process import replica_request_counts, running_replicas
from fanwen.replica.site import load_site

from .conftest import REPO, fanwen_command, free_port, run_fanwen
from .redis_server import RedisServer

ENV = {**os.environ, "PYTHONPATH": str(REPO)}


@pytest.fixture()
def redis_server(tmp_path):
    server = RedisServer(tmp_path / "redis", free_port())
    server.directory.mkdir()
    server.start()
    yield server
    server.stop()


def start_worker(redis_url: str, base_url: str, workdir, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        fanwen_command("crawl", "huabo", "--redis", redis_url, "--base-url", base_url, "--delay", "0",
                       "--concurrency", "4", "-s", "LOG_LEVEL=WARNING", "-s", "FANWEN_REDIS_IDLE_SECONDS=3", *extra),
        cwd=workdir, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def ingest(redis_url: str, archive, until_idle: float = 4) -> subprocess.CompletedProcess:
    return subprocess.run(
        fanwen_command("ingest", "huabo", "--redis", redis_url, "--archive", str(archive), "--until-idle", str(until_idle)),
        capture_output=True, text=True, env=ENV, timeout=600,
    )


def texts(archive) -> tuple[int, int]:
    connection = sqlite3.connect(archive)
    try:
        return connection.execute("select count(*), count(distinct url) from texts").fetchone()
    finally:
        connection.close()


def pages_of(worker_output: str) -> int:
    match = re.search(r"huabo: (\d+) pages", worker_output)
    return int(match.group(1)) if match else 0


def test_three_workers_one_ingester_every_article_once(redis_server, tmp_path):
    articles = len(load_site("huabo_large").articles)
    assert articles >= 2000
    archive = tmp_path / "archive.db"
    with running_replicas(["huabo_large"], latency=0.05) as urls:
        base = urls["huabo_large"]
        workers = [start_worker(redis_server.url, base, tmp_path, *(["--fresh"] if n == 0 else [])) for n in range(3)]
        ingester = subprocess.Popen(
            fanwen_command("ingest", "huabo", "--redis", redis_server.url, "--archive", str(archive), "--until-idle", "10"),
            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        outputs = [worker.communicate(timeout=600) for worker in workers]
        assert all(worker.returncode == 0 for worker in workers), [err[-2000:] for _, err in outputs]
        ingest_out, ingest_err = ingester.communicate(timeout=600)
        assert ingester.returncode == 0, ingest_err[-2000:]
        counts = replica_request_counts(base)
    article_requests = {path: n for path, n in counts.items() if path.startswith("/article/")}
    assert len(article_requests) == articles and set(article_requests.values()) == {1}
    assert texts(archive) == (articles, articles)
    assert f"ingested {articles} items" in ingest_out
    assert all(pages_of(out) > 50 for out, _ in outputs), [out for out, _ in outputs]  # the work was shared


def test_killed_worker_then_reconcile_completes_the_archive(redis_server, tmp_path):
    articles = len(load_site("huabo").articles)
    archive = tmp_path / "archive.db"
    client = redis.Redis.from_url(redis_server.url)
    with running_replicas(["huabo"], latency=0.1) as urls:
        base = urls["huabo"]
        victim = start_worker(redis_server.url, base, tmp_path, "--fresh")
        deadline = time.monotonic() + 60
        while client.llen("huabo:items") < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.hlen("huabo:in_flight") > 0
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        survivor = start_worker(redis_server.url, base, tmp_path)
        survivor.communicate(timeout=300)
        ingest(redis_server.url, archive)
        stored = texts(archive)[0]
        assert stored < articles  # the killed worker's in-flight requests were lost
        reconciled = run_fanwen("reconcile", "huabo", "--redis", redis_server.url, "--archive", str(archive))
        assert "re-queued" in reconciled.stdout
        finisher = start_worker(redis_server.url, base, tmp_path)
        finisher.communicate(timeout=300)
        ingest(redis_server.url, archive)
    assert texts(archive) == (articles, articles)


def test_redis_stopped_mid_crawl_fails_clearly_and_loses_nothing(redis_server, tmp_path):
    articles = len(load_site("huabo").articles)
    archive = tmp_path / "archive.db"
    client = redis.Redis.from_url(redis_server.url)
    with running_replicas(["huabo"], latency=0.1) as urls:
        base = urls["huabo"]
        worker = start_worker(redis_server.url, base, tmp_path, "--fresh")
        ingester = subprocess.Popen(
            fanwen_command("ingest", "huabo", "--redis", redis_server.url, "--archive", str(archive)),
            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 60
        while client.scard("huabo:archived") < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        redis_server.stop()
        _, worker_err = worker.communicate(timeout=120)
        _, ingest_err = ingester.communicate(timeout=120)
        assert worker.returncode != 0 and "lost the Redis server" in worker_err
        assert ingester.returncode != 0 and "lost the Redis server" in ingest_err and "safely in" in ingest_err
        stored_before = texts(archive)[0]
        assert stored_before >= 30

        redis_server.start()
        worker = start_worker(redis_server.url, base, tmp_path)
        worker.communicate(timeout=300)
        ingest(redis_server.url, archive)
        run_fanwen("reconcile", "huabo", "--redis", redis_server.url, "--archive", str(archive))
        worker = start_worker(redis_server.url, base, tmp_path)
        worker.communicate(timeout=300)
        ingest(redis_server.url, archive)
    assert texts(archive) == (articles, articles)
