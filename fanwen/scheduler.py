"""Scheduled crawls: cron expressions per site, one foreground scheduler process.

Schedules come from the profiles' ``[schedule]`` tables and, overriding them,
from an optional schedules file (TOML)::

    [[crawl]]
    site = "huabo"
    cron = "*/30 * * * *"
    args = ["--delay", "3"]     # extra `fanwen crawl` options

Each due crawl runs as a ``fanwen crawl SITE --trigger schedule`` subprocess.
A crawl of a site that is still running (started by this scheduler or by
anyone else: the site lock tells) is skipped, logged and recorded.  The crawl
itself takes the lock (crawler/site_lock.py) and would be refused anyway; the
look here only spares starting a process bound to be refused.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from archive.database import Archive
from archive.locks import ALREADY_RUNNING, lock_holder
from crawler.profiles import ProfileError, Schedule, load_profile, profile_paths

log = logging.getLogger(__name__)


class _FileEntry(Schedule):
    model_config = ConfigDict(extra="forbid", frozen=True)
    site: str
    args: list[str] = []


class _ScheduleFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    crawl: list[_FileEntry] = Field(default_factory=list)


@dataclass(frozen=True)
class ScheduledCrawl:
    site: str
    cron: str
    args: tuple[str, ...] = ()

    def next_run(self, after: datetime) -> datetime:
        return croniter(self.cron, after).get_next(datetime)


def load_schedules(schedules_file: Path | None = None, profile_dirs: Sequence[str] = ()) -> list[ScheduledCrawl]:
    """Profile schedules, overridden site by site by the schedules file's entries."""
    schedules: dict[str, ScheduledCrawl] = {}
    for name in profile_paths(profile_dirs):
        profile = load_profile(name, profile_dirs)
        if profile.schedule:
            schedules[name] = ScheduledCrawl(name, profile.schedule.cron)
    if schedules_file is not None:
        try:
            data = _ScheduleFile.model_validate(tomllib.loads(schedules_file.read_text(encoding="utf-8")))
        except (OSError, tomllib.TOMLDecodeError, ValidationError) as error:
            raise ProfileError(f"invalid schedules file {schedules_file}: {error}") from None
        for entry in data.crawl:
            load_profile(entry.site, profile_dirs)  # an unknown site fails here, not at 3 a.m.
            schedules[entry.site] = ScheduledCrawl(entry.site, entry.cron, tuple(entry.args))
    return sorted(schedules.values(), key=lambda s: s.site)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Scheduler:
    schedules: list[ScheduledCrawl]
    archive: Path
    crawl_command: Sequence[str] = (sys.executable, "-m", "fanwen.cli", "crawl")
    running: dict[str, subprocess.Popen] = field(default_factory=dict)
    stopping: bool = False

    def _reap(self) -> None:
        for site, process in list(self.running.items()):
            code = process.poll()
            if code is not None:
                log.info("crawl of %s finished with exit code %s", site, code)
                del self.running[site]

    def fire(self, crawl: ScheduledCrawl) -> bool:
        """Start the crawl unless one of that site is running; return whether it started."""
        process = self.running.get(crawl.site)
        holder = lock_holder(self.archive, crawl.site)
        if (process is not None and process.poll() is None) or holder is not None:
            # Before its crawl takes the lock, a crawl this scheduler started is known by its process alone.
            reason = f"{ALREADY_RUNNING} ({holder.describe()})" if holder else "previous crawl still running"
            log.warning("skipped scheduled crawl of %s: the previous crawl is still running (%s)", crawl.site, reason)
            with Archive(self.archive) as archive:
                archive.record_skipped_run(crawl.site, "schedule", reason)
            return False
        command = [*self.crawl_command, crawl.site, "--archive", str(self.archive), "--trigger", "schedule", *crawl.args]
        log.info("starting scheduled crawl of %s", crawl.site)
        self.running[crawl.site] = subprocess.Popen(command)
        return True

    def run(self, duration: float | None = None) -> None:
        """Run until SIGINT/SIGTERM (or ``duration`` seconds); running crawls are asked to stop cleanly."""
        deadline = None if duration is None else time.monotonic() + duration
        previous = {sig: signal.signal(sig, self._request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        now = utc_now()
        due = {crawl.site: crawl.next_run(now) for crawl in self.schedules}
        for crawl in self.schedules:
            log.info("%s: next crawl at %s", crawl.site, due[crawl.site].isoformat(timespec="seconds"))
        try:
            while not self.stopping and (deadline is None or time.monotonic() < deadline):
                self._reap()
                now = utc_now()
                for crawl in self.schedules:
                    if due[crawl.site] <= now:
                        self.fire(crawl)
                        due[crawl.site] = crawl.next_run(now)
                wait = min((when - utc_now()).total_seconds() for when in due.values()) if due else 1.0
                time.sleep(min(max(wait, 0.05), 1.0))
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._stop_children()

    def _request_stop(self, signum: int, frame: object) -> None:
        self.stopping = True

    def _stop_children(self) -> None:
        for site, process in self.running.items():
            if process.poll() is None:
                log.info("stopping crawl of %s", site)
                process.send_signal(signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        self._reap()
