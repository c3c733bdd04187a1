"""Rewriting an archive in place so that each table's pages lie together again (SQLite's ``VACUUM``).

An archive grows a batch at a time: a batch's texts, its full-text segment, its
duplicate signatures and band keys are written side by side, and the full-text
index's merges free pages that later batches fill wherever they are.  Read in id
order (the streamed CSV of every row, ``fanwen export``, a re-cleaning), the texts
table is then a walk over small reads all across the file.  While the archive
fits in memory nobody notices; once it does not (a million texts make 34 GB), the
disk serves those small reads an order of magnitude slower than the same bytes
read in order (docs/benchmarks.md, "One archive of a million texts (issue 20)").  ``VACUUM``
writes every table out again in order.

In place, not into a copy swapped in afterwards: every connection to the archive
(a crawl writing, Datasette reading) keeps working on the one file, SQLite's
locks keep them out of each other's way, and nothing can pair the new file with
the old one's write-ahead log.  The price is space: SQLite builds the new
content in a temporary file, then writes all of it through the write-ahead log.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from archive.database import BUSY_TIMEOUT_MS
from archive.locks import LockHolder, lock_dir_for, lock_holder

# Headroom on top of the bytes VACUUM writes: the temporary file's own journal, and
# whatever else writes to the same disks meanwhile.
SPACE_MARGIN = 1.1


class CompactionRefused(RuntimeError):
    """The archive cannot be compacted now (a crawl writes to it, or the disk lacks the space)."""


@dataclass(frozen=True)
class Compaction:
    bytes_before: int
    bytes_after: int
    seconds: float


def sqlite_temp_dir() -> Path:
    """Where SQLite's unix build puts VACUUM's temporary database: the first of these that is a writable folder."""
    for candidate in (os.environ.get("SQLITE_TMPDIR"), os.environ.get("TMPDIR"), "/var/tmp", "/usr/tmp", "/tmp", "."):
        if candidate and os.path.isdir(candidate) and os.access(candidate, os.W_OK | os.X_OK):
            return Path(candidate)
    return Path(".")


def live_bytes(connection: sqlite3.Connection) -> int:
    """The bytes of the pages in use: what VACUUM writes, once to its temporary file and once to the log."""
    page_size, pages, free = (connection.execute(f"PRAGMA {name}").fetchone()[0]
                              for name in ("page_size", "page_count", "freelist_count"))
    return (pages - free) * page_size


def space_shortfall(archive: Path, needed: int, temp_dir: Path) -> str | None:
    """Why the disks cannot take ``needed`` bytes in the temporary folder and again beside the archive, or None."""
    wanted: dict[int, tuple[Path, int]] = {}
    for folder in (temp_dir, archive.resolve().parent):
        device = os.stat(folder).st_dev
        seen_folder, bytes_wanted = wanted.get(device, (folder, 0))
        wanted[device] = (seen_folder, bytes_wanted + int(needed * SPACE_MARGIN))
    for folder, bytes_wanted in wanted.values():
        free = shutil.disk_usage(folder).free
        if free < bytes_wanted:
            return (f"compacting needs {bytes_wanted / 1e9:.1f} GB free on the disk of {folder} "
                    f"(the archive's {needed / 1e9:.1f} GB of pages, written to a temporary file and through "
                    f"the write-ahead log), and it has {free / 1e9:.1f} GB; SQLITE_TMPDIR chooses the temporary folder")
    return None


def crawls_writing(archive: Path) -> list[tuple[str, LockHolder]]:
    """The sites whose crawl holds its lock on this archive (archive/locks.py) right now."""
    prefix = f"{archive.resolve().name}."
    folder = lock_dir_for(archive)
    if not folder.is_dir():
        return []
    running = []
    for lock_file in sorted(folder.glob(f"{prefix}*.lock")):
        site = lock_file.name[len(prefix):-len(".lock")]
        if site == "migrations":
            continue
        holder = lock_holder(archive, site)
        if holder is not None:
            running.append((site, holder))
    return running


def compact(archive: str | Path, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Compaction:
    """VACUUM the archive in place and give its write-ahead log's space back; refuse while a crawl writes to it."""
    archive = Path(archive)
    if not archive.exists():
        raise CompactionRefused(f"no archive at {archive}")
    running = crawls_writing(archive)
    if running:
        raise CompactionRefused("a crawl is writing to the archive: " + "; ".join(
            f"{site} ({holder.describe()})" for site, holder in running) + ". Compact once it has finished.")
    connection = sqlite3.connect(archive, isolation_level=None)
    try:
        connection.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        try:
            needed = live_bytes(connection)
        except sqlite3.DatabaseError as error:
            raise CompactionRefused(f"{archive} is not an archive: {error}") from None
        shortfall = space_shortfall(archive, needed, sqlite_temp_dir())
        if shortfall:
            raise CompactionRefused(shortfall)
        before = archive.stat().st_size
        began = time.perf_counter()
        connection.execute("VACUUM")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        seconds = time.perf_counter() - began
    finally:
        connection.close()
    return Compaction(before, archive.stat().st_size, seconds)
