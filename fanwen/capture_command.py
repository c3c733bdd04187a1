"""``fanwen capture URL``: one stored page as it was fetched, from the archive's WARC files (no network)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from archive.captures import CaptureUnreadable, find_capture
from archive.database import DEFAULT_ARCHIVE


@click.command()
@click.argument("url")
@click.option("--archive", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_ARCHIVE,
              show_default=True, help="The archive database.")
@click.option("--raw", is_flag=True, help="The body bytes exactly as received, instead of the page decoded to text.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Save to this file instead of printing.")
def capture(url: str, archive: Path, raw: bool, output: Path | None) -> None:
    """Print or save the newest capture of URL (a page's URL, or an article's for its first page).

    The page is decoded with the encoding the crawl read it in, which is not
    always the one it declares; --raw keeps the bytes as they came.  Where the
    capture came from goes to standard error.
    """
    try:
        found = find_capture(archive, url=url)
    except (FileNotFoundError, CaptureUnreadable) as error:
        raise click.ClickException(str(error)) from None
    if found is None:
        raise click.ClickException(f"{archive} holds no capture of {url}")
    click.echo(
        f"capture {found.id}: {found.page.url} fetched {found.page.fetched_at}, HTTP {found.page.status}, "
        f"{found.page.content_type or 'no Content-Type'}, read as {found.encoding} ({found.warc_file})",
        err=True,
    )
    if raw:
        if output is not None:
            output.write_bytes(found.page.body)
        else:
            sys.stdout.buffer.write(found.page.body)
            sys.stdout.buffer.flush()
    elif output is not None:
        output.write_text(found.decoded(), encoding="utf-8")
    else:
        click.echo(found.decoded(), nl=False)
