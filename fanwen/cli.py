"""The ``fanwen`` command: crawl, serve, export, demo.  Each command wires library pieces together."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .archive import DEFAULT_ARCHIVE, Archive

ARCHIVE_OPTION = click.option(
    "--archive", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_ARCHIVE, show_default=True,
    help="The archive database.",
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


@click.group()
@click.version_option(package_name="fanwen-archive")
def main() -> None:
    """Crawl, clean and archive Chinese sample-speech (范文) sites."""


@main.command()
@click.argument("sites", nargs=-1, required=True)
@ARCHIVE_OPTION
@click.option("--base-url", "base_urls", multiple=True, metavar="[SITE=]URL",
              help="Crawl the site at another origin (a mirror or the bundled replica).")
@click.option("--delay", type=float, help="Seconds between requests to one host (default: the profile's).")
@click.option("--concurrency", type=int, help="Parallel requests per host (default: the profile's).")
@click.option("-s", "--set", "settings", multiple=True, metavar="KEY=VALUE", help="Override a Scrapy setting.")
@click.option("--refresh", is_flag=True, help="Re-fetch archived articles too and record changed texts.")
@click.option("--trigger", type=click.Choice(["manual", "schedule"]), default="manual",
              help="What started the crawl (recorded in crawl_runs).")
def crawl(sites, archive, base_urls, delay, concurrency, settings, refresh, trigger) -> None:
    """Crawl SITES (profile names) into the archive.

    Crawls are incremental: archived articles are not requested again and list
    pages are followed only until they hold archived articles only.
    """
    from crawler.profiles import ProfileError, load_profile

    from .crawl import run_crawls
    from .locks import SiteBusy, site_locks

    try:
        for site in sites:
            load_profile(site)
    except ProfileError as error:
        raise click.ClickException(str(error)) from None
    overrides: dict[str, object] = _parse_settings(settings)
    if delay is not None:
        overrides["DOWNLOAD_DELAY"] = delay
    if concurrency is not None:
        overrides["CONCURRENT_REQUESTS_PER_DOMAIN"] = concurrency
    overrides["FANWEN_REFRESH"] = refresh
    overrides["FANWEN_TRIGGER"] = trigger
    if sys.stderr.isatty() and "LOG_LEVEL" not in overrides:
        overrides["LOG_LEVEL"] = "WARNING"  # the live progress table replaces the INFO log
    try:
        with site_locks(archive, sites):
            results = run_crawls(
                sites, archive=archive, base_urls=_parse_base_urls(sites, base_urls), overrides=overrides
            )
    except SiteBusy as error:
        raise click.ClickException(str(error)) from None
    for site, stats in results.items():
        click.echo(
            f"{site}: {stats.get('response_received_count', 0)} pages, "
            f"{stats.get('fanwen/texts_new', 0)} new, {stats.get('fanwen/texts_changed', 0)} changed, "
            f"{stats.get('fanwen/texts_unchanged', 0)} unchanged texts "
            f"({stats.get('fanwen/not_modified', 0)} pages answered 304 Not Modified), "
            f"{stats.get('item_dropped_count', 0)} articles without text ({stats.get('finish_reason')})"
        )


@main.command()
@ARCHIVE_OPTION
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8001, show_default=True)
def serve(archive, host, port) -> None:
    """Browse the archive in Datasette."""
    from .serve import serve_archive

    if not archive.exists():
        raise click.ClickException(f"no archive at {archive}: run `fanwen crawl SITE` or `fanwen demo` first")
    serve_archive(archive, host, port)


@main.command()
@ARCHIVE_OPTION
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True)
@click.option("-o", "--output", type=click.File("w", encoding="utf-8", lazy=True), default="-",
              help="Output file (default: standard output).")
def export(archive, fmt, output) -> None:
    """Export the clean texts, one row per text."""
    from .export import export_csv

    if not archive.exists():
        raise click.ClickException(f"no archive at {archive}")
    with Archive(archive) as opened:
        rows = export_csv(opened, output)
    click.echo(f"exported {rows} texts", err=True)


@main.command()
@ARCHIVE_OPTION
@click.option("--serve/--no-serve", default=True, help="Start Datasette after the crawl.")
@click.option("--port", type=int, default=8001, show_default=True, help="Datasette's port.")
def demo(archive, serve, port) -> None:
    """Serve the bundled replica sites on 127.0.0.1, crawl them, then browse the archive."""
    from .demo import run_demo

    run_demo(archive)
    if serve:
        from .serve import serve_archive

        click.echo(f"Datasette on http://127.0.0.1:{port}/ (Ctrl-C stops it)")
        serve_archive(archive, "127.0.0.1", port)


@main.command()
@ARCHIVE_OPTION
@click.option("--site", help="Only this site's texts.")
def reclean(archive, site) -> None:
    """Re-extract every text from the stored captures with the current rules (no network)."""
    from .reclean import reclean as reclean_archive

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

    from .scheduler import load_schedules

    try:
        return load_schedules(schedules_file)
    except ProfileError as error:
        raise click.ClickException(str(error)) from None


@schedule.command("list")
@ARCHIVE_OPTION
@SCHEDULES_OPTION
def schedule_list(archive, schedules_file) -> None:
    """Show each scheduled site's cron expression, next run and last crawl."""
    from .scheduler import utc_now

    last_runs = {}
    if archive.exists():
        with Archive(archive) as opened:
            last_runs = opened.last_runs()
    now = utc_now()
    for crawl in _load_schedules(schedules_file):
        last = last_runs.get(crawl.site)
        last_text = f"{last['started_at']} ({last['finish_reason'] or 'running or killed'})" if last else "never"
        click.echo(f"{crawl.site}\t{crawl.cron}\tnext {crawl.next_run(now).isoformat(timespec='seconds')}\tlast {last_text}")


@schedule.command("run")
@ARCHIVE_OPTION
@SCHEDULES_OPTION
@click.option("--for", "duration", type=float, help="Stop after this many seconds (default: run until stopped).")
def schedule_run(archive, schedules_file, duration) -> None:
    """Run the scheduler in the foreground (for systemd, a container or a terminal)."""
    import logging

    from .scheduler import Scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s [%(name)s] %(levelname)s: %(message)s")
    Scheduler(_load_schedules(schedules_file), archive).run(duration)


@main.group()
def replica() -> None:
    """The bundled replica sites (for the demo, tests and trying profiles)."""


@replica.command("serve")
@click.argument("sites", nargs=-1)
@click.option("--any-port", is_flag=True, help="Listen on free ports instead of the sites' default ports.")
def replica_serve(sites, any_port) -> None:
    """Serve replica SITES (default: all) on 127.0.0.1 until interrupted."""
    from .replica.server import serve as serve_replicas
    from .replica.site import available_sites

    names = sites or available_sites()
    serve_replicas(names, {name: 0 for name in names} if any_port else None)


if __name__ == "__main__":
    sys.exit(main())
