"""One crawl per site at a time, across processes.

The lock is an ``flock`` on a file beside the archive: the operating system
releases it when the holding process dies, so a crashed or killed crawl never
leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path


class SiteBusy(RuntimeError):
    """Another process is crawling this site into this archive."""


def lock_dir_for(archive: str | Path) -> Path:
    return Path(archive).resolve().parent / ".fanwen-locks"


@contextmanager
def site_lock(lock_dir: Path, site: str) -> Iterator[None]:
    lock_dir.mkdir(parents=True, exist_ok=True)
    path = lock_dir / f"{site}.lock"
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = path.read_text(encoding="ascii", errors="replace").strip() or "?"
            raise SiteBusy(f"a crawl of {site} is already running (pid {holder})") from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, str(os.getpid()).encode("ascii"))
        try:
            yield
        finally:
            os.ftruncate(descriptor, 0)
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


@contextmanager
def site_locks(archive: str | Path, sites: Sequence[str]) -> Iterator[None]:
    with ExitStack() as stack:
        for site in sites:
            stack.enter_context(site_lock(lock_dir_for(archive), site))
        yield


def is_locked(archive: str | Path, site: str) -> bool:
    try:
        with site_lock(lock_dir_for(archive), site):
            return False
    except SiteBusy:
        return True
