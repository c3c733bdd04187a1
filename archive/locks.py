"""One crawl per site and archive at a time, across processes.

The lock is an ``flock`` on a file beside the archive: the operating system
releases it when the holding process dies, so a crashed or killed crawl never
leaves a stale lock behind, and the next crawl takes it over.  The file names
its holder (pid, host, since when, Scrapyd job), so that a refused crawl can
say whom it yielded to.  Every Scrapy crawl takes it (``crawler/site_lock.py``).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

ALREADY_RUNNING = "already_running"
# A probe (``lock_holder``) holds the lock for an instant; a crawl retries this long
# before it believes the site busy, so a scheduler looking never refuses a crawl.
PROBE_GRACE_SECONDS = 0.5


@dataclass(frozen=True)
class LockHolder:
    """The process crawling a site, as its lock file names it."""

    pid: int | None
    host: str | None = None
    since: str | None = None  # UTC, ISO 8601
    job: str | None = None  # the Scrapyd job, when Scrapyd started the crawl

    def describe(self) -> str:
        words = [f"pid {self.pid}" if self.pid else "an unknown process"]
        if self.host:
            words.append(f"on {self.host}")
        if self.since:
            words.append(f"since {self.since}")
        described = " ".join(words)
        return f"{described}, Scrapyd job {self.job}" if self.job else described

    @classmethod
    def parse(cls, text: str) -> LockHolder:
        try:
            fields = json.loads(text)
            return cls(int(fields["pid"]), fields.get("host"), fields.get("since"), fields.get("job"))
        except (ValueError, TypeError, KeyError):
            # An empty file (its holder is writing it), or a pid alone (the lock files of earlier versions).
            return cls(int(text) if text.strip().isdigit() else None)


class SiteBusy(RuntimeError):
    """Another process is crawling this site into this archive."""

    def __init__(self, site: str, holder: LockHolder) -> None:
        super().__init__(f"a crawl of {site} is already running ({holder.describe()})")
        self.site = site
        self.holder = holder


def lock_dir_for(archive: str | Path) -> Path:
    return Path(archive).resolve().parent / ".fanwen-locks"


def lock_path(archive: str | Path, site: str) -> Path:
    # Named after the archive too: two archives in one directory are crawled independently.
    return lock_dir_for(archive) / f"{Path(archive).resolve().name}.{site}.lock"


def _read_holder(path: Path) -> LockHolder:
    try:
        return LockHolder.parse(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return LockHolder(None)


class HeldSiteLock:
    """A site's lock, held until ``release()`` or until this process ends."""

    def __init__(self, path: Path, descriptor: int, holder: LockHolder) -> None:
        self.path = path
        self.holder = holder
        self._descriptor: int | None = descriptor

    def release(self) -> None:
        if self._descriptor is None:
            return
        descriptor, self._descriptor = self._descriptor, None
        try:
            os.ftruncate(descriptor, 0)  # a reader of a free lock's file finds no one named
            fcntl.flock(descriptor, fcntl.LOCK_UN)
        finally:
            os.close(descriptor)


def take_site_lock(
    archive: str | Path, site: str, *, job: str | None = None, grace: float = PROBE_GRACE_SECONDS,
) -> HeldSiteLock:
    """Take the site's lock for this process, or raise ``SiteBusy`` naming its holder."""
    path = lock_path(archive, site)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + grace
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(descriptor)
                raise SiteBusy(site, _read_holder(path)) from None
            time.sleep(0.05)
    holder = LockHolder(os.getpid(), socket.gethostname(),
                        datetime.now(UTC).isoformat(timespec="seconds"), job)
    try:
        os.ftruncate(descriptor, 0)  # what a killed holder left
        os.write(descriptor, json.dumps(asdict(holder)).encode("utf-8"))
    except OSError:
        os.close(descriptor)
        raise
    return HeldSiteLock(path, descriptor, holder)


@contextmanager
def site_lock(archive: str | Path, site: str, *, job: str | None = None) -> Iterator[LockHolder]:
    held = take_site_lock(archive, site, job=job)
    try:
        yield held.holder
    finally:
        held.release()


def lock_holder(archive: str | Path, site: str) -> LockHolder | None:
    """Who is crawling the site into the archive, or None.

    Looks without writing: a shared lock for an instant, which a crawl starting at
    that instant waits out (``PROBE_GRACE_SECONDS``).
    """
    path = lock_path(archive, site)
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(path)
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        return None
    finally:
        os.close(descriptor)


def is_locked(archive: str | Path, site: str) -> bool:
    return lock_holder(archive, site) is not None


@contextmanager
def migration_lock(archive: str | Path) -> Iterator[None]:
    """Held while a process upgrades ``archive``'s schema: one process at a time, the others wait.

    Two processes opening a new archive at once (a scheduler recording a skipped run while
    its crawl creates the archive) would both apply the same migrations; SQLite cannot make
    the second wait, as each read the schema before writing it.
    """
    directory = lock_dir_for(archive)
    directory.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(directory / f"{Path(archive).name}.migrations.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the flock

