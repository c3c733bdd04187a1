"""The duplicate refresh after a crawl of 1,000 new texts, in archives of growing size.

    python benchmarks/dedup_refresh.py [--sizes 10000 100000] [--new 1000] [--copies 0.03] [--workdir DIR]

Builds archives through the archive's own write path (``Archive.save_texts`` in batches of
200, as a crawl's writer does) from generated texts (``replica.corpus``) with planted
copies of archived texts (verbatim, retitled, re-templated, a paragraph inserted,
re-punctuated, a truncated preview: ``--copies`` of the texts), each size grown from the
one before and its clusters settled.  At each size it saves ``--new`` texts (a tenth of them
copies of archived texts) and runs the refresh a crawl's end runs on copies of that
archive: the incremental one (only the new texts' candidates, through the band-key index)
and a full one (``refresh_duplicates(full=True)``, every text).  Each refresh runs in a
fresh process, once for its CPU time and once under tracemalloc for its peak memory.  Both
must give the same clusters.  The incremental refresh's work is counted too: the signatures it
reads (a new text's own and its candidates') and its exact checks.  These grow as the band keys of
the new texts fill up towards ``dedup.BAND_CAP`` earlier texts each, which a larger archive's keys
are closer to, and so does its time.

Building takes a while (about 7 ms of CPU a text, most of it the full-text index);
``--workdir`` keeps the archives built (``archive-SIZE.db``) for the next run.  Times are
CPU seconds, as ratios against the full refresh at the same size and against the
incremental refresh at the smallest size: the machine is shared, wall times vary.
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from archive import dedup  # noqa: E402
from archive.database import Archive, TextToArchive, _ArchiveDuplicateIndex  # noqa: E402
from records.texts import ExtractedText  # noqa: E402
from replica.copies import copy_text  # noqa: E402
from replica.corpus import SampleText, generate_texts  # noqa: E402

BATCH = 200  # texts per save_texts call: the archive writer's batch
CHUNK = 2000  # texts generated at a time (generate_texts keeps titles unique within a call)
SOURCES_KEPT = 2000  # archived texts kept (a uniform sample) to copy from
_TO_ASCII = str.maketrans({"，": ",", "：": ":", "；": ";", "（": "(", "）": ")"})


def _copy(source: SampleText, rng: random.Random) -> tuple[tuple[str, ...], bool]:
    """Paragraphs of a copy of ``source`` as a copying site publishes it, and whether it is a truncated preview."""
    kind = rng.choice(("verbatim", "retitled", "placeholders", "inserted_paragraph", "repunctuated", "preview"))
    if kind == "preview":
        return source.paragraphs[: max(2, round(len(source.paragraphs) * rng.uniform(0.4, 0.6)))], True
    if kind == "repunctuated":
        return tuple("\u3000\u3000" + p.translate(_TO_ASCII) for p in source.paragraphs), False
    filler = ("同时，我们也要清醒地看到，工作中还存在一些不容忽视的问题。",)
    return copy_text(source, kind, filler, rng).paragraphs, False


class Corpus:
    """Texts to save: generated ones (``seed`` picks them), with copies of earlier ones planted among them."""

    def __init__(self, seed: int, sources: list[SampleText] | None = None) -> None:
        self.seed, self.rng = seed, random.Random(f"dedup-refresh:{seed}")
        self.sources = list(sources or [])  # texts to copy from
        self.seen = len(self.sources)
        self.fresh: list[SampleText] = []
        self.chunks = self.made = 0

    def _keep(self, sample: SampleText) -> None:
        # Reservoir sampling: every archived text equally likely to be copied, in bounded memory.
        self.seen += 1
        if len(self.sources) < SOURCES_KEPT:
            self.sources.append(sample)
        elif (slot := self.rng.randrange(self.seen)) < SOURCES_KEPT:
            self.sources[slot] = sample

    def items(self, count: int, copies: float, site: str) -> list[TextToArchive]:
        items: list[TextToArchive] = []
        while len(items) < count:
            if self.sources and self.rng.random() < copies:
                source = self.rng.choice(self.sources)
                paragraphs, truncated = _copy(source, self.rng)
                items.append(self._item(source, paragraphs, truncated, f"copier{self.rng.randrange(7)}"))
                continue
            if not self.fresh:
                self.fresh = generate_texts(CHUNK, seed=self.seed * 1000 + self.chunks, prefix=f"s{self.seed}c{self.chunks}-")
                self.fresh.reverse()
                self.chunks += 1
            sample = self.fresh.pop()
            self._keep(sample)
            items.append(self._item(sample, sample.paragraphs, False, site))
        return items

    def _item(self, sample: SampleText, paragraphs, truncated: bool, site: str) -> TextToArchive:
        self.made += 1
        record = ExtractedText(
            url=f"http://{site}.example/{sample.key}/{self.seed}-{self.made}.html", title=sample.title,
            published=sample.published.date().isoformat(), text="\n".join(paragraphs), truncated=truncated,
            genre=sample.genre,
        )
        fetched = sample.published.isoformat()
        return TextToArchive(site, sample.genre, fetched, record, first_seen=fetched)


def archived_samples(path: Path, count: int, rng: random.Random) -> list[SampleText]:
    """``count`` texts of the archive, drawn at random, as samples to copy."""
    with sqlite3.connect(path) as connection:
        last = connection.execute("select coalesce(max(id), 0) from texts").fetchone()[0]
        ids = rng.sample(range(1, last + 1), min(count, last))
        rows = connection.execute(
            f"select id, title, genre, published, text from texts where id in ({', '.join('?' * len(ids))})", ids
        ).fetchall()
    return [
        SampleText(f"a{text_id}", title, genre or "讲话稿", datetime.datetime.fromisoformat(published or "2024-01-01"),
                   tuple(text.split("\n")))
        for text_id, title, genre, published, text in rows
    ]


def grow(path: Path, target: int, copies: float) -> None:
    """Save generated texts (``copies`` of them copies of archived ones) until the archive holds ``target``; settle its clusters."""
    with Archive(path) as archive:
        have = archive.count_texts()
        # Seeded by the size it starts from, so that an archive grown in steps gets no text twice.
        corpus = Corpus(seed=1 + have, sources=archived_samples(path, SOURCES_KEPT, random.Random(have)) if have else None)
        while have < target:
            counts = archive.save_texts(corpus.items(min(BATCH, target - have), copies, "origin"))
            have += counts.new
        archive.refresh_duplicates()


def snapshot(source: Path, target: Path) -> None:
    """Copy an archive to a new file, its write-ahead log emptied: a measured refresh must not pay for the copy."""
    for stale in (target, target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
        stale.unlink(missing_ok=True)
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    src.backup(dst)
    dst.execute("pragma wal_checkpoint(truncate)")
    src.close()
    dst.close()


def count_reads() -> dict[str, int]:
    """Count, from now on, the signatures a refresh reads and its exact checks.

    The incremental refresh's work follows these: how many earlier texts the new texts' band keys
    hold (at most ``dedup.BAND_CAP`` each), not how many texts the archive holds.
    """
    counts = {"signatures": 0, "checks": 0}
    read, check = _ArchiveDuplicateIndex.signatures, dedup._same_text

    def signatures(self, ids):
        counts["signatures"] += len(ids)
        return read(self, ids)

    def same_text(*args, **kwargs):
        counts["checks"] += 1
        return check(*args, **kwargs)

    _ArchiveDuplicateIndex.signatures, dedup._same_text = signatures, same_text  # type: ignore[method-assign]
    return counts


def measure(path: Path, mode: str, memory: bool) -> dict:
    """Run one refresh in this process: CPU and wall seconds, or (``memory``) the peak of memory traced during it."""
    counts = count_reads()
    with Archive(path) as archive:
        if memory:
            tracemalloc.start()
        wall, cpu = time.perf_counter(), time.process_time()
        clusters = archive.refresh_duplicates(full=mode == "full")  # incremental even past FULL_REFRESH_SHARE
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        peak = tracemalloc.get_traced_memory()[1] / 2**20 if memory else None
    return {"wall": wall, "cpu": cpu, "peak_mb": peak, "clusters": clusters, **counts}


def measure_in_child(path: Path, mode: str, memory: bool = False) -> dict:
    """``measure`` in a fresh process (on a fresh copy of the archive: a refresh changes it)."""
    copy = path.with_name(f"{mode}{'-memory' if memory else ''}.db")
    snapshot(path, copy)
    result = subprocess.run(
        [sys.executable, __file__, "--measure", str(copy), "--mode", mode, *(["--memory"] if memory else [])],
        check=True, capture_output=True, text=True, cwd=REPO,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def clusters_of(path: Path) -> tuple[list, list]:
    with sqlite3.connect(path) as connection:
        return (
            connection.execute("select id, cluster_id from texts order by id").fetchall(),
            connection.execute("select * from duplicate_clusters order by cluster_id").fetchall(),
        )


def band_index_bytes_per_text(path: Path) -> float | None:
    with sqlite3.connect(path) as connection:
        try:
            size = connection.execute("select sum(pgsize) from dbstat where name = 'dedup_bands'").fetchone()[0]
        except sqlite3.OperationalError:  # SQLite built without the dbstat table
            return None
        return size / connection.execute("select count(*) from texts").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--new", type=int, default=1000, help="texts saved before the measured refresh")
    parser.add_argument("--copies", type=float, default=0.03, help="share of the archive's texts that are copies")
    parser.add_argument("--workdir", type=Path,
                        help="keep the archives built here and reuse them on the next run (default: a temporary directory)")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=["incremental", "full"], help=argparse.SUPPRESS)
    parser.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.mode, args.memory)))
        return

    rows = []
    with tempfile.TemporaryDirectory() as temporary:
        workdir = args.workdir or Path(temporary)
        workdir.mkdir(parents=True, exist_ok=True)
        previous = None
        for size in sorted(args.sizes):
            # archive-SIZE.db: the archive at SIZE texts, clusters settled; kept in --workdir for the next run.
            base = workdir / f"archive-{size}.db"
            built = None
            started = time.perf_counter()
            if not base.exists():
                if previous is not None:
                    snapshot(previous, base)
                built = 0.0
            # A kept archive is settled again too: its clusters may date from another clustering scheme.
            grow(base, size, args.copies)
            if built is not None:
                built = time.perf_counter() - started
            previous = base
            # The crawl to measure: new texts, a tenth of them copies of archived ones, saved as a crawl saves them.
            crawled = workdir / "crawled.db"
            snapshot(base, crawled)
            crawl = Corpus(seed=2 + size, sources=archived_samples(base, SOURCES_KEPT, random.Random(size)))
            with Archive(crawled) as archive:
                for start in range(0, args.new, BATCH):
                    archive.save_texts(crawl.items(min(BATCH, args.new - start), 0.1, "newsite"))
            results = {mode: measure_in_child(crawled, mode) for mode in ("incremental", "full")}
            for mode in ("incremental", "full"):
                results[mode]["peak_mb"] = measure_in_child(crawled, mode, memory=True)["peak_mb"]
            same = clusters_of(workdir / "incremental.db") == clusters_of(workdir / "full.db")
            rows.append({"size": size, "same": same, "bands": band_index_bytes_per_text(crawled), **{
                f"{mode}_{key}": value for mode, result in results.items() for key, value in result.items()}})
            note = f"built in {built:.0f} s" if built is not None else f"taken from {base}"
            print(f"# {size:,} texts {note}; refreshes measured", file=sys.stderr, flush=True)

    smallest = rows[0]["incremental_cpu"]
    print(f"Duplicate refresh after a crawl of {args.new:,} new texts ({args.copies:.0%} of the archive planted copies; "
          f"a tenth of the new texts copies of archived ones).  CPU time; memory traced by tracemalloc.")
    print("| texts in archive | incremental: time vs full | incremental: time vs smallest archive "
          "| incremental: peak memory | incremental: signatures read per new text | incremental: exact checks "
          "| full: peak memory | duplicate clusters | same clusters | band index per text |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    for row in rows:
        bands = f"{row['bands']:.0f} B" if row["bands"] is not None else "n/a"
        print(
            f"| {row['size']:,} | {row['incremental_cpu'] / row['full_cpu']:.3f} "
            f"| {row['incremental_cpu'] / smallest:.2f} | {row['incremental_peak_mb']:.1f} MB "
            f"| {row['incremental_signatures'] / args.new:.1f} | {row['incremental_checks']:,} "
            f"| {row['full_peak_mb']:.0f} MB | {row['incremental_clusters']:,} | {'yes' if row['same'] else 'NO'} | {bands} |"
        )
    print("seconds on this machine (shared; for scale only), CPU / wall: " + "; ".join(
        f"{row['size']:,} texts: incremental {row['incremental_cpu']:.2f} / {row['incremental_wall']:.2f}, "
        f"full {row['full_cpu']:.1f} / {row['full_wall']:.1f}"
        for row in rows))
    if not all(row["same"] for row in rows):
        sys.exit("the incremental refresh gave other clusters than the full one")


if __name__ == "__main__":
    main()
