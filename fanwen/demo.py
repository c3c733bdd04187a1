"""The demo: bundled replica sites on 127.0.0.1, crawled into the archive."""

from __future__ import annotations

from pathlib import Path

import click

from crawler.profiles import profile_paths
from fanwen.crawl import run_crawls
from replica.process import running_replicas
from replica.site import available_sites

# The replica is local: no politeness delay is needed, and robots.txt is still obeyed.
DEMO_OVERRIDES = {"DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "LOG_LEVEL": "WARNING"}


def demo_sites() -> list[str]:
    """Replica sites that have a site profile of the same name."""
    profiles = profile_paths()
    return [name for name in available_sites() if name in profiles]


def run_demo(archive: Path) -> dict[str, dict]:
    sites = demo_sites()
    with running_replicas(sites) as urls:
        for site, url in urls.items():
            click.echo(f"replica {site} serving on {url}")
        results = run_crawls(sites, archive=archive, base_urls=urls, overrides=DEMO_OVERRIDES)
    for site, stats in results.items():
        click.echo(
            f"crawled {site}: {stats.get('response_received_count', 0)} pages, "
            f"{stats.get('fanwen/texts_new', 0)} new / {stats.get('fanwen/texts_changed', 0)} changed / "
            f"{stats.get('fanwen/texts_unchanged', 0)} unchanged texts into {archive}"
        )
    return results
