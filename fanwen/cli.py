"""The ``fanwen`` command: crawl, serve, export, compact, demo.  Each command wires library pieces together."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import click

# archive.database's default, repeated here so that loading this module does not import the archive
# (sqlite-utils, numpy): `fanwen extract` is timed as a whole process. tests/test_extract_cli.py checks both agree.
DEFAULT_ARCHIVE = Path("archive.db")

ARCHIVE_OPTION = click.option(
    "--archive", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_ARCHIVE, show_default=True,
    help="The archive database.",
)
# Where the alert about a crawl that is not normal goes (crawler/health.py); -s FANWEN_ALERT_* does the same.
ALERT_MAIL_OPTION = click.option(
    "--alert-mail", multiple=True, metavar="ADDRESS",
    help="E-mail an alert here when a crawl is not normal (SMTP server: the MAIL_HOST and MAIL_PORT settings).",
)
ALERT_WEBHOOK_OPTION = click.option(
    "--alert-webhook", metavar="URL", help="POST an alert as JSON to this URL when a crawl is not normal.",
)


def _parse_base_urls(sites: tuple[str, ...], values: tuple[str, ...]) -> dict[str, str]:
    base_urls: dict[str, str] = {}
    for value in values:
        site, sep, url = value.partition("=")
        if sep and not site.startswith(("http:", "https:")):
            base_urls[site] = url
        elif len(sites) == 1:
            base_urls[sites[0]] = value
        else:
            raise click.BadParameter(f"with several sites, write SITE=URL (got {value!r})", param_hint="--base-url")
    return base_urls


def _parse_settings(values: tuple[str, ...]) -> dict[str, str]:
    settings = {}
    for value in values:
        key, sep, setting = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {value!r}", param_hint="-s")
        settings[key] = setting
    return settings


class LazyGroup(click.Group):
    """A group whose commands from other modules are imported only when asked for by name (or listed by --help)."""

    def __init__(self, *args, lazy_commands: dict[str, str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})  # command name -> "module:attribute"

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy_commands and name not in self.commands:
            module, _, attribute = self.lazy_commands[name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attribute), name)
        return super().get_command(ctx, name)


# The commands that live with their logic in other modules.
LAZY_COMMANDS = {
    "sites": "fanwen.profile_commands:sites",
    "profile": "fanwen.profile_commands:profile",
    "capture": "fanwen.capture_command:capture",
}


@click.group(cls=LazyGroup, lazy_commands=LAZY_COMMANDS)
@click.version_option(package_name="fanwen-archive")
def main() -> None:
    """Crawl, clean and archive Chinese sample-speech (范文) sites."""


# Its options are the command's own (argparse, fanwen.extract_command): `fanwen extract` runs
# without click (fanwen.launcher), and this entry hands everything after the name on, --help too.
@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
              add_help_option=False, short_help="Clean saved pages into JSON lines (see `fanwen extract --help`).")
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
def extract(arguments: tuple[str, ...]) -> None:
    """Extract the clean text(s) of saved pages; `fanwen extract --help` lists its options."""
    from fanwen.extract_command import main as extract_main

    raise SystemExit(extract_main(list(arguments)))


@main.command()
@click.argument("sites", nargs=-1, required=True)
@ARCHIVE_OPTION
@click.option("--base-url", "base_urls", multiple=True, metavar="[SITE=]URL",
              help="Crawl the site at another origin (a mirror or the bundled replica).")
@click.option("--delay", type=float, help="Seconds between requests to one host (default: the profile's).")
@click.option("--concurrency", type=int, help="Parallel requests per host (default: the profile's).")
@click.option("-s", "--set", "settings", multiple=True, metavar="KEY=VALUE", help="Override a Scrapy setting.")
@click.option("--refresh", is_flag=True, help="Re-fetch archived articles too and record changed texts.")
@click.option("--redis", "redis_url", metavar="URL",
              help="Join the distributed crawl of SITES through this Redis (see `fanwen ingest`).")
@click.option("--fresh", is_flag=True, help="With --redis: forget the shared queue and seen requests first.")
@click.option("--trigger", type=click.Choice(["manual", "schedule"]), default="manual",
              help="What started the crawl (recorded in crawl_runs).")
@ALERT_MAIL_OPTION
@ALERT_WEBHOOK_OPTION
def crawl(sites, archive, base_urls, delay, concurrency, settings, refresh, redis_url, fresh, trigger,
          alert_mail, alert_webhook) -> None:
    """Crawl SITES (profile names) into the archive.

    Crawls are incremental: archived articles are not requested again and list
    pages are followed only until they hold archived articles only.
    """
    from crawler.extensions import articles_without_text
    from crawler.profiles import ProfileError, load_profile
    from crawler.site_lock import refusal
    from fanwen.crawl import run_crawls

    overrides: dict[str, object] = dict(_parse_settings(settings))
    # `-s FANWEN_PROFILE_DIRS=DIR[,DIR]` adds user profile directories, as for `scrapy crawl`.
    profile_dirs = [d for d in str(overrides.get("FANWEN_PROFILE_DIRS", "")).split(",") if d]
    try:
        for site in sites:
            load_profile(site, profile_dirs)
    except ProfileError as error:
        raise click.ClickException(str(error)) from None
    if delay is not None:
        overrides["DOWNLOAD_DELAY"] = delay
    if concurrency is not None:
        overrides["CONCURRENT_REQUESTS_PER_DOMAIN"] = concurrency
    overrides["FANWEN_REFRESH"] = refresh
    overrides["FANWEN_TRIGGER"] = trigger
    if alert_mail:
        overrides["FANWEN_ALERT_MAIL_TO"] = list(alert_mail)
    if alert_webhook:
        overrides["FANWEN_ALERT_WEBHOOK"] = alert_webhook
    if sys.stderr.isatty() and "LOG_LEVEL" not in overrides:
        overrides["LOG_LEVEL"] = "WARNING"  # the live progress table replaces the INFO log
    base_url_map = _parse_base_urls(sites, base_urls)
    if redis_url:
        from crawler.distributed.keys import worker_settings
        from crawler.distributed.redis_health import REDIS_UNAVAILABLE
        from fanwen.ingest import start_fresh

        if fresh:
            start_fresh(redis_url, sites)
        overrides.update(worker_settings(redis_url))
        # A worker takes from the shared queue only what it can download at once, leaving the rest to others.
        overrides.setdefault("CONCURRENT_REQUESTS", sum(
            concurrency or load_profile(site, profile_dirs).politeness.concurrency for site in sites
        ))
        results = run_crawls(sites, archive=archive, base_urls=base_url_map, overrides=overrides)
        if any(stats.get("finish_reason") == REDIS_UNAVAILABLE for stats in results.values()):
            raise click.ClickException(f"lost the Redis server at {redis_url}; see the log above")
    else:
        _open_archive_or_fail(archive)
        # Each crawl takes its site's lock itself (crawler/site_lock.py), as `scrapy crawl` and Scrapyd jobs do.
        results = run_crawls(sites, archive=archive, base_urls=base_url_map, overrides=overrides)
    refused = {site: reason for site, stats in results.items() if (reason := refusal(stats))}
    for site, stats in results.items():
        if site in refused:
            continue
        if redis_url:
            click.echo(f"{site}: {stats.get('response_received_count', 0)} pages, "
                       f"{stats.get('item_scraped_count', 0)} articles pushed to Redis for `fanwen ingest`")
            continue
        click.echo(
            f"{site}: {stats.get('response_received_count', 0)} pages, "
            f"{stats.get('fanwen/texts_new', 0)} new, {stats.get('fanwen/texts_changed', 0)} changed, "
            f"{stats.get('fanwen/texts_unchanged', 0)} unchanged texts "
            f"({stats.get('fanwen/not_modified', 0)} pages answered 304 Not Modified), "
            f"{articles_without_text(stats)} articles without text ({stats.get('finish_reason')})"
        )
        for finding in json.loads(stats.get("fanwen/health_findings") or "[]"):
            click.echo(f"{site}: not a normal crawl: {finding['check']}: {finding['reason']}", err=True)
    if refused:
        raise click.ClickException("; ".join(refused.values()) + ". Refused (recorded in crawl_runs as skipped); "
                                   "nothing was fetched for it. Run it again once that crawl has finished.")
    failed = {site: stats["fanwen/archive_error"] for site, stats in results.items() if stats.get("fanwen/archive_error")}
    if failed:
        raise click.ClickException("could not write the archive: " + "; ".join(
            f"{site}: {message}" for site, message in failed.items()))
    no_room = {site: stats["fanwen/disk_error"] for site, stats in results.items() if stats.get("fanwen/disk_error")}
    if no_room:
        raise click.ClickException(
            "; ".join(f"{site}: {error}" for site, error in no_room.items())
            + ". The crawl stopped; the archive holds only complete texts. Free disk space (or raise the limit) "
              "and run the crawl again: it fetches what was not archived."
        )


def _open_archive_or_fail(archive: Path) -> None:
    """Create or migrate the archive before anything is fetched, so a full disk fails here, clearly."""
    from archive.database import Archive
    from archive.writer import is_disk_problem

    try:
        Archive(archive).close()
    except Exception as error:
        if is_disk_problem(error):
            raise click.ClickException(f"no room to write the archive at {archive} ({error}): the disk is full "
                                       f"or a file size limit was reached; nothing was fetched") from None
        raise


@main.command()
@ARCHIVE_OPTION
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8001, show_default=True)
@click.option("--auth", "auth_user", metavar="USER",
              help="Require HTTP basic authentication as USER, password hash in $FANWEN_PASSWORD_HASH "
                   "(from `datasette hash-password`). Required for any --host but loopback.")
def serve(archive, host, port, auth_user) -> None:
    """Browse the archive in Datasette (read-only)."""
    from fanwen.serve import ServeRefused, serve_archive

    if not archive.exists():
        raise click.ClickException(f"no archive at {archive}: run `fanwen crawl SITE` or `fanwen demo` first")
    try:
        serve_archive(archive, host, port, auth_user=auth_user)
    except ServeRefused as refused:
        raise click.ClickException(str(refused)) from None


@main.command()
@ARCHIVE_OPTION
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True)
@click.option("-o", "--output", type=click.File("w", encoding="utf-8", lazy=True), default="-",
              help="Output file (default: standard output).")
@click.option("--site", help="Only texts of this site.")
@click.option("--genre", help="Only texts of this genre (e.g. 讲话稿).")
@click.option("--since", help="Only texts published on or after this date (YYYY, YYYY-MM or YYYY-MM-DD).")
@click.option("--search", "search", help="Only texts containing every word of this query (as the Datasette search box).")
@click.option("--excel", is_flag=True, help="CSV for Excel: UTF-8 with a byte-order mark.")
@click.option("--exact", is_flag=True,
              help="CSV with every character as archived: no apostrophe before cells starting with "
                   "= + - @ ' (formula-safe is the default; only for programs, never open it in a spreadsheet).")
# Hidden: benchmarks/million_archive.py compares the export with and without the pages read ahead.
@click.option("--prefetch/--no-prefetch", default=True, hidden=True,
              help="Read the pages of the next texts in a second thread (unfiltered exports only).")
def export(archive, fmt, output, site, genre, since, search, excel, exact, prefetch) -> None:
    """Export the clean texts, one row per text."""
    from archive.database import Archive
    from fanwen.export import ExportFilter, export_csv, export_jsonl

    if not archive.exists():
        raise click.ClickException(f"no archive at {archive}")
    if excel and fmt != "csv":
        raise click.BadParameter("--excel applies to --format csv only", param_hint="--excel")
    if exact and (fmt != "csv" or excel):
        raise click.BadParameter("--exact applies to --format csv without --excel (JSONL is always exact)",
                                 param_hint="--exact")
    where = ExportFilter(site=site, genre=genre, since=since, search=search)
    with Archive(archive) as opened:
        if fmt == "jsonl":
            rows = export_jsonl(opened, output, where=where, prefetch=prefetch)
        else:
            rows = export_csv(opened, output, where=where, excel=excel, exact=exact, prefetch=prefetch)
    click.echo(f"exported {rows} texts", err=True)


@main.command()
@ARCHIVE_OPTION
@click.option("--full", is_flag=True,
              help="Cluster every text again, not only those new or changed since the last refresh.")
def dedup(archive, full) -> None:
    """Bring the duplicate clusters up to date (each crawl does this at its end)."""
    from archive.database import Archive

    if not archive.exists():
        raise click.ClickException(f"no archive at {archive}")
    with Archive(archive) as opened:
        clusters = opened.refresh_duplicates(full=True if full else None)
    click.echo(f"duplicate clusters: {clusters}")


@main.command()
@ARCHIVE_OPTION
def compact(archive) -> None:
    """Rewrite the archive with each table's pages together again (SQLite's VACUUM, in place).

    A large archive read in id order (the CSV of every row, `fanwen export`) reads at disk
    speed again.  Needs free space about twice the archive's size; refused while a crawl writes.
    """
    from archive.compaction import CompactionRefused
    from archive.compaction import compact as compact_archive

    try:
        done = compact_archive(archive)
    except CompactionRefused as refused:
        raise click.ClickException(str(refused)) from None
    click.echo(f"compacted {archive}: {done.bytes_before / 1e6:,.1f} MB before, {done.bytes_after / 1e6:,.1f} MB after, "
               f"{done.seconds:,.1f} s")


@main.command()
@ARCHIVE_OPTION
@click.option("--serve/--no-serve", default=True, help="Start Datasette after the crawl.")
@click.option("--port", type=int, default=8001, show_default=True, help="Datasette's port.")
def demo(archive, serve, port) -> None:
    """Serve the bundled replica sites on 127.0.0.1, crawl them, then browse the archive."""
    from fanwen.demo import run_demo

    run_demo(archive)
    if serve:
        from fanwen.serve import serve_archive

        click.echo(f"Datasette on http://127.0.0.1:{port}/ (Ctrl-C stops it)")
        serve_archive(archive, "127.0.0.1", port)


@main.command()
@click.argument("sites", nargs=-1)
@ARCHIVE_OPTION
@click.option("--redis", "redis_url", metavar="URL", required=True, help="The Redis the workers push to.")
@click.option("--until-idle", type=float, help="Stop after this many seconds without items (default: run until stopped).")
def ingest(sites, archive, redis_url, until_idle) -> None:
    """Store what distributed crawl workers extracted: the single writer of the archive."""
    import signal

    from crawler.profiles import profile_paths
    from fanwen.ingest import RedisUnavailable
    from fanwen.ingest import ingest as run_ingest

    stopping = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.append(True))
    try:
        report = run_ingest(redis_url, archive, sites or sorted(profile_paths()), until_idle=until_idle,
                            should_stop=lambda: bool(stopping))
    except RedisUnavailable as error:
        raise click.ClickException(str(error)) from None
    counts = report.counts
    click.echo(f"ingested {report.items} items: {counts.new} new, {counts.changed} changed, {counts.unchanged} unchanged texts")
    if report.unreadable:
        click.echo(f"{report.unreadable} items could not be read and were set aside in Redis "
                   f"(the list SITE:items:unreadable of their site)", err=True)


@main.command()
@click.argument("site")
@ARCHIVE_OPTION
@click.option("--redis", "redis_url", metavar="URL", required=True)
def reconcile(site, archive, redis_url) -> None:
    """Re-queue articles that workers saw but the archive lacks (requests lost with a killed worker)."""
    from fanwen.ingest import RedisUnavailable
    from fanwen.ingest import reconcile as run_reconcile

    try:
        count = run_reconcile(redis_url, archive, site)
    except (RedisUnavailable, RuntimeError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"re-queued {count} articles of {site}; running or new workers will fetch them")


@main.command()
@ARCHIVE_OPTION
@click.option("--site", help="Only this site's texts.")
def reclean(archive, site) -> None:
    """Re-extract every text from the stored captures with the current rules (no network)."""
    from archive.database import Archive
    from fanwen.reclean import reclean as reclean_archive

    if not archive.exists():
        raise click.ClickException(f"no archive at {archive}")
    with Archive(archive) as opened:
        report = reclean_archive(opened, site)
    counts = report.counts
    click.echo(
        f"re-cleaned {report.articles} articles: {counts.changed} texts changed, {counts.new} new, "
        f"{counts.unchanged} unchanged, {report.without_text} articles without text"
    )


@main.group()
def schedule() -> None:
    """Scheduled crawls (cron expressions from the profiles or a schedules file)."""


SCHEDULES_OPTION = click.option(
    "--schedules", "schedules_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file of [[crawl]] entries (site, cron, args) overriding the profiles' schedules.",
)


def _load_schedules(schedules_file):
    from crawler.profiles import ProfileError
    from fanwen.scheduler import load_schedules

    try:
        return load_schedules(schedules_file)
    except ProfileError as error:
        raise click.ClickException(str(error)) from None


@schedule.command("list")
@ARCHIVE_OPTION
@SCHEDULES_OPTION
def schedule_list(archive, schedules_file) -> None:
    """Show each scheduled site's cron expression, next run and last crawl."""
    from archive.database import last_runs_of
    from fanwen.scheduler import utc_now

    last_runs = last_runs_of(archive)
    now = utc_now()
    for crawl in _load_schedules(schedules_file):
        last = last_runs.get(crawl.site)
        last_text = f"{last['started_at']} ({last['finish_reason'] or 'running or killed'})" if last else "never"
        click.echo(f"{crawl.site}\t{crawl.cron}\tnext {crawl.next_run(now).isoformat(timespec='seconds')}\tlast {last_text}")


@schedule.command("run")
@ARCHIVE_OPTION
@SCHEDULES_OPTION
@click.option("--for", "duration", type=float, help="Stop after this many seconds (default: run until stopped).")
@ALERT_MAIL_OPTION
@ALERT_WEBHOOK_OPTION
def schedule_run(archive, schedules_file, duration, alert_mail, alert_webhook) -> None:
    """Run the scheduler in the foreground (for systemd, a container or a terminal)."""
    import logging

    from fanwen.scheduler import Scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s [%(name)s] %(levelname)s: %(message)s")
    # Every scheduled crawl alerts the same targets: its `fanwen crawl` command carries them.
    alert_args = [arg for address in alert_mail for arg in ("--alert-mail", address)]
    if alert_webhook:
        alert_args += ["--alert-webhook", alert_webhook]
    Scheduler(_load_schedules(schedules_file), archive,
              crawl_command=(*Scheduler.crawl_command, *alert_args)).run(duration)


@main.group()
def replica() -> None:
    """The bundled replica sites (for the demo, tests and trying profiles)."""


@replica.command("serve")
@click.argument("sites", nargs=-1)
@click.option("--any-port", is_flag=True, help="Listen on free ports instead of the sites' default ports.")
def replica_serve(sites, any_port) -> None:
    """Serve replica SITES (default: all) on 127.0.0.1 until interrupted."""
    from replica.server import serve as serve_replicas
    from replica.site import available_sites

    names = sites or available_sites()
    serve_replicas(names, {name: 0 for name in names} if any_port else None)


if __name__ == "__main__":
    sys.exit(main())
