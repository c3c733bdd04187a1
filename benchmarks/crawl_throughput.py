"""End-to-end crawl throughput: the full pipeline against a bare download-only crawl, at each page weight.

All crawl the same replica site with the same spider and settings; the bare
crawl has no item pipelines (it downloads and walks the same pages and drops
the items), the extraction-only crawl runs the cleaning core but stores
nothing, the full crawl is what `fanwen crawl` does.  Rounds alternate the
order so machine noise hits all alike; the report gives each one's pages/s,
CPU ms per page and ratio to the bare crawl.

The replica serves its pages at each ``--weights`` weight (replica/page_weight.py):
``light``, the templates alone (about 14 KB a page), and ``real``, with the chrome
real pages of the family carry (menus, inlined stylesheet and scripts, ad code, long
link lists: 40-200 KB a page).  One replica server per weight runs for the whole
benchmark, and every round crawls both, so the two ratios come from the same run.

    python benchmarks/crawl_throughput.py [--rounds 5] [--weights light,real] [--replica huabo_large]
        [--profile huabo] [--setting KEY=VALUE ...] [--cprofile real]

``--setting`` overrides a project setting in all crawls alike (e.g.
``FANWEN_GC_THRESHOLD=0`` for Python's default garbage collector thresholds).
``--cprofile WEIGHT`` then runs one more full crawl at that weight under cProfile
and prints where the crawl process spent its time.

Each crawl runs in a child process (Twisted's reactor cannot restart); CPU
time is that process's and its own children's (the archive writer process),
measured between spider_opened and spider_closed.  The replica server's CPU per
page is measured around each crawl (it shares the machine; ``GET /__replica__/cpu``).
Also printed: each round's own full / bare ratio, where the full crawl's articles were cleaned
(the crawl's process or the archive writer's: ``FANWEN_CLEAN_IN_WRITER``), and the CPU a page the full pipeline's own work
could spend (beyond what bare Scrapy's crawl process spends) for the full crawl to reach
``TARGET_RATIO`` of bare Scrapy's pages/s with every core busy, against what it spent.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
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


def child(mode: str, site: str, base_url: str, archive: str, settings: list[str], profile_to: str | None = None) -> None:
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from crawler.item_pipelines import CLEANED_IN_CRAWL_STAT, CLEANED_IN_WRITER_STAT
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
    if profile_to:
        # cProfile's own clock (wall time): a CPU-time clock costs a system call per event, which
        # inflates code of many small calls (Scrapy, asyncio) several times over.  Time spent
        # waiting in poll() is set apart when the profile is printed.
        cProfile.runctx("process.start()", globals(), {"process": process}, profile_to)
    else:
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
        "cleaned_in_writer": stats.get(CLEANED_IN_WRITER_STAT, 0),
        "cleaned_in_crawl": stats.get(CLEANED_IN_CRAWL_STAT, 0),
        # After the last page: the writer's backlog and last batch, the cluster refresh.
        "closing_seconds": marks["closed_at"] - marks["last_response"],
    }))


def run_child(mode: str, site: str, base_url: str, settings: list[str], profile_to: str | None = None) -> dict:
    from replica.process import replica_cpu_seconds

    served_before = replica_cpu_seconds(base_url)
    with tempfile.TemporaryDirectory() as workdir:
        output = subprocess.run(
            [sys.executable, __file__, "--child", mode, "--profile", site, "--base-url", base_url,
             "--archive", str(Path(workdir) / "archive.db"), *(f"--setting={setting}" for setting in settings),
             *(["--profile-to", profile_to] if profile_to else [])],
            check=True, capture_output=True, text=True, cwd=REPO,
        ).stdout
    result = json.loads(output.strip().splitlines()[-1])
    result["server_cpu"] = replica_cpu_seconds(base_url) - served_before
    return result


MODES = ("bare", "extract", "full")
TARGET_RATIO = 0.75  # issue 20: the full pipeline at this share of bare Scrapy's pages/s, at real page weight
LABELS = {
    "bare": "bare Scrapy (download only)",
    "extract": "extraction only (decode, clean, extract; nothing stored)",
    "full": "full pipeline (extract + WARC, captures, texts, search index, duplicates)",
}


def summary(runs: list[dict]) -> dict:
    return {
        "pages": runs[0]["pages"],
        "kb_per_page": runs[0]["bytes"] / runs[0]["pages"] / 1024,
        "pages_per_s": statistics.median(r["pages"] / r["seconds"] for r in runs),
        "cpu_ms_per_page": statistics.median(1000 * r["cpu"] / r["pages"] for r in runs),
        "crawl_ms_per_page": statistics.median(1000 * (r["cpu"] - r["writer_cpu"]) / r["pages"] for r in runs),
        "writer_ms_per_page": statistics.median(1000 * r["writer_cpu"] / r["pages"] for r in runs),
        "server_ms_per_page": statistics.median(1000 * r["server_cpu"] / r["pages"] for r in runs),
        "texts": runs[0]["texts"],
        "closing_s": statistics.median(r["closing_seconds"] for r in runs),
        "seconds": statistics.median(r["seconds"] for r in runs),
    }


def print_weight(weight: str, results: dict[str, list[dict]], args: argparse.Namespace) -> float:
    """One weight's table; returns its full / bare ratio."""
    rows = {mode: summary(results[mode]) for mode in MODES}
    bare = rows["bare"]
    print(f"\nweight {weight}: replica {args.replica} crawled with profile {args.profile}, {bare['pages']} pages per crawl, "
          f"{bare['kb_per_page']:.1f} KB per page, median of {args.rounds} alternating rounds"
          + (f", settings {' '.join(args.setting)}" if args.setting else ""))
    print("| crawl | pages/s | ratio to bare | CPU ms/page (crawl + writer) | crawl process | archive writer process "
          "| replica server | texts archived |")
    print("|---|---|---|---|---|---|---|---|")
    for mode in MODES:
        row = rows[mode]
        ratio = row["pages_per_s"] / bare["pages_per_s"]
        shown = f"**{ratio:.2f}**" if mode == "full" else f"{ratio:.2f}"
        writer = f"{row['writer_ms_per_page']:.2f}" if mode == "full" else "-"
        print(f"| {LABELS[mode]} | {row['pages_per_s']:.0f} | {shown} | {row['cpu_ms_per_page']:.2f} | "
              f"{row['crawl_ms_per_page']:.2f} | {writer} | {row['server_ms_per_page']:.2f} | {row['texts']} |")
    full = rows["full"]
    # Each round ran all three crawls back to back: its own ratio shows how far the median can move.
    round_ratios = sorted((f["pages"] / f["seconds"]) / (b["pages"] / b["seconds"])
                          for f, b in zip(results["full"], results["bare"]))
    print(f"full crawl: {full['seconds']:.2f} s, of which {full['closing_s']:.2f} s after its last page "
          f"(the writer's backlog and last batch, the duplicate-cluster refresh)")
    print(f"full / bare per round: {' '.join(f'{ratio:.2f}' for ratio in round_ratios)}")
    in_writer = statistics.median(run["cleaned_in_writer"] for run in results["full"])
    in_crawl = statistics.median(run["cleaned_in_crawl"] for run in results["full"])
    print(f"full crawl's articles cleaned in the crawl's process / in the archive writer process: "
          f"{in_crawl:.0f} / {in_writer:.0f} (medians)")
    # At TARGET_RATIO of bare Scrapy's pages/s, all the cores busy all the time give each page this
    # much CPU; bare Scrapy's own crawl process and the replica server take theirs first.
    cores = os.cpu_count() or 1
    budget = 1000 * cores / (TARGET_RATIO * bare["pages_per_s"]) - bare["crawl_ms_per_page"] - full["server_ms_per_page"]
    spent = full["crawl_ms_per_page"] + full["writer_ms_per_page"] - bare["crawl_ms_per_page"]
    print(f"CPU a page for the pipeline's own work (beyond bare Scrapy's crawl process) at {TARGET_RATIO} × bare on "
          f"{cores} cores, if every core were busy all the time: {budget:.2f} ms; the full crawl spent {spent:.2f} ms")
    return full["pages_per_s"] / bare["pages_per_s"]


# Where a function's own time is counted, by the path of its source file (first match wins).
PROFILE_AREAS = (
    ("the cleaning core (pipelines/)", "/pipelines/"),
    ("the project's Scrapy parts (crawler/)", "/crawler/"),
    ("fanwen/ (archive hand-over, writer client)", "/fanwen/"),
    ("Scrapy", "/scrapy/"),
    ("Twisted", "/twisted/"),
    ("asyncio", "/asyncio/"),
    ("lxml, parsel, w3lib (parsing, selectors, URLs)", ("/lxml/", "/parsel/", "/w3lib/", "/cssselect/")),
)


def print_profile(path: str, limit: int = 25) -> None:
    stats = pstats.Stats(path)
    areas: dict[str, float] = {}
    waiting = 0.0
    for (filename, _, function), (_, _, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        if filename == "~" and ("'poll'" in function or "'select'" in function or "'epoll'" in function):
            waiting += own
            continue
        area = next((name for name, marks in PROFILE_AREAS
                     if any(mark in filename for mark in ((marks,) if isinstance(marks, str) else marks))),
                    "built-in functions (C: sockets, decoding, regex, …)" if filename == "~" else "other Python")
        areas[area] = areas.get(area, 0.0) + own
    total = sum(areas.values())
    print(f"\ncrawl process under cProfile (full pipeline): {total:.2f} s running (plus {waiting:.2f} s waiting "
          "in poll), own time by area")
    print("| area | CPU s | share |")
    print("|---|---|---|")
    for area, seconds in sorted(areas.items(), key=lambda item: -item[1]):
        print(f"| {area} | {seconds:.2f} | {seconds / total:.0%} |")
    for order in ("tottime", "cumulative"):
        print(f"-- top {limit} by {order}")
        stats.sort_stats(order).print_stats(limit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--weights", default="light,real", help="page weights to serve, comma-separated")
    parser.add_argument("--replica", default="huabo_large", help="replica site to serve")
    parser.add_argument("--profile", default="huabo", help="site profile to crawl it with")
    parser.add_argument("--child", choices=MODES)
    parser.add_argument("--base-url")
    parser.add_argument("--archive")
    parser.add_argument("--profile-to", help="(child) write the crawl's cProfile statistics to this file")
    parser.add_argument("--cprofile", metavar="WEIGHT", help="after the rounds, profile one full crawl at this weight")
    parser.add_argument("--setting", action="append", default=[], metavar="KEY=VALUE", help="project setting override")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.profile, args.base_url, args.archive, args.setting, args.profile_to)
        return

    from contextlib import ExitStack

    from replica.page_weight import check_weight
    from replica.process import running_replicas

    weights = [check_weight(weight.strip()) for weight in args.weights.split(",") if weight.strip()]
    if args.cprofile:
        check_weight(args.cprofile)
    with ExitStack() as stack:
        base_urls = {weight: stack.enter_context(running_replicas([args.replica], weight=weight))[args.replica]
                     for weight in {*weights, *([args.cprofile] if args.cprofile else [])}}
        for weight in weights:  # warm-up: the replica renders and caches every page
            run_child("bare", args.profile, base_urls[weight], args.setting)
        results = {weight: {mode: [] for mode in MODES} for weight in weights}
        for round_number in range(args.rounds):
            forward = round_number % 2 == 0
            for weight in (weights if forward else weights[::-1]):
                for mode in (MODES if forward else MODES[::-1]):
                    results[weight][mode].append(run_child(mode, args.profile, base_urls[weight], args.setting))
        if args.rounds:
            ratios = {weight: print_weight(weight, results[weight], args) for weight in weights}
            print("\nfull pipeline / bare Scrapy, pages/s: "
                  + ", ".join(f"{weight} {ratio:.2f}" for weight, ratio in ratios.items()))
        if args.cprofile:
            with tempfile.TemporaryDirectory() as workdir:
                path = str(Path(workdir) / "crawl.prof")
                if args.cprofile not in weights:
                    run_child("bare", args.profile, base_urls[args.cprofile], args.setting)
                run_child("full", args.profile, base_urls[args.cprofile], args.setting, profile_to=path)
                print_profile(path)


if __name__ == "__main__":
    main()
