"""``fanwen extract``: one saved page (raw bytes) in, one JSON object per text found out.

The cleaning core does the work (``pipelines.extraction.extract_texts``); this
module only reads the bytes, picks the site's rules by the page's URL (or by
name, or none: generic mode) and prints the documents.
"""

from __future__ import annotations

import json
import sys
from typing import BinaryIO, TextIO

import click

from crawler.profiles import ProfileError, load_profile, profile_for_url
from pipelines.extraction import extract_texts
from pipelines.records import ExtractedText, FetchedPage, PageExtraction
from pipelines.rules import GENERIC_RULES, ExtractionRules

# The fields printed for each text, in this order (``encoding`` says how the bytes were read).
DOCUMENT_FIELDS = ("url", "title", "published", "text", "truncated", "placeholders", "genre", "part", "next_pages", "encoding")


def rules_for_url(url: str, profile_name: str | None = None, *, generic: bool = False) -> tuple[ExtractionRules, str | None]:
    """The extraction rules to use and the profile they come from (None: generic mode)."""
    if generic:
        return GENERIC_RULES, None
    if profile_name:
        return load_profile(profile_name).extract, profile_name
    profile = profile_for_url(url)
    return (profile.extract, profile.name) if profile else (GENERIC_RULES, None)


def extract_page(body: bytes, url: str, rules: ExtractionRules, content_type: str | None = None) -> PageExtraction:
    return extract_texts([FetchedPage(url=url, body=body, content_type=content_type)], rules)


def document(text: ExtractedText) -> dict:
    record = {name: getattr(text, name) for name in DOCUMENT_FIELDS}
    record["placeholders"] = list(text.placeholders)
    record["next_pages"] = list(text.next_pages)
    return record


def write_documents(result: PageExtraction, out: TextIO) -> None:
    for text in result.texts:
        out.write(json.dumps(document(text), ensure_ascii=False) + "\n")


def read_input(path: str, stdin: BinaryIO | None = None) -> bytes:
    if path == "-":
        return (stdin or sys.stdin.buffer).read()
    with open(path, "rb") as handle:
        return handle.read()


@click.command()
@click.argument("path", type=click.Path(exists=True, allow_dash=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, default=True,
              help="Print one JSON object per text found (the default, and the only format).")
@click.option("--url", required=True, help="The URL the page was fetched from (picks the profile, resolves links).")
@click.option("--profile", "profile_name", help="Use this site profile instead of choosing one by the URL's host.")
@click.option("--generic", is_flag=True, help="Use no profile at all (generic mode).")
@click.option("--content-type", help="The Content-Type header the page came with (its charset is a decoding hint).")
def extract(path: str, as_json: bool, url: str, profile_name: str | None, generic: bool, content_type: str | None) -> None:
    """Extract the clean text(s) of one saved page; PATH - reads standard input.

    \b
    fanwen extract --json page.html --url https://www.ruiwen.com/fanwen/6404315.html
    """
    try:
        rules, chosen = rules_for_url(url, profile_name, generic=generic)
    except ProfileError as error:
        raise click.UsageError(str(error)) from None
    body = read_input(path)
    result = extract_page(body, url, rules, content_type)
    write_documents(result, sys.stdout)
    if not result.texts:
        click.echo(f"no text found in {url} ({result.skipped}; profile: {chosen or 'generic'})", err=True)
