"""A page's title, its site's name and its publication date.

The title is the article's own, never the site's name: a site whose header
repeats its name in an ``<h1>`` would otherwise title every text with it.  The
site's name is read from what pages say about themselves (``og:site_name``,
the suffix of ``<title>``) or taken from the profile.
"""

from __future__ import annotations

import re

from lxml import etree, html

from pipelines.html_blocks import normalise_line, select_text
from pipelines.rules import ExtractionRules
from pipelines.text_rules import iso_date, parse_date_line

# No \s* around the separator: on a title holding a long run of spaces (U+3000
# included) and no separator, a leading \s* is retried at every position of the
# run, quadratic time (tests/test_fuzz_extract.py).  Parts are stripped instead.
_TITLE_SEPARATORS = re.compile(r"_|\||－|—|–| - |｜|»|::|>>")
_HEADINGS = etree.XPath("//h1|//h2|//*[contains(@class,'title') or contains(@id,'title')]")
_OG_SITE_NAME = etree.XPath('string(//meta[@property="og:site_name"]/@content)')
_OG_TITLE = etree.XPath('string(//meta[@property="og:title"]/@content)')
_DOCUMENT_TITLE = etree.XPath("string((//title)[1])")
_MAX_TITLE = 120


def document_title_parts(root: html.HtmlElement) -> list[str]:
    document_title = normalise_line(_DOCUMENT_TITLE(root))
    return [part.strip() for part in _TITLE_SEPARATORS.split(document_title) if part.strip()]


def site_name(root: html.HtmlElement, rules: ExtractionRules) -> str | None:
    """The site's own name: the profile's, ``og:site_name``, or the last part of a multi-part ``<title>``."""
    if rules.site_name:
        return rules.site_name
    meta = _OG_SITE_NAME(root).strip()
    if meta:
        return normalise_line(meta)
    parts = document_title_parts(root)
    return parts[-1] if len(parts) >= 2 else None


def _consistent(candidate: str, document_title: str) -> bool:
    return bool(document_title) and (candidate in document_title or document_title in candidate)


def page_title(root: html.HtmlElement, rules: ExtractionRules, site: str | None = None) -> str:
    """The article's own title.

    The profile's selectors (or ``h1``) first, skipping a match that is the site's
    name; a heading that agrees with ``<title>`` beats one that does not; else
    ``<title>`` without the site's name.
    """
    parts = document_title_parts(root)
    own_parts = [part for part in parts if part != site] or parts
    document_title = own_parts[0] if own_parts else ""

    whole_title = normalise_line(_DOCUMENT_TITLE(root))

    def usable(text: str | None) -> bool:
        if not text or text == site or len(text) > _MAX_TITLE:
            return False
        if site and text.startswith(site) and len(text) <= len(site) + 4:
            return False
        # The site's name at one end of <title> ("土豆不“土” 松花江网"), repeated in a header <h1>.
        return not (len(text) * 2 < len(whole_title) and whole_title.endswith(text))

    selected = select_text(root, rules.title)
    if usable(selected) and (rules.title != ("h1",) or _consistent(selected, document_title) or not document_title):
        return selected  # type: ignore[return-value]
    meta = normalise_line(_OG_TITLE(root))
    if usable(meta):
        return meta
    headings = [normalise_line(element.text_content()) for element in _HEADINGS(root)[:30]]
    for heading in headings:
        if usable(heading) and _consistent(heading, document_title):
            return heading
    if document_title:
        return document_title
    return next((heading for heading in headings if usable(heading)), selected or "")


_DATE_IN_TEXT = re.compile(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_NEAR_TITLE_CHARS = 160  # the date stamp sits right under the title on every layout seen
_TITLE_WRAPPER_LEVELS = 2
_META_DATES = (
    "article:published_time", "publishdate", "PubDate", "pubdate", "publish_date", "date", "dc.date",
)


def page_date(root: html.HtmlElement, rules: ExtractionRules) -> str | None:
    stamp = select_text(root, rules.date)
    if not stamp:
        return None
    parsed = parse_date_line(stamp, rules.site_name)
    if parsed:
        return parsed
    match = _DATE_IN_TEXT.search(stamp)  # a profile's date element may hold "发布时间：… 来源：…"
    return iso_date(*match.groups()) if match else None


_META_DATE_CONTENT = etree.XPath(
    "//meta[" + " or ".join(f'@property="{name}" or @name="{name}"' for name in _META_DATES) + "]/@content"
)


def meta_date(root: html.HtmlElement) -> str | None:
    for value in _META_DATE_CONTENT(root):
        match = _DATE_IN_TEXT.search(value)
        if match:
            return iso_date(*match.groups())
    return None


def date_near_title(root: html.HtmlElement, title: str) -> str | None:
    """Generic fallback: the first date in the text right after the title's heading (meta lines such as
    "发布时间：2024-03-05 来源：…" or "发表于 2024-3-5 10:22")."""
    heading = next((element for element in root.iter("h1", "h2")
                    if normalise_line(element.text_content()) == title), None)
    heading = heading if heading is not None else next(root.iter("h1"), None)
    if heading is None:
        return None
    following: list[str] = []
    size = 0
    # The heading may sit alone in a title wrapper (<div class="wz_title"><h1>): then the
    # text after it is the text after its wrapper.
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
