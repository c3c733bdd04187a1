"""End-to-end crawl throughput: the full pipeline against a bare download-only crawl.

All crawl the same replica site with the same spider and settings; the bare
crawl has no item pipelines (it downloads and walks the same pages and drops
the items), the extraction-only crawl runs the cleaning core but stores
nothing, the full crawl is what `fanwen crawl` does.  Rounds alternate the
order so machine noise hits all alike; the report gives each one's pages/s,
CPU ms per page and ratio to the bare crawl.

    python benchmarks/crawl_throughput.py [--rounds 5] [--replica huabo_large] [--profile huabo] [--setting KEY=VALUE ...]

``--setting`` overrides a project setting in all three crawls alike (e.g.
``FANWEN_GC_THRESHOLD=0`` for Python's default garbage collector thresholds).

Each crawl runs in a child process (Twisted's reactor cannot restart); CPU
time is that process's and its own children's (the archive writer process),
measured between spider_opened and spider_closed.  Also printed: each round's
own full / bare ratio, and the CPU the replica server spent per page (it shares
the machine; ``GET /__replica__/cpu``).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CRAWL_SETTINGS = {
    "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "LOG_LEVEL": "WARNING",
    "ROBOTSTXT_OBEY": True,
}


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def child(mode: str, site: str, base_url: str, archive: str, settings: list[str]) -> None:
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from fanwen.crawl import project_settings

    overrides = dict(CRAWL_SETTINGS)
    overrides.update(setting.split("=", 1) for setting in settings)
    if mode == "bare":
        overrides["ITEM_PIPELINES"] = {}
    elif mode == "extract":  # the cleaning core without the archive: where the writer's cost starts
        overrides["ITEM_PIPELINES"] = {"crawler.item_pipelines.ExtractTextsPipeline": 300}
    process = CrawlerProcess(project_settings(archive, overrides))
    crawler = process.create_crawler(site)
    marks: dict[str, float] = {}

    # Module-level-lived functions: Scrapy holds signal receivers by weak reference.
    # The crawl's cost includes its finished children: the archive writer process.
    def opened(spider):
        marks["open"] = cpu_seconds()
        marks["open_children"] = cpu_seconds(resource.RUSAGE_CHILDREN)

    def received(response, request, spider):
        marks["last_response"] = time.perf_counter()

    def closed(spider, reason):
        marks["closed_at"] = time.perf_counter()
        marks["close"] = cpu_seconds()
        marks["close_children"] = cpu_seconds(resource.RUSAGE_CHILDREN)

    crawler.signals.connect(opened, signal=signals.spider_opened)
    crawler.signals.connect(received, signal=signals.response_received)
    crawler.signals.connect(closed, signal=signals.spider_closed)
    process.crawl(crawler, base_url=base_url)
    process.start()
    stats = crawler.stats.get_stats()
    print(json.dumps({
        "mode": mode,
        "pages": stats.get("response_received_count", 0),
        "bytes": stats.get("downloader/response_bytes", 0),
        "seconds": stats["elapsed_time_seconds"],
        "cpu": marks["close"] - marks["open"] + marks["close_children"] - marks["open_children"],
        "writer_cpu": marks["close_children"] - marks["open_children"],
        "texts": stats.get("fanwen/texts_new", 0),
        # After the last page: the writer's backlog and last batch, the cluster refresh.
        "closing_seconds": marks["closed_at"] - marks["last_response"],
    }))


def run_child(mode: str, site: str, base_url: str, settings: list[str]) -> dict:
    from replica.process import replica_cpu_seconds

    served_before = replica_cpu_seconds(base_url)
    with tempfile.TemporaryDirectory() as workdir:
        output = subprocess.run(
            [sys.executable, __file__, "--child", mode, "--profile", site, "--base-url", base_url,
             "--archive", str(Path(workdir) / "archive.db"), *(f"--setting={setting}" for setting in settings)],
            check=True, capture_output=True, text=True, cwd=REPO,
        ).stdout
    result = json.loads(output.strip().splitlines()[-1])
    result["server_cpu"] = replica_cpu_seconds(base_url) - served_before
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--replica", default="huabo_large", help="replica site to serve")
    parser.add_argument("--profile", default="huabo", help="site profile to crawl it with")
    parser.add_argument("--child", choices=["bare", "extract", "full"])
    parser.add_argument("--base-url")
    parser.add_argument("--archive")
    parser.add_argument("--setting", action="append", default=[], metavar="KEY=VALUE", help="project setting override")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.profile, args.base_url, args.archive, args.setting)
        return

    from replica.process import running_replicas

    with running_replicas([args.replica]) as urls:
        base_url = urls[args.replica]
        run_child("bare", args.profile, base_url, args.setting)  # warm-up: the replica renders and caches every page
        results: dict[str, list[dict]] = {"bare": [], "extract": [], "full": []}
        for round_number in range(args.rounds):
            order = ("bare", "extract", "full") if round_number % 2 == 0 else ("full", "extract", "bare")
            for mode in order:
                results[mode].append(run_child(mode, args.profile, base_url, args.setting))

    def summary(mode: str) -> dict:
        runs = results[mode]
        return {
            "crawl_ms_per_page": statistics.median(1000 * (r["cpu"] - r["writer_cpu"]) / r["pages"] for r in runs),
            "pages": runs[0]["pages"],
            "kb_per_page": runs[0]["bytes"] / runs[0]["pages"] / 1024,
            "pages_per_s": statistics.median(r["pages"] / r["seconds"] for r in runs),
            "cpu_ms_per_page": statistics.median(1000 * r["cpu"] / r["pages"] for r in runs),
            "writer_ms_per_page": statistics.median(1000 * r["writer_cpu"] / r["pages"] for r in runs),
            "server_ms_per_page": statistics.median(1000 * r["server_cpu"] / r["pages"] for r in runs),
            "texts": runs[0]["texts"],
            "closing_s": statistics.median(r["closing_seconds"] for r in runs),
            "seconds": statistics.median(r["seconds"] for r in runs),
        }

    bare, extract, full = summary("bare"), summary("extract"), summary("full")
    # Each round ran all three crawls back to back: its own ratio shows how far the median can move.
    round_ratios = sorted((f["pages"] / f["seconds"]) / (b["pages"] / b["seconds"])
                          for f, b in zip(results["full"], results["bare"]))
    print(f"replica {args.replica} crawled with profile {args.profile}: {bare['pages']} pages per crawl, {bare['kb_per_page']:.1f} KB per page, "
          f"median of {args.rounds} alternating rounds" + (f", settings {' '.join(args.setting)}" if args.setting else ""))
    print("| crawl | pages/s | ratio to bare | CPU ms/page (all processes) | in the crawl process | in the archive writer process | texts archived |")
    print("|---|---|---|---|---|---|---|")
    print(f"| bare Scrapy (download only) | {bare['pages_per_s']:.0f} | 1.00 | {bare['cpu_ms_per_page']:.2f} | "
          f"{bare['crawl_ms_per_page']:.2f} | - | 0 |")
    print(f"| extraction only (decode, clean, extract; nothing stored) | {extract['pages_per_s']:.0f} | "
          f"{extract['pages_per_s'] / bare['pages_per_s']:.2f} | {extract['cpu_ms_per_page']:.2f} | "
          f"{extract['crawl_ms_per_page']:.2f} | - | 0 |")
    print(f"| full pipeline (extract + WARC, captures, texts, search index, duplicates) | {full['pages_per_s']:.0f} | "
          f"**{full['pages_per_s'] / bare['pages_per_s']:.2f}** | {full['cpu_ms_per_page']:.2f} | "
          f"{full['crawl_ms_per_page']:.2f} | {full['writer_ms_per_page']:.2f} | {full['texts']} |")
    print(f"full crawl: {full['seconds']:.2f} s, of which {full['closing_s']:.2f} s after its last page "
          f"(the writer's backlog and last batch, the duplicate-cluster refresh)")
    print(f"full / bare per round: {' '.join(f'{ratio:.2f}' for ratio in round_ratios)}")
    print(f"replica server CPU ms per page (same machine, not in the table): bare {bare['server_ms_per_page']:.2f}, "
          f"extraction only {extract['server_ms_per_page']:.2f}, full {full['server_ms_per_page']:.2f}")


if __name__ == "__main__":
    main()
