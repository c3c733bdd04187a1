"""Article bytes in, clean texts out: the cleaning core's entry point.

decode → parse → title/date → locate body container → prune (hidden text,
ad slots, link lists) → flatten to lines → mirror artefacts → line rules →
split a 合集 page into its texts.  Continuation pages are flattened the same
way and appended; title and date come from the first page.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from urllib.parse import urljoin

from lxml import html

from .collection_pages import split_collection
from .decoding import TextCensus, decode_html, looks_like_binary
from .hidden_text import hidden_classes
from .html_blocks import (
    block_lines,
    locate_body,
    normalise_line,
    parse_document,
    prune,
    select_text,
)
from .page_checks import is_challenge_page, is_script_shell
from .metadata import find_placeholders, genre_from_title
from .mirrors import strip_mirror_artefacts
from .records import ExtractedText, FetchedPage, PageExtraction
from .rules import GENERIC_RULES, ExtractionRules, compiled_selector
from .text_rules import clean_lines, drop_continuation_head, iso_date, parse_date_line

# No \s* around the separator: on a title holding a long run of spaces (U+3000
# included) and no separator, a leading \s* is retried at every position of the
# run, quadratic time (3 s for 30,000 spaces; tests/test_fuzz_extract.py).  The
# part before the separator is right-stripped instead (str.rstrip strips what \s
# matches), which is the same result.
_TITLE_SEPARATORS = re.compile(r"_|\||－|—|–| - ")


def page_title(root: html.HtmlElement, rules: ExtractionRules) -> str:
    """The article's own title: the profile's selectors, else ``<title>`` without the site suffix."""
    title = select_text(root, rules.title)
    if title:
        return title
    meta = root.xpath('string(//meta[@property="og:title"]/@content)')
    if meta and meta.strip():
        return normalise_line(meta)
    document_title = normalise_line(root.findtext(".//title") or "")
    separator = _TITLE_SEPARATORS.search(document_title)
    return document_title[:separator.start()].rstrip() if separator else document_title


_DATE_IN_TEXT = re.compile(r"(20\d{2}|19\d{2})[-/.年](\d{1,2})[-/.月](\d{1,2})")
_NEAR_TITLE_CHARS = 160  # the date stamp sits right under the title on every layout seen
_TITLE_WRAPPER_LEVELS = 2


def page_date(root: html.HtmlElement, rules: ExtractionRules) -> str | None:
    stamp = select_text(root, rules.date)
    if not stamp:
        return None
    parsed = parse_date_line(stamp, rules.site_name)
    if parsed:
        return parsed
    match = _DATE_IN_TEXT.search(stamp)  # a profile's date element may hold "发布时间：… 来源：…"
    return iso_date(*match.groups()) if match else None


def date_near_title(root: html.HtmlElement, title: str) -> str | None:
    """Generic fallback: the first date in the text right after the ``<h1>`` (meta lines such as
    "发布时间：2024-03-05 来源：…" or "发表于 2024-3-5 10:22")."""
    heading = next(root.iter("h1"), None)
    if heading is None:
        return None
    following: list[str] = []
    size = 0
    # The h1 may sit alone in a title wrapper (<div class="wz_title"><h1>, fixture
    # gold/wmjy_*): then the text after it is the text after its wrapper.
    element: html.HtmlElement | None = heading
    for _ in range(_TITLE_WRAPPER_LEVELS + 1):
        if element is None or size > _NEAR_TITLE_CHARS:
            break
        if element.tail:
            following.append(element.tail)
            size += len(element.tail)
        for sibling in element.itersiblings():
            for chunk in sibling.itertext():  # stops early: the next sibling may be the whole body
                following.append(chunk)
                size += len(chunk)
                if size > _NEAR_TITLE_CHARS:
                    break
            if size > _NEAR_TITLE_CHARS:
                break
        element = element.getparent()
    match = _DATE_IN_TEXT.search("".join(following)[:_NEAR_TITLE_CHARS])
    return iso_date(*match.groups()) if match else None


def continuation_links(root: html.HtmlElement, rules: ExtractionRules, base_url: str) -> tuple[str, ...]:
    links: dict[str, None] = {}
    for css in rules.next_page:
        for anchor in compiled_selector(css)(root):
            href = anchor.get("href")
            if href and not href.startswith(("javascript:", "#")):
                links.setdefault(urljoin(base_url, href.strip()), None)
    links.pop(base_url, None)
    return tuple(links)


def _page_lines(root: html.HtmlElement, rules: ExtractionRules) -> list[str]:
    # Hidden classes are read from the whole page: DedeCMS puts its <style> inside the
    # body container, other templates in <head>.
    classes = hidden_classes(root)
    container = locate_body(root, rules)
    prune(container, rules, classes)
    return block_lines(container)


# Work bounds, so that no page costs more than about a second (real 范文 pages are a few
# hundred KB; cleaning costs about 10 µs per element).  A page beyond them is read up to
# the bound and its texts are marked truncated: they are not the whole page.
MAX_HTML_CHARS = 800_000
MAX_ELEMENTS = 15_000
_COUNT_ELEMENTS_ABOVE = 60_000  # a shorter page cannot hold enough elements to matter


def bounded_document(text: str) -> tuple[html.HtmlElement, bool]:
    """Parse ``text``; if it exceeds the work bounds, parse only a leading share of it.

    Returns the tree and whether the page was cut.
    """
    cut = False
    if len(text) > MAX_HTML_CHARS:
        text, cut = text[:MAX_HTML_CHARS], True
    root = parse_document(text)
    if len(text) < _COUNT_ELEMENTS_ABOVE:
        return root, cut
    elements = int(root.xpath("count(//*)"))
    if elements > MAX_ELEMENTS:
        # Elements are spread about evenly in a pathological page (a million <br>, a
        # link farm): keep the share of the text that holds MAX_ELEMENTS of them.
        keep = int(len(text) * MAX_ELEMENTS / elements)
        root, cut = parse_document(text[:keep]), True
    return root, cut


def extract_texts(pages: Sequence[FetchedPage], rules: ExtractionRules = GENERIC_RULES) -> PageExtraction:
    """Extract the clean text(s) of one article from its page(s), first page first."""
    if not pages:
        return PageExtraction(skipped="no_pages")
    first = pages[0]
    decoded = decode_html(first.body, first.content_type, rules.encoding)
    encodings = [(decoded.declared, decoded.encoding)]
    if not decoded.text.strip():
        return PageExtraction(skipped="empty_body", encodings=tuple(encodings))
    census = TextCensus.of(decoded.text)
    if not census.mojibake and census.binary:
        return PageExtraction(skipped="not_text", encodings=tuple(encodings))
    if census.mojibake:
        # Still garbled after every declared and detected encoding: flag it, never archive it as text.
        return PageExtraction(skipped="mojibake", encodings=tuple(encodings))
    root, cut = bounded_document(decoded.text)
    title = page_title(root, rules)
    published = page_date(root, rules)
    next_pages = continuation_links(root, rules, first.url)

    lines = _page_lines(root, rules)
    for page in pages[1:]:
        more = decode_html(page.body, page.content_type, rules.encoding)
        encodings.append((more.declared, more.encoding))
        if more.text.strip() and not looks_like_binary(more.text):
            more_root, more_cut = bounded_document(more.text)
            cut = cut or more_cut
            lines.extend(drop_continuation_head(_page_lines(more_root, rules), site_name=rules.site_name, title=title))

    lines = strip_mirror_artefacts(lines)
    cleaned = clean_lines(lines, site_name=rules.site_name, title=title)
    if is_challenge_page(decoded.text, title, sum(map(len, cleaned.lines))):
        return PageExtraction(skipped="anti_bot", encodings=tuple(encodings))
    if not cleaned.lines:
        # Asked of a fresh parse: pruning removed the scripts from ``root`` (a rare path, so parse again).
        script_shell = is_script_shell(bounded_document(decoded.text)[0])
        return PageExtraction(
            skipped="javascript_only" if script_shell else "empty_after_cleaning", encodings=tuple(encodings))
    # Last resort, after pruning: hidden junk near the title is gone by then, the date is not.
    published = published or cleaned.published or date_near_title(root, title)
    genre = genre_from_title(title)
    records = []
    for part, part_lines in enumerate(split_collection(cleaned.lines, title), start=1):
        text = "\n".join(part_lines)
        records.append(
            ExtractedText(
                url=first.url,
                title=title,
                published=published,
                text=text,
                truncated=cleaned.truncated or cut,
                genre=genre,
                placeholders=find_placeholders(text),
                part=part,
                next_pages=next_pages,
                encoding=decoded.encoding,
            )
        )
    return PageExtraction(texts=records, encodings=tuple(encodings))


# Why an article has no text when the cleaning core raised on one of its pages.
CLEANING_FAILED = "cleaning_failed"


def extract_or_report(pages: Sequence[FetchedPage], rules: ExtractionRules = GENERIC_RULES) -> PageExtraction:
    """``extract_texts``, except that an article it raises on yields no text, skipped as ``CLEANING_FAILED``.

    The error is logged with its traceback; the crawl keeps the article's capture,
    records why it has no text, and goes on (a bug met on one page costs that page).
    """
    try:
        return extract_texts(pages, rules)
    except Exception:  # noqa: BLE001 - see the docstring
        logging.getLogger("fanwen.extraction").exception("cleaning %s failed; its capture is kept", pages[0].url)
        return PageExtraction(skipped=CLEANING_FAILED)
