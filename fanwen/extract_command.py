"""``fanwen extract``: saved pages (raw bytes) in, one JSON object per text found out.

The cleaning core does the work (``pipelines.extraction.extract_texts``); this
module only finds the files, reads their bytes, picks the site's rules by each
page's URL (or by name, or none: generic mode) and prints the documents.

It is also benchmarked as a whole process against trafilatura, so it imports
nothing but the cleaning core: the profiles (pydantic models, TOML files) load
only when a page has a URL or ``--profile`` names a site.  Its options are read
with the standard library's argparse, not click: ``fanwen`` runs this command
without importing click (``fanwen.launcher``), whose import is a large share of
the command's start-up; the click group only hands the arguments on.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pipelines.extraction import extract_texts
from pipelines.rules import GENERIC_RULES, ExtractionRules
from records.texts import ExtractedText, FetchedPage, PageExtraction

# The fields printed for each text, in this order (``encoding`` says how the bytes were read).
DOCUMENT_FIELDS = (
    "url", "title", "collection_title", "published", "text", "truncated", "placeholders", "genre", "part", "next_pages",
    "encoding",
)

# What a directory is searched for: the suffixes saved web pages carry (``wget``, browsers' "save page",
# SSI sites' .shtml). Anything else in a directory (images, .txt notes, the browser's *_files/ scripts)
# is not a page; a file named on the command line is read whatever its suffix.
PAGE_SUFFIXES = (".html", ".htm", ".shtml", ".xhtml")

STDIN = "-"
STDIN_URL = "file:///dev/stdin"  # stands in for a URL when standard input comes without --url
EXPLAIN_TEXT_CHARS = 40


class UsageError(Exception):
    """A mistake in the command line: reported with the usage, exit status 2."""


def rules_for_url(
    url: str | None, profile_name: str | None = None, *, generic: bool = False,
) -> tuple[ExtractionRules, str | None]:
    """The extraction rules to use and the profile they come from (None: generic mode)."""
    if generic or (url is None and not profile_name):
        return GENERIC_RULES, None
    from crawler.profiles import load_profile, profile_for_url

    if profile_name:
        return load_profile(profile_name).extract, profile_name
    assert url is not None  # neither generic nor named: the URL picks the profile
    profile = profile_for_url(url)
    return (profile.extract, profile.name) if profile else (GENERIC_RULES, None)


def extract_page(body: bytes, url: str, rules: ExtractionRules, content_type: str | None = None) -> PageExtraction:
    return extract_texts([FetchedPage(url=url, body=body, content_type=content_type)], rules)


def document(text: ExtractedText) -> dict:
    record = {name: getattr(text, name) for name in DOCUMENT_FIELDS}
    record["placeholders"] = list(text.placeholders)
    record["next_pages"] = list(text.next_pages)
    return record


def read_input(path: str, stdin: BinaryIO | None = None) -> bytes:
    if path == STDIN:
        return (stdin or sys.stdin.buffer).read()
    with open(path, "rb") as handle:
        return handle.read()


# -- many files ------------------------------------------------------------------------------

@dataclass(frozen=True)
class PageInput:
    """One page to clean: where its bytes are and the URL it was fetched from, if known."""

    path: str
    url: str | None = None


def page_files(paths: Iterable[str]) -> tuple[list[str], list[str]]:
    """The files named plus every page file under the directories named (sorted, so output order is
    stable), and the directories that hold none."""
    files, empty = [], []
    for path in paths:
        if path == STDIN or not os.path.isdir(path):
            files.append(path)
            continue
        found = sorted(str(f) for f in Path(path).rglob("*") if f.suffix.lower() in PAGE_SUFFIXES and f.is_file())
        files.extend(found)
        if not found:
            empty.append(path)
    return files, empty


def read_url_map(path: str) -> dict[str, str]:
    """``PATH<TAB>URL`` lines (blank lines and ``#`` comments skipped) keyed by the file's resolved path."""
    urls = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            file, sep, url = line.partition("\t")
            if not sep or not url.strip():
                raise UsageError(f"--url-map: line {number}: expected PATH<TAB>URL, got {line!r}")
            urls[str(Path(file.strip()).resolve())] = url.strip()
    return urls


def page_inputs(files: list[str], url: str | None, url_map: dict[str, str]) -> list[PageInput]:
    if url is not None and len(files) != 1:
        raise UsageError(f"--url gives the address of one page, but {len(files)} files were named; "
                               "use --url-map for several")
    if url is not None:
        return [PageInput(files[0], url)]
    if not url_map:  # no --url-map: no path to resolve (a system call per directory of it)
        return [PageInput(file, None) for file in files]
    return [PageInput(file, None if file == STDIN else url_map.get(str(Path(file).resolve()))) for file in files]


def synthetic_url(path: str) -> str:
    return STDIN_URL if path == STDIN else Path(path).resolve().as_uri()


# -- --explain -------------------------------------------------------------------------------

def cleaning_record(text: ExtractedText) -> object:
    """The text's cleaning report as JSON-able data (None when the cleaner gave none)."""
    return text.cleaning.as_json() if text.cleaning is not None else None


def removed_items(cleaning: object) -> list[tuple[str, int, str]]:
    """(reason, chars, text) of every removal, read from the report itself: its JSON form lists only the first ones."""
    removed = getattr(cleaning, "removed", None)
    if removed is None and isinstance(cleaning, dict):
        removed = cleaning.get("removed")
    return [_removal_fields(removal) for removal in removed or ()]


def _removal_fields(removal: object) -> tuple[str, int, str]:
    if isinstance(removal, dict):
        reason, chars, text = removal.get("reason", ""), removal.get("chars", 0), removal.get("text", "")
    elif isinstance(removal, (list, tuple)):
        reason, chars, text = (*removal, "", 0, "")[:3]
    else:
        reason, chars, text = getattr(removal, "reason", ""), getattr(removal, "chars", 0), getattr(removal, "text", "")
    return str(reason), int(chars or 0), str(text or "")


def explain_lines(path: str, text: ExtractedText) -> list[str]:
    items = removed_items(getattr(text, "cleaning", None))
    lines = [f"{path} (part {text.part}): {len(text.text)} chars kept, {len(items)} removed"]
    for reason, chars, removed in items:
        lines.append(f"  {reason:<24} {chars:>6} chars  {' '.join(removed.split())[:EXPLAIN_TEXT_CHARS]}")
    return lines


# -- one page of the batch -------------------------------------------------------------------

@dataclass(frozen=True)
class Options:
    generic: bool
    profile: tuple[ExtractionRules, str] | None  # --profile's rules and name, loaded once for every page
    content_type: str | None
    explain: bool


def choose_rules(url: str | None, options: Options) -> tuple[ExtractionRules, str | None]:
    if options.profile:
        return options.profile
    return rules_for_url(url, generic=options.generic)


def page_records(page: PageInput, options: Options) -> tuple[list[dict], list[str], bool]:
    """The JSON records and stderr lines of one page, and whether it failed (unreadable, or the cleaner raised)."""
    try:
        body = read_input(page.path)
    except OSError as error:
        return _failure(page.path, f"unreadable: {error.strerror or error}")
    rules, chosen = choose_rules(page.url, options)
    url = page.url or synthetic_url(page.path)
    try:
        result = extract_page(body, url, rules, options.content_type)
    except Exception as error:
        return _failure(page.path, f"cleaning failed: {type(error).__name__}: {error}")
    if not result.texts:
        return ([{"path": page.path, "url": url, "skipped": result.skipped}],
                [f"no text found in {page.path} ({result.skipped}; profile: {chosen or 'generic'})"], False)
    records, notes = [], []
    for text in result.texts:
        record = {"path": page.path, **document(text)}
        if options.explain:
            record["cleaning"] = cleaning_record(text)
            notes.extend(explain_lines(page.path, text))
        records.append(record)
    return records, notes, False


def _failure(path: str, reason: str) -> tuple[list[dict], list[str], bool]:
    return [{"path": path, "error": reason}], [f"error: {path}: {reason}"], True


def named_profile(name: str | None) -> tuple[ExtractionRules, str] | None:
    """--profile's rules; an unknown name is the caller's mistake, said once before any page is read."""
    if not name:
        return None
    from crawler.profiles import ProfileError, load_profile

    try:
        return load_profile(name).extract, name
    except ProfileError as error:
        raise UsageError(str(error)) from None


USAGE_EXAMPLES = """\
examples:
  fanwen extract page.html --url https://www.ruiwen.com/fanwen/6404315.html
  fanwen extract saved/ more.html --explain
"""


def argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fanwen extract", description=EXTRACT_HELP, epilog=USAGE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="a saved page, a directory of them, or - for standard input")
    parser.add_argument("--json", dest="as_json", action="store_true", default=True,
                        help="print one JSON object per text found (the default, and the only format)")
    parser.add_argument("--url", help="the URL the page was fetched from (picks the profile, resolves links); one PATH only")
    parser.add_argument("--url-map", dest="url_map_file", metavar="FILE",
                        help="a file of PATH<TAB>URL lines: the URLs of several pages")
    parser.add_argument("--profile", dest="profile_name", metavar="NAME",
                        help="use this site profile for every page instead of choosing one by URL")
    parser.add_argument("--generic", action="store_true", help="use no profile at all (generic mode)")
    parser.add_argument("--content-type", metavar="TYPE",
                        help="the Content-Type header the pages came with (its charset is a decoding hint)")
    parser.add_argument("--explain", action="store_true",
                        help="add each text's `cleaning` record; list every removal on standard error")
    return parser


EXTRACT_HELP = """\
Extract the clean text(s) of saved pages: files, directories or - for standard input.

A directory is searched recursively for its *.html, *.htm, *.shtml and *.xhtml files.
Every line printed is a JSON object with the page's `path`: a text, or `skipped` (the page
holds no text, and why) or `error` (unreadable, or the cleaner failed on it). A page's profile
is chosen by its URL (--url, --url-map); a page without one is cleaned in generic mode.
Exit status 1 when any page failed, after every page was tried; 2 for a wrong command line.
"""


def main(argv: list[str] | None = None) -> int:
    """``fanwen extract`` itself: the exit status."""
    parser = argument_parser()
    args = parser.parse_args(argv)
    try:
        return extract(args.paths, args.url, args.url_map_file, args.profile_name, args.generic, args.content_type,
                       args.explain)
    except UsageError as error:
        parser.error(str(error))  # exits with status 2


def extract(paths: list[str], url: str | None, url_map_file: str | None, profile_name: str | None,
            generic: bool, content_type: str | None, explain: bool) -> int:
    if url_map_file is not None and not os.path.isfile(url_map_file):
        raise UsageError(f"--url-map: no such file: {url_map_file}")
    files, empty_dirs = page_files(paths)
    pages = page_inputs(files, url, read_url_map(url_map_file) if url_map_file else {})
    options = Options(generic, None if generic else named_profile(profile_name), content_type, explain)
    for directory in empty_dirs:
        print(f"no page files ({', '.join('*' + s for s in PAGE_SUFFIXES)}) under {directory}", file=sys.stderr)
    failed = 0
    for page in pages:
        records, notes, page_failed = page_records(page, options)
        failed += page_failed
        for record in records:
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        for note in notes:
            print(note, file=sys.stderr)
    if failed:
        print(f"{failed} of {len(pages)} pages failed", file=sys.stderr)
        return 1
    return 0
