"""``fanwen sites`` and ``fanwen profile check|suggest``: working with site profiles as data."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import click

from archive.database import DEFAULT_ARCHIVE, last_runs_of
from crawler.defaults import USER_AGENT

PROFILE_DIR_OPTION = click.option(
    "--profile-dir", "profile_dirs", multiple=True, type=click.Path(file_okay=False, exists=True),
    help="Further directory of site profiles (*.toml), searched after the bundled ones.",
)


def read_source(source: str, timeout: float = 30) -> tuple[bytes, str, str | None]:
    """A page from a file or an http(s) URL: (body, URL, Content-Type)."""
    if source.startswith(("http://", "https://")):
        request = urllib.request.Request(source, headers={"User-Agent": USER_AGENT})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read(), response.geturl(), response.headers.get("Content-Type")
    path = Path(source)
    if not path.is_file():
        raise click.BadParameter(f"no such file or URL: {source}")
    return path.read_bytes(), path.resolve().as_uri(), None


@click.command()
@click.option("--archive", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_ARCHIVE, show_default=True,
              help="The archive whose crawl_runs give each site's last crawl.")
@PROFILE_DIR_OPTION
def sites(archive, profile_dirs) -> None:
    """List the site profiles: name, display name, domains, schedule, last crawl and its health."""
    from crawler.profiles import ProfileError, load_profile_file, profile_paths

    last_runs = last_runs_of(archive)
    try:
        paths = profile_paths(profile_dirs)
    except ProfileError as error:
        raise click.ClickException(str(error)) from None
    click.echo("name\tdisplay name\tdomains\tschedule\tlast crawl\thealth")
    for name, path in paths.items():
        try:
            profile = load_profile_file(path)
        except ProfileError as error:
            click.echo(f"{name}\t(invalid profile: {str(error).splitlines()[-1].strip()})")
            continue
        domains = ", ".join([*profile.domains, *profile.other_hosts])
        schedule = profile.schedule.cron if profile.schedule else "-"
        last = last_runs.get(name)
        last_text = (f"{last['started_at']} ({last['finish_reason'] or 'running or killed'}, "
                     f"{last['texts_new'] or 0} new)") if last else "never"
        click.echo(f"{name}\t{profile.display_name}\t{domains}\t{schedule}\t{last_text}\t{health_text(last)}")


def health_text(run: dict | None) -> str:
    """A crawl's health for a listing: ``ok``, ``alert: CHECK, ...`` (crawl_runs.health_findings), or ``-``."""
    if not run or not run.get("health"):
        return "-"
    checks = [finding["check"] for finding in json.loads(run.get("health_findings") or "[]")]
    return ": ".join([run["health"], ", ".join(dict.fromkeys(checks))]) if checks else run["health"]


@click.group()
def profile() -> None:
    """Check a site profile against a saved page, or suggest one for a new site."""


@profile.command("check")
@click.argument("name")
@click.argument("page")
@click.option("--url", help="The page's URL (resolves continuation links); default: the file's or the given URL.")
@PROFILE_DIR_OPTION
def profile_check(name, page, url, profile_dirs) -> None:
    """Show what profile NAME extracts from PAGE (a saved .html file or a URL) and which rules fired."""
    from crawler.profiles import ProfileError, load_profile, load_profile_file
    from fanwen.profile_check import check_page, format_report

    try:
        site = load_profile_file(Path(name)) if name.endswith(".toml") else load_profile(name, profile_dirs)
    except ProfileError as error:
        raise click.ClickException(str(error)) from None
    body, page_url, content_type = read_source(page)
    report = check_page(body, url or page_url, site.extract, content_type)
    click.echo(format_report(report, site.name), nl=False)
    if report.errors:
        # Only these fail the check: the rule does nothing on the site as written. A selector that
        # matches here but differently in a browser still works, and is a warning in the report.
        raise click.ClickException(
            f"{len(report.errors)} selector(s) match nothing in lxml's tree but match in a browser's: "
            "see \"selectors in a browser's tree\" above for the fix")


@profile.command("learn-template")
@click.argument("name")
@click.option("--archive", "archive_path", type=click.Path(dir_okay=False), default=str(DEFAULT_ARCHIVE), show_default=True)
@click.option("--min-share", type=click.FloatRange(0.0, 1.0), default=0.5, show_default=True,
              help="Share of the site's texts a line must start or end.")
@PROFILE_DIR_OPTION
def profile_learn_template(name, archive_path, min_share, profile_dirs) -> None:
    """Print the lines site NAME's template repeats at the edges of its archived texts, as profile data.

    Paste the printed ``template_lines`` into the profile's [extract] table: those lines are then
    removed where they stand at a text's head or tail (never inside it). Re-clean to apply.
    """
    import json

    from archive.database import Archive
    from crawler.profiles import ProfileError, load_profile
    from pipelines.site_template import learn_template_lines

    try:
        site = load_profile(name, profile_dirs)
    except ProfileError as error:
        raise click.ClickException(str(error)) from None
    if not Path(archive_path).exists():
        raise click.ClickException(f"no archive at {archive_path}")
    with Archive(archive_path) as archive:
        learned = learn_template_lines(archive.texts_of_site(site.name), site.extract.site_name, min_share=min_share)
    if not learned:
        click.echo(f"# {site.name}: no line repeats at the edges of {min_share:.0%} of its texts "
                   "(or fewer than 20 texts archived)")
        return
    for line, count in learned:
        click.echo(f"# {count} texts: {line}")
    click.echo("template_lines = [" + ", ".join(json.dumps(line, ensure_ascii=False) for line, _ in learned) + "]")


@profile.command("suggest")
@click.argument("article")
@click.argument("listing", required=False, metavar="[LIST]")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the profile here (default: standard output). Name the file NAME.toml.")
@click.option("--name", help="Profile name (default: from the host, or the output file's name).")
@click.option("--article-url", help="The article page's URL, when ARTICLE is a saved file.")
@click.option("--list-url", help="The list page's URL, when LIST is a saved file.")
def profile_suggest(article, listing, output, name, article_url, list_url) -> None:
    """Write a starting profile for an unknown site from an ARTICLE page and a LIST page (files or URLs)."""
    import tomllib

    from crawler.profiles import ProfileError, load_profile_file
    from fanwen.profile_suggest import parse_page, render_profile, suggest

    body, url, content_type = read_source(article)
    article_page = parse_page(body, article_url or url, content_type)
    list_page = None
    if listing:
        body, url, content_type = read_source(listing)
        list_page = parse_page(body, list_url or url, content_type)
    for page, option in ((article_page, "--article-url"), (list_page, "--list-url")):
        if page is not None and not page.url.startswith(("http://", "https://")):
            raise click.BadParameter(f"a saved page needs its address: give {option}")
    if name is None and output is not None:
        name = output.stem
    text = render_profile(suggest(article_page, list_page, name=name))
    tomllib.loads(text)  # what is written must parse
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    try:
        load_profile_file(output)
    except ProfileError as error:
        raise click.ClickException(f"the suggested profile does not validate (please report this):\n{error}") from None
    click.echo(f"wrote {output}; check it with: fanwen profile check {output} {article}", err=True)
