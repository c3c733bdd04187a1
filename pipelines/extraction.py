"""Article bytes in, clean texts out: the cleaning core's entry point.

decode → parse → title/date → locate body container → prune → flatten to
lines → line rules.  Continuation pages are flattened the same way and
appended; title and date come from the first page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urljoin

from lxml import html

from .decoding import decode_html
from .html_blocks import block_lines, locate_body, normalise_line, parse_document, prune, select_text
from .metadata import find_placeholders, genre_from_title
from .records import ExtractedText, FetchedPage, PageExtraction
from .rules import GENERIC_RULES, ExtractionRules, compiled_selector
from .text_rules import clean_lines, parse_date_line

_TITLE_SEPARATORS = re.compile(r"\s*(?:_|\||－|—|–| - )\s*")


def page_title(root: html.HtmlElement, rules: ExtractionRules) -> str:
    """The article's own title: the profile's selectors, else ``<title>`` without the site suffix."""
    title = select_text(root, rules.title)
    if title:
        return title
    meta = root.xpath('string(//meta[@property="og:title"]/@content)')
    if meta and meta.strip():
        return normalise_line(meta)
    document_title = normalise_line(root.findtext(".//title") or "")
    return _TITLE_SEPARATORS.split(document_title, maxsplit=1)[0] if document_title else ""


def page_date(root: html.HtmlElement, rules: ExtractionRules) -> str | None:
    stamp = select_text(root, rules.date)
    return parse_date_line(stamp, rules.site_name) if stamp else None


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
    container = locate_body(root, rules)
    prune(container, rules)
    return block_lines(container)


def extract_texts(pages: Sequence[FetchedPage], rules: ExtractionRules = GENERIC_RULES) -> PageExtraction:
    """Extract the clean text(s) of one article from its page(s), first page first."""
    if not pages:
        return PageExtraction(skipped="no_pages")
    first = pages[0]
    decoded = decode_html(first.body, first.content_type, rules.encoding)
    if not decoded.text.strip():
        return PageExtraction(skipped="empty_body")
    root = parse_document(decoded.text)
    title = page_title(root, rules)
    published = page_date(root, rules)
    next_pages = continuation_links(root, rules, first.url)

    lines = _page_lines(root, rules)
    for page in pages[1:]:
        more = decode_html(page.body, page.content_type, rules.encoding)
        if more.text.strip():
            lines.extend(_page_lines(parse_document(more.text), rules))

    cleaned = clean_lines(lines, site_name=rules.site_name, title=title)
    if not cleaned.lines:
        return PageExtraction(skipped="empty_after_cleaning")
    text = "\n".join(cleaned.lines)
    record = ExtractedText(
        url=first.url,
        title=title,
        published=published or cleaned.published,
        text=text,
        truncated=cleaned.truncated,
        genre=genre_from_title(title),
        placeholders=find_placeholders(text),
        next_pages=next_pages,
        encoding=decoded.encoding,
    )
    return PageExtraction(texts=[record])
