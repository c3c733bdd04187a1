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

from replica.process import replica_request_counts, running_replicas
from replica.redis_server import RedisServer
from replica.site import load_site

from .conftest import REPO, fanwen_command, free_port, run_fanwen

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
        # Nothing of the project's own on Scrapy's deprecated interfaces (scrapy-redis's RedisPipeline took
        # process_item(item, spider); the project pushes items itself now).  scrapy-redis's scheduler still
        # passes spider= to Scrapy's stats: third-party code, left to its maintainers.
        deprecated = [line for _, err in outputs for line in err.splitlines()
                      if "DeprecationWarning" in line and "scrapy_redis/scheduler.py" not in line]
        assert not deprecated, deprecated
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


def test_shared_queue_serves_the_next_list_page_before_the_articles_it_listed(redis_server, replica_urls):
    """Equal priorities leave the order to the pickled bytes, and a pager stuck behind its articles starved the workers."""
    import urllib.request

    from scrapy.http import HtmlResponse, Request
    from scrapy_redis import picklecompat
    from scrapy_redis.queue import PriorityQueue

    from crawler.profiles import load_profile
    from crawler.spider_loader import spider_class_for

    spider = spider_class_for(load_profile("huabo"))(base_url=replica_urls["huabo"])
    spider.shared_queue, spider.last_seen, spider.refresh, spider.stop_paging_early = None, {}, False, False
    queue = PriorityQueue(redis.Redis.from_url(redis_server.url), spider, "huabo:requests", picklecompat)
    for page in (1, 2, 3):
        url = f"{replica_urls['huabo']}list/jianghua/" + (f"?page={page}" if page > 1 else "")
        with urllib.request.urlopen(url, timeout=30) as answer:
            response = HtmlResponse(url, body=answer.read(), headers={"Content-Type": "text/html; charset=utf-8"},
                                    request=Request(url))
        queue.clear()
        yielded = list(spider.parse_list(response, list_page=page))
        assert sum(request.callback == spider.parse_article for request in yielded) >= 10
        for request in yielded:
            queue.push(request)
        first = queue.pop()
        assert first.callback == spider.parse_list and first.url.endswith(f"?page={page + 1}"), first.url


def test_idle_worker_takes_new_work_within_a_second_not_at_the_next_heartbeat(redis_server, tmp_path):
    """Scrapy looks at an idle engine's scheduler every 5 s; a distributed worker polls the shared queue sooner."""
    from scrapy.http import Request
    from scrapy_redis.dupefilter import RFPDupeFilter

    client = redis.Redis.from_url(redis_server.url)
    with running_replicas(["huabo"]) as urls:
        base = urls["huabo"]
        # The start page counts as seen already: the worker starts idle, with nothing to fetch.
        RFPDupeFilter(client, "huabo:dupefilter").request_seen(Request(base))
        worker = start_worker(redis_server.url, base, tmp_path, "-s", "FANWEN_REDIS_IDLE_SECONDS=60")
        try:
            deadline = time.monotonic() + 60
            while not list(client.scan_iter("huabo:workers:*")) and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(2)
            delays = []
            for probe in range(3):
                path = f"/no-such-page-{probe}"
                client.rpush("huabo:requeue", f"start\t{base.rstrip('/')}{path}\t")
                pushed = time.monotonic()
                while path not in replica_request_counts(base) and time.monotonic() - pushed < 15:
                    time.sleep(0.05)
                delays.append(time.monotonic() - pushed)
                time.sleep(1)  # a heartbeat-bound worker would see the next probe ~4 s late
        finally:
            worker.terminate()
            worker.communicate(timeout=60)
    assert max(delays) < 1.5, delays


def test_unreadable_items_are_set_aside_and_the_rest_is_stored(redis_server, tmp_path):
    """A damaged item in the queue (or left in processing by the last ingester) must not stop ingesting."""
    from crawler.distributed.keys import SiteKeys
    from fanwen.ingest import ingest as run_ingest
    from records.item_codec import encode_item

    from .replica_items import replica_items

    [item] = replica_items(1)
    key, client = SiteKeys("huabo"), redis.Redis.from_url(redis_server.url)
    damaged = [b"\xff not json", b"[1, 2]", b'{"format": 99, "kind": "article"}', b'{"format": 1, "kind": "article"}']
    client.rpush(key.processing, damaged[0])  # taken by an ingester that died before committing
    client.rpush(key.items, damaged[1], encode_item(item), *damaged[2:])

    report = run_ingest(redis_server.url, tmp_path / "archive.db", ["huabo"], until_idle=0.5)

    assert (report.items, report.unreadable, report.counts.new) == (1, 4, 1)
    assert client.lrange(key.unreadable, 0, -1) == damaged
    assert client.llen(key.processing) == 0 and client.llen(key.items) == 0
    assert texts(tmp_path / "archive.db") == (1, 1)
