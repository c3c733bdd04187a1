"""Distributed crawl speed-up: 1, 2, 3 scrapy-redis workers against a latency-bound replica.

A real Redis on a free loopback port and the replica ``huabo_large`` served with
server-side latency (every answer waits, without blocking the others), so one
worker with a modest per-host concurrency is bound by the latency, not the CPU.
For each worker count N, with a flushed Redis and a fresh archive: start one
``fanwen ingest`` and N ``fanwen crawl huabo --redis`` workers (same settings
each), and time until the ingester has committed every expected article.

    python benchmarks/distributed_speedup.py [--latency 0.3] [--concurrency 4] [--workers 1,2,3]
                                             [--articles 1200] [--rounds 1]

Times:
  * "from launch": workers launched → the last expected article committed by the
    ingester (Redis's archived set is complete).  Includes the workers' Python and
    Scrapy start-up; excludes the end-of-crawl idle wait, since the archive is
    complete before the workers notice the shared queue stayed empty.
  * "to exit": workers launched → the last worker exited (adds that idle wait:
    ``FANWEN_REDIS_IDLE_SECONDS`` plus up to one 5 s Scrapy heartbeat).
  * "from first request": the first request entered the shared queue → complete
    (leaves out the start-up of the worker processes).
texts/s is the expected article count over "from launch"; the speed-up is the
ratio to N = 1 in the same round; rounds alternate the order of N.  CPU is each
child's own (user + system, from the kernel at exit), over "to exit".

Correctness is checked for every run, and a wrong run aborts the benchmark:
the archive holds exactly the expected number of texts, one per URL; the
replica answered every one of those article URLs exactly once in that run, and
no other article.  ``--articles`` crawls a subset by limiting the profile's
``max_list_pages`` (a copy of the profile in a temporary profile directory):
every category's first pages, newest first.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import redis  # noqa: E402

from crawler.distributed.keys import SiteKeys  # noqa: E402
from crawler.profiles import BUNDLED_PROFILES, load_profile_file  # noqa: E402
from replica.loopback import free_port  # noqa: E402
from replica.process import replica_request_counts, running_replicas  # noqa: E402
from replica.redis_server import RedisServer  # noqa: E402
from replica.site import load_site  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(REPO)}
ARTICLE_PATH = re.compile(r"^/article/\d+\.html$")


@dataclass
class Run:
    workers: int
    texts: int
    from_launch: float
    from_first_request: float
    to_exit: float
    worker_cpu: float  # seconds, all workers together
    ingester_cpu: float
    pages_per_worker: list[int]

    @property
    def texts_per_s(self) -> float:
        return self.texts / self.from_launch


def fanwen(*args: str) -> list[str]:
    return [sys.executable, "-m", "fanwen.cli", *args]


def subset_profile(directory: Path, profile: str, list_pages: int) -> Path:
    """A copy of the bundled profile that walks at most ``list_pages`` pages of each category's list."""
    text = (BUNDLED_PROFILES / f"{profile}.toml").read_text(encoding="utf-8")
    text = text.replace("[navigation]\n", f"[navigation]\nmax_list_pages = {list_pages}\n", 1)
    path = directory / f"{profile}.toml"
    path.write_text(text, encoding="utf-8")
    assert load_profile_file(path).navigation.max_list_pages == list_pages
    return directory


def expected_articles(replica: str, list_pages: int) -> int:
    definition = load_site(replica).definition
    return sum(min(category.count, list_pages * definition.list_page_size) for category in definition.categories)


def wait_with_cpu(process: subprocess.Popen, timeout: float) -> float:
    """Wait for a child and return its own CPU seconds (user + system), from the kernel's accounting."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_utime + usage.ru_stime
        if time.monotonic() > deadline:
            process.kill()
            raise TimeoutError(f"{process.args} did not finish in {timeout} s")
        time.sleep(0.05)


def archived_texts(archive: Path) -> tuple[int, int]:
    connection = sqlite3.connect(archive)
    try:
        return connection.execute("select count(*), count(distinct url) from texts").fetchone()
    finally:
        connection.close()


def article_fetches(base_url: str) -> dict[str, int]:
    return {path: n for path, n in replica_request_counts(base_url).items() if ARTICLE_PATH.match(path)}


def crawl_once(n_workers: int, *, args, redis_url: str, base_url: str, profile_dir: Path, expected: int,
               workdir: Path) -> Run:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    keys = SiteKeys(args.profile)
    archive = workdir / f"archive-{n_workers}-{time.monotonic_ns()}.db"
    fetched_before = article_fetches(base_url)
    common = ["--redis", redis_url]
    ingester = subprocess.Popen(
        fanwen("ingest", args.profile, *common, "--archive", str(archive), "--until-idle", "15"),
        cwd=workdir, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    worker_command = fanwen(
        "crawl", args.profile, *common, "--base-url", base_url, "--delay", "0", "--concurrency", str(args.concurrency),
        "-s", "LOG_LEVEL=WARNING", "-s", "FANWEN_PROGRESS=off", "-s", f"FANWEN_PROFILE_DIRS={profile_dir}",
        "-s", f"FANWEN_REDIS_IDLE_SECONDS={args.idle_seconds}",
    )
    launched = time.monotonic()
    workers = [
        subprocess.Popen(worker_command, cwd=workdir, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(n_workers)
    ]
    first_request = complete = None
    deadline = launched + args.timeout
    while complete is None:
        now = time.monotonic()
        if first_request is None and client.exists(keys.dupefilter):
            first_request = now
        if client.scard(keys.archived) >= expected:
            complete = now
        elif now > deadline:
            raise TimeoutError(f"{n_workers} workers: archive not complete after {args.timeout} s")
        elif all(worker.poll() is not None for worker in workers) and ingester.poll() is not None:
            raise RuntimeError(f"{n_workers} workers: everything exited with {client.scard(keys.archived)} of "
                               f"{expected} articles archived")
        else:
            time.sleep(0.02)
    # Pipes are read only at the end: with LOG_LEVEL=WARNING a worker writes a few lines at most.
    worker_cpu = 0.0
    pages = []
    for worker in workers:
        worker_cpu += wait_with_cpu(worker, args.timeout)
        out, err = worker.communicate()
        if worker.returncode != 0:
            raise RuntimeError(f"a worker failed ({worker.returncode}):\n{err[-3000:]}")
        match = re.search(rf"{args.profile}: (\d+) pages", out)
        pages.append(int(match.group(1)) if match else 0)
    exited = time.monotonic()
    ingester_cpu = wait_with_cpu(ingester, args.timeout)
    ingest_out, ingest_err = ingester.communicate()
    if ingester.returncode != 0:
        raise RuntimeError(f"the ingester failed ({ingester.returncode}):\n{ingest_err[-3000:]}")

    # Correctness: exactly the expected articles, each fetched once and archived once.
    fetched_after = article_fetches(base_url)
    fetched = {path: n - fetched_before.get(path, 0) for path, n in fetched_after.items()}
    fetched = {path: n for path, n in fetched.items() if n}
    total, distinct = archived_texts(archive)
    with sqlite3.connect(archive) as connection:
        archived_paths = {re.sub(r"^https?://[^/]+", "", url) for (url,) in connection.execute("select url from texts")}
    problems = []
    if (total, distinct) != (expected, expected):
        problems.append(f"archive holds {total} texts for {distinct} URLs, expected {expected}")
    if sorted(set(fetched.values())) != [1]:
        twice = sorted(path for path, n in fetched.items() if n > 1)
        problems.append(f"{len(twice)} articles fetched more than once, e.g. {twice[:5]}")
    if archived_paths != set(fetched):
        problems.append(f"archived and fetched articles differ: {len(archived_paths ^ set(fetched))} URLs")
    if problems:
        raise RuntimeError(f"{n_workers} workers: wrong result: " + "; ".join(problems))
    return Run(
        workers=n_workers, texts=total, from_launch=complete - launched,
        from_first_request=complete - (first_request or launched), to_exit=exited - launched,
        worker_cpu=worker_cpu, ingester_cpu=ingester_cpu, pages_per_worker=pages,
    )


def warm_up(args, base_url: str, profile_dir: Path, workdir: Path) -> None:
    """One untimed plain crawl, so the replica has rendered and cached every page before the measured runs."""
    subprocess.run(
        fanwen("crawl", args.profile, "--archive", str(workdir / "warm-up.db"), "--base-url", base_url,
               "--delay", "0", "--concurrency", "64", "-s", "CONCURRENT_REQUESTS=64", "-s", "LOG_LEVEL=WARNING",
               "-s", "FANWEN_PROGRESS=off", "-s", f"FANWEN_PROFILE_DIRS={profile_dir}"),
        cwd=workdir, env=ENV, check=True, capture_output=True, text=True, timeout=args.timeout,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=0.3, help="seconds the replica waits before each answer")
    parser.add_argument("--concurrency", type=int, default=4, help="CONCURRENT_REQUESTS(_PER_DOMAIN) of each worker")
    parser.add_argument("--workers", default="1,2,3", help="worker counts to compare; the first is the baseline")
    parser.add_argument("--articles", type=int, help="crawl about this many articles (default: all of the replica)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--idle-seconds", type=float, default=3.0, help="FANWEN_REDIS_IDLE_SECONDS of the workers")
    parser.add_argument("--replica", default="huabo_large")
    parser.add_argument("--profile", default="huabo")
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]

    definition = load_site(args.replica).definition
    most_pages = max(math.ceil(category.count / definition.list_page_size) for category in definition.categories)
    list_pages = most_pages
    if args.articles:
        per_page = definition.list_page_size * len(definition.categories)
        list_pages = min(most_pages, math.ceil(args.articles / per_page))
    expected = expected_articles(args.replica, list_pages)

    with tempfile.TemporaryDirectory() as temporary:
        workdir = Path(temporary)
        (workdir / "profiles").mkdir()
        profile_dir = subset_profile(workdir / "profiles", args.profile, list_pages)
        server = RedisServer(workdir / "redis", free_port())
        server.directory.mkdir()
        server.start()
        try:
            with running_replicas([args.replica], latency=args.latency) as urls:
                base_url = urls[args.replica]
                warm_up(args, base_url, profile_dir, workdir)
                rounds: list[dict[int, Run]] = []
                for round_number in range(args.rounds):
                    order = counts if round_number % 2 == 0 else list(reversed(counts))
                    results = {}
                    for n in order:
                        results[n] = crawl_once(n, args=args, redis_url=server.url, base_url=base_url,
                                                profile_dir=profile_dir, expected=expected, workdir=workdir)
                        run = results[n]
                        print(f"round {round_number + 1}, {n} workers: {run.from_launch:.1f} s from launch, "
                              f"{run.from_first_request:.1f} s from the first request, {run.to_exit:.1f} s to exit, "
                              f"pages per worker {run.pages_per_worker}", file=sys.stderr, flush=True)
                    rounds.append(results)
        finally:
            server.stop()

    baseline = counts[0]
    load = os.getloadavg()
    print(f"replica {args.replica} with {args.latency} s latency per answer; profile {args.profile} limited to "
          f"{list_pages} list pages per category: {expected} articles; each worker CONCURRENT_REQUESTS = "
          f"CONCURRENT_REQUESTS_PER_DOMAIN = {args.concurrency}, no delay, FANWEN_REDIS_IDLE_SECONDS = "
          f"{args.idle_seconds}; one ingester; {args.rounds} round(s), medians; {os.cpu_count()} CPUs, "
          f"load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    ceiling = args.concurrency / args.latency
    print(f"latency ceiling of one worker: {args.concurrency} / {args.latency} s = {ceiling:.1f} requests/s")
    print("| workers | texts | s from launch | s from first request | s to exit | texts/s | speed-up vs "
          f"{baseline} | speed-up from first request | worker CPU s (total) | worker CPU % of wall | ingester CPU s | "
          "pages per worker |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n in counts:
        runs = [results[n] for results in rounds]
        median = statistics.median
        speedup = median(results[n].texts_per_s / results[baseline].texts_per_s for results in rounds)
        crawl_speedup = median(results[baseline].from_first_request / results[n].from_first_request for results in rounds)
        cpu_share = median(100 * r.worker_cpu / r.to_exit for r in runs)
        print(f"| {n} | {runs[0].texts} | {median(r.from_launch for r in runs):.1f} | "
              f"{median(r.from_first_request for r in runs):.1f} | {median(r.to_exit for r in runs):.1f} | "
              f"{median(r.texts_per_s for r in runs):.1f} | **{speedup:.2f}** | {crawl_speedup:.2f} | "
              f"{median(r.worker_cpu for r in runs):.1f} | "
              f"{cpu_share:.0f} | {median(r.ingester_cpu for r in runs):.1f} | "
              f"{' / '.join(str(p) for p in runs[0].pages_per_worker)} |")


if __name__ == "__main__":
    main()
