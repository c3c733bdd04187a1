"""Incremental crawling: a first crawl, a recrawl with nothing changed, a recrawl after 20 new articles.

    python benchmarks/incremental_recrawl.py [--replica huabo_large] [--profile huabo] [--delay 0]

Serves the replica (2,200 articles by default) on 127.0.0.1 and runs
`fanwen crawl` three times into a fresh archive.  Reports, against the first
crawl in the same run: requests made, crawl time (spider open → close, from the
crawl_runs table) and wall time of the whole command (including Python and
Scrapy start-up, which a recrawl cannot avoid).
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from replica.process import change_replica, running_replicas  # noqa: E402


def crawl(archive: Path, profile: str, base_url: str, delay: float) -> dict:
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "fanwen.cli", "crawl", profile, "--archive", str(archive), "--base-url", base_url,
         "--delay", str(delay), "--concurrency", "16", "-s", "LOG_LEVEL=WARNING"],
        check=True, cwd=REPO, capture_output=True,
    )
    wall = time.monotonic() - started
    connection = sqlite3.connect(archive)
    connection.row_factory = sqlite3.Row
    run = dict(connection.execute("select * from crawl_runs order by id desc limit 1").fetchone())
    connection.close()
    crawl_seconds = (datetime.fromisoformat(run["finished_at"]) - datetime.fromisoformat(run["started_at"])).total_seconds()
    return {"requests": run["pages_requested"], "new": run["texts_new"], "crawl_s": crawl_seconds, "wall_s": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replica", default="huabo_large")
    parser.add_argument("--profile", default="huabo")
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    with running_replicas([args.replica]) as urls, tempfile.TemporaryDirectory() as workdir:
        base_url = urls[args.replica]
        archive = Path(workdir) / "archive.db"
        first = crawl(archive, args.profile, base_url, args.delay)
        unchanged = crawl(archive, args.profile, base_url, args.delay)
        change_replica(base_url, "publish", 20)
        after_new = crawl(archive, args.profile, base_url, args.delay)

    print(f"replica {args.replica} ({first['new']} articles), profile {args.profile}, delay {args.delay} s")
    print("| run | requests | texts new | crawl s | wall s | requests vs first | crawl time vs first | wall time vs first |")
    print("|---|---|---|---|---|---|---|---|")
    for name, run in (("first crawl", first), ("recrawl, nothing changed", unchanged), ("recrawl after 20 new", after_new)):
        print(f"| {name} | {run['requests']} | {run['new']} | {run['crawl_s']:.2f} | {run['wall_s']:.2f} | "
              f"{run['requests'] / first['requests']:.4f} | {run['crawl_s'] / first['crawl_s']:.4f} | "
              f"{run['wall_s'] / first['wall_s']:.3f} |")


if __name__ == "__main__":
    main()
