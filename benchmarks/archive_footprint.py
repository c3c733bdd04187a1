"""What keeping everything costs: archive bytes per page, and re-cleaning speed.

    python benchmarks/archive_footprint.py [--replica huabo_large] [--profile huabo]

Crawls the replica into a fresh archive with the full pipeline, then reports
(1) the bytes of the WARC files and of archive.db against the raw HTML bytes
of the stored responses, and (2) `fanwen reclean` pages/s (reading every page
back from WARC, extracting, comparing with the archive) against extraction
alone over the same pages held in memory, measured in the same process.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from warcio.archiveiterator import ArchiveIterator  # noqa: E402

from archive.database import Archive, warc_directory  # noqa: E402
from archive.warc_store import read_page  # noqa: E402
from crawler.profiles import load_profile  # noqa: E402
from fanwen.reclean import reclean  # noqa: E402
from pipelines.extraction import extract_texts  # noqa: E402
from replica.process import running_replicas  # noqa: E402


def raw_html_bytes(directory: Path) -> tuple[int, int]:
    pages = total = 0
    for path in sorted(directory.glob("*.warc.gz")):
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type == "response":
                    total += len(record.content_stream().read())
                    pages += 1
    return pages, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replica", default="huabo_large")
    parser.add_argument("--profile", default="huabo")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        archive_path = Path(workdir) / "archive.db"
        with running_replicas([args.replica]) as urls:
            subprocess.run(
                [sys.executable, "-m", "fanwen.cli", "crawl", args.profile, "--archive", str(archive_path),
                 "--base-url", urls[args.replica], "--delay", "0", "--concurrency", "16", "-s", "LOG_LEVEL=WARNING"],
                check=True, cwd=REPO, capture_output=True,
            )
        warc_dir = warc_directory(archive_path)
        pages, raw = raw_html_bytes(warc_dir)
        warc = sum(path.stat().st_size for path in warc_dir.glob("*.warc.gz"))
        with Archive(archive_path) as archive:
            archive.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            texts = archive.count_texts()
        database = archive_path.stat().st_size

        with Archive(archive_path) as archive:
            fetches = list(archive.latest_fetches())
            in_memory = [[read_page(warc_dir, p["warc_file"], p["warc_offset"]) for p in f.pages] for f in fetches]
            rules = load_profile(args.profile).extract
            started = time.perf_counter()
            for article_pages in in_memory:
                extract_texts(article_pages, rules)
            extract_seconds = time.perf_counter() - started
            started = time.perf_counter()
            report = reclean(archive)
            reclean_seconds = time.perf_counter() - started
        recleaned_pages = sum(len(f.pages) for f in fetches)

    print(f"replica {args.replica}: {pages} stored responses, {texts} texts")
    print("| stored | bytes | per page | vs raw HTML |")
    print("|---|---|---|---|")
    print(f"| raw HTML (response bodies) | {raw:,} | {raw / pages / 1024:.1f} KB | 1.00 |")
    print(f"| WARC files (gzip per record, with request records and headers) | {warc:,} | {warc / pages / 1024:.1f} KB | {warc / raw:.3f} |")
    print(f"| archive.db (texts, captures index, signatures, clusters) | {database:,} | {database / pages / 1024:.1f} KB | {database / raw:.3f} |")
    print(f"| WARC + archive.db | {warc + database:,} | {(warc + database) / pages / 1024:.1f} KB | {(warc + database) / raw:.3f} |")
    print()
    print("| re-clean | pages/s | vs extraction alone |")
    print("|---|---|---|")
    print(f"| extraction alone, pages in memory | {recleaned_pages / extract_seconds:.0f} | 1.00 |")
    print(f"| `fanwen reclean` (read WARC, extract, compare, write) | {recleaned_pages / reclean_seconds:.0f} | "
          f"{extract_seconds / reclean_seconds:.2f} |")
    print(f"(reclean: {report.counts.unchanged} unchanged, {report.counts.changed} changed, {report.counts.new} new)")


if __name__ == "__main__":
    main()
