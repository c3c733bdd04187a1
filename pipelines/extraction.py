"""Article bytes in, clean texts out: the cleaning core's entry point.

decode → parse (lxml; the browser's tree from html5lib when lxml's is suspect)
→ title/date → locate the main block → prune (hidden text, ad slots, link
lists) → flatten to lines → mirror artefacts → zone-aware line rules → split a
合集 page into its texts.  Continuation pages are flattened the same way and
appended; title and date come from the first page.  Every text carries a
``CleaningReport``: what the main block held and what was removed from it, why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urljoin

from lxml import etree, html

from pipelines.collection_pages import split_collection
from pipelines.decoding import TextCensus, decode_html, looks_like_binary
from pipelines.hidden_text import hidden_classes, is_hidden, white_text_hidden
from pipelines.html_blocks import block_lines, locate_body, prune
from pipelines.metadata import find_placeholders, genre_from_title
from pipelines.mirrors import strip_mirror_artefacts
from pipelines.page_checks import is_challenge_page, is_script_shell
from pipelines.page_meta import date_near_title, meta_date, page_date, page_title, site_name
from pipelines.parsing import browser_tree, parse_html
from pipelines.rules import GENERIC_RULES, ExtractionRules, compiled_selector
from pipelines.text_rules import clean_lines, drop_continuation_head
from pipelines.truncation import is_truncation_notice, may_hold_a_notice, preview_pages
from records.texts import CleaningReport, ExtractedText, FetchedPage, PageExtraction, Removal


def continuation_links(root: html.HtmlElement, rules: ExtractionRules, base_url: str) -> tuple[str, ...]:
    links: dict[str, None] = {}
    for css in rules.next_page:
        for anchor in compiled_selector(css)(root):
            href = anchor.get("href")
            if href and not href.startswith(("javascript:", "#")):
                links.setdefault(urljoin(base_url, href.strip()), None)
    links.pop(base_url, None)
    return tuple(links)


# Work bounds, so that no page costs more than about a second (real 范文 pages are a few
# hundred KB; cleaning costs about 40 µs per element).  A page beyond them is read up to
# the bound and its texts are marked truncated: they are not the whole page.
MAX_HTML_CHARS = 800_000
MAX_ELEMENTS = 10_000  # the largest real page seen (a Wikipedia article) has 7,800 elements
_COUNT_ELEMENTS_ABOVE = 60_000  # a shorter page cannot hold enough elements to matter


@dataclass
class ParsedPage:
    root: html.HtmlElement
    cut: bool  # only a leading share of the page was parsed (work bounds)
    parser: str = "lxml"
    suspect: str | None = None  # why lxml's tree may not be the one a browser builds


def bounded_document(text: str) -> ParsedPage:
    """Parse ``text``; if it exceeds the work bounds, parse only a leading share of it."""
    cut = False
    if len(text) > MAX_HTML_CHARS:
        text, cut = text[:MAX_HTML_CHARS], True
    parsed = parse_html(text)
    root = parsed.root
    if len(text) >= _COUNT_ELEMENTS_ABOVE:
        elements = int(root.xpath("count(//*)"))
        if elements > MAX_ELEMENTS:
            # Elements are spread about evenly in a pathological page (a million <br>, a
            # link farm): keep the share of the text that holds MAX_ELEMENTS of them.
            keep = int(len(text) * MAX_ELEMENTS / elements)
            return ParsedPage(parse_html(text[:keep]).root, True)
    if parsed.suspect:
        browser_root = _browser_tree(text)
        if browser_root is not None:
            return ParsedPage(browser_root, cut, "html5lib", parsed.suspect)
        # The browser's tree was over its bounds: lxml's is all there is, and it is known to
        # miss part of the page, so its texts are not the whole page.
        return ParsedPage(root, True, "lxml", parsed.suspect)
    return ParsedPage(root, cut, "lxml", parsed.suspect)


@dataclass
class BodyLines:
    """A page's main block flattened to lines, with what pruning removed from it."""

    lines: list[str]  # Blocks as block_lines made them, until the line rules replace some
    locator: str
    block_chars: int
    removed: list[Removal] = field(default_factory=list)
    has_scripts: bool = False  # the page had scripts before they were stripped
    gate_after: str | None = None  # a notice right after the block saying the text goes on behind a gate


_CODE_ELEMENTS = ("script", "style", "noscript", "template")
_SCRIPTS = etree.XPath("boolean(//script)")


def _visible_chars(element: html.HtmlElement) -> int:
    return len("".join(element.text_content().split()))


def page_body(root: html.HtmlElement, rules: ExtractionRules) -> BodyLines:
    # Hidden classes are read from the whole page: DedeCMS puts its <style> inside the
    # body container, other templates in <head>.
    classes = hidden_classes(root)
    white_hides = white_text_hidden(root)
    has_scripts = bool(_SCRIPTS(root))
    # Script and style text is no reader's text: gone before the locator weighs text.
    etree.strip_elements(root, *_CODE_ELEMENTS, with_tail=False)
    container, outside, locator = locate_body(root, rules)
    gate = gate_after(container, classes)
    block_chars = _visible_chars(container)
    removed = prune(container, rules, classes, outside, white_hides)
    lines: list[str] = [*block_lines(container)]
    return BodyLines(lines, locator, block_chars, removed, has_scripts, gate)


_GATE_SIBLINGS = 3
_GATE_LEVELS = 2
_GATE_MAX_CHARS = 200  # a paywall box is short; a longer block is the next region of the page


def gate_after(container: html.HtmlElement, hidden: frozenset[str]) -> str | None:
    """The truncation notice standing right after the main block (a paywall box, a "展开全文" bar), if any.

    Sites put the gate next to the preview, outside the element that holds it; only the
    first few short elements after the block are read, so a notice's words elsewhere on
    the page (a comment asking for "完整版") decide nothing.
    """
    element: html.HtmlElement | None = container
    for _ in range(_GATE_LEVELS):
        if element is None:
            return None
        looked = 0
        for sibling in element.itersiblings():
            if not isinstance(sibling.tag, str) or is_hidden(sibling, hidden):
                continue
            shown = sibling.text_content()
            if len("".join(shown.split())) > _GATE_MAX_CHARS or looked == _GATE_SIBLINGS:
                return None
            looked += 1
            if not may_hold_a_notice(shown):
                continue
            for line in block_lines(sibling):
                if is_truncation_notice(line):
                    return line
        element = element.getparent()
        if element is not None and element.tag == "body":
            return None
    return None


# A cleaned text this much shorter than its block's visible text, with the loss not
# explained by what cleaning removed, may come from a tree lxml built wrong; the
# browser's tree is tried and kept if it yields clearly more.
_UNEXPLAINED_SHARE = 0.5
_MIN_BLOCK_FOR_RETRY = 200
_BROWSER_GAIN = 1.2
# html5lib reads about 0.3-2 MB/s: these bound the fallback so that no page costs over a second.
_BROWSER_MAX_CHARS = 400_000
_BROWSER_SECONDS = 0.4


def extract_texts(pages: Sequence[FetchedPage], rules: ExtractionRules = GENERIC_RULES) -> PageExtraction:
    """Extract the clean text(s) of one article from its page(s), first page first."""
    if not pages:
        return PageExtraction(skipped="no_pages")
    first = pages[0]
    decoded = decode_html(first.body, first.content_type, rules.encoding)
    encodings = [(decoded.declared, decoded.encoding)]
    if not decoded.text.strip():
        return PageExtraction(skipped="empty_body", encodings=tuple(encodings))
    census = decoded.census or TextCensus.of(decoded.text)
    if not census.mojibake and census.binary:
        return PageExtraction(skipped="not_text", encodings=tuple(encodings))
    if census.mojibake:
        # Still garbled after every declared and detected encoding: flag it, never archive it as text.
        return PageExtraction(skipped="mojibake", encodings=tuple(encodings))
    parsed = bounded_document(decoded.text)
    result = _extract_parsed(parsed, decoded.text, pages, rules, encodings)
    if result.texts and parsed.parser == "lxml" and not parsed.cut:
        report = result.texts[0].cleaning
        if report and _unexplained_loss(report):
            retry = _retry_in_browser_tree(decoded.text, pages, rules, report.kept_chars)
            if retry is not None:
                return retry
    return result


def _unexplained_loss(report: CleaningReport) -> bool:
    if report.block_chars < _MIN_BLOCK_FOR_RETRY:
        return False
    removed = sum(removal.chars for removal in report.removed)
    return report.block_chars - report.kept_chars - removed > _UNEXPLAINED_SHARE * report.block_chars


def _browser_tree(text: str) -> html.HtmlElement | None:
    return browser_tree(text, max_chars=_BROWSER_MAX_CHARS, max_seconds=_BROWSER_SECONDS)


def _retry_in_browser_tree(text: str, pages, rules, kept_chars: int) -> PageExtraction | None:
    browser_root = _browser_tree(text)
    if browser_root is None:
        return None
    retry = _extract_parsed(ParsedPage(browser_root, False, "html5lib", "short_text"), text, pages, rules, [])
    retry_chars = sum(len(part.text) for part in retry.texts)
    return retry if retry_chars > _BROWSER_GAIN * max(kept_chars, 1) else None


def _extract_parsed(parsed: ParsedPage, source: str, pages: Sequence[FetchedPage], rules: ExtractionRules,
                    encodings: list) -> PageExtraction:
    first = pages[0]
    root, cut = parsed.root, parsed.cut
    site = site_name(root, rules)
    title = page_title(root, rules, site)
    published = page_date(root, rules)
    next_pages = continuation_links(root, rules, first.url)

    body = page_body(root, rules)
    lines, removed, block_chars = body.lines, list(body.removed), body.block_chars
    for page in pages[1:]:
        more = decode_html(page.body, page.content_type, rules.encoding)
        encodings.append((more.declared, more.encoding))
        if more.text.strip() and not looks_like_binary(more.text):
            more_parsed = bounded_document(more.text)
            cut = cut or more_parsed.cut
            more_body = page_body(more_parsed.root, rules)
            removed.extend(more_body.removed)
            block_chars += more_body.block_chars
            lines.extend(drop_continuation_head(more_body.lines, site_name=site, title=title))

    lines = strip_mirror_artefacts(lines)
    cleaned = clean_lines(lines, site_name=site if rules.site_name else None, title=title,
                          template_lines=rules.template_line_set)
    removed.extend(cleaned.removed)
    if is_challenge_page(source, title, sum(map(len, cleaned.lines))):
        return PageExtraction(skipped="anti_bot", encodings=tuple(encodings))
    if not cleaned.lines:
        # Asked of a fresh parse: the scripts were stripped from ``root`` (a rare path, so parse again).
        script_shell = body.has_scripts and is_script_shell(parse_html(source).root)
        return PageExtraction(
            skipped="javascript_only" if script_shell else "empty_after_cleaning", encodings=tuple(encodings))
    # Last resort, after pruning: hidden junk near the title is gone by then, the date is not.
    published = published or cleaned.published or meta_date(root) or date_near_title(root, title)
    stated_pages, shown_pages = preview_pages(lines)
    truncated = (cleaned.truncated or cut or stated_pages > shown_pages > 0 or body.gate_after is not None
                 or any(_is_gate_control(removal) for removal in body.removed))
    parts, intro = split_collection(cleaned.lines, title)
    removed.extend(Removal("collection_intro", len(line), line[:60]) for line in intro)
    notes: tuple[str, ...] = (f"parse_suspect:{parsed.suspect}",) if parsed.suspect else ()
    if body.gate_after:
        notes += (f"gate_after_block:{body.gate_after[:60]}",)
    part_texts = ["\n".join(part.lines) for part in parts]
    kept_chars = sum(len("".join(text.split())) for text in part_texts)  # a line break is whitespace too
    report = CleaningReport(parsed.parser, body.locator, block_chars, kept_chars, tuple(removed), notes)
    records = []
    for number, (part, text) in enumerate(zip(parts, part_texts), start=1):
        part_title = part.title or title
        records.append(
            ExtractedText(
                url=first.url,
                title=part_title,
                published=published,
                text=text,
                truncated=truncated,
                genre=genre_from_title(part_title if part.title else title),
                placeholders=find_placeholders(text),
                part=number,
                next_pages=next_pages,
                encoding=encodings[0][1] if encodings else "",
                collection_title=title if part.title else None,
                cleaning=report,
            )
        )
    return PageExtraction(texts=records, encodings=tuple(encodings))


def _is_gate_control(removal: Removal) -> bool:
    """A button or link box in the main block offering the rest of the text ("展开全文", "下载完整版")."""
    return (removal.reason in ("control", "link_list", "ad_slot") and removal.chars <= _GATE_CONTROL_CHARS
            and is_truncation_notice(removal.text))


_GATE_CONTROL_CHARS = 40


# Why an article has no text when the cleaning core raised on one of its pages.
CLEANING_FAILED = "cleaning_failed"


def extract_or_report(pages: Sequence[FetchedPage], rules: ExtractionRules = GENERIC_RULES) -> PageExtraction:
    """``extract_texts``, except that an article it raises on yields no text, skipped as ``CLEANING_FAILED``.

    The error is logged with its traceback; the crawl keeps the article's capture,
    records why it has no text, and goes on (a bug met on one page costs that page).
    """
    try:
        return extract_texts(pages, rules)
    except Exception:
        # Imported here: logging (with traceback, string, threading) is a tenth of the cleaning
        # core's import time, and `fanwen extract` is timed as a whole process.
        import logging

        logging.getLogger(__name__).exception("cleaning %s failed; its capture is kept", pages[0].url)
        return PageExtraction(skipped=CLEANING_FAILED)
