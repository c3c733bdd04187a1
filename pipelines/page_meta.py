"""A page's title, its site's name and its publication date.

The title is the article's own, never the site's name: a site whose header
repeats its name in an ``<h1>`` would otherwise title every text with it.  The
site's name is read from what pages say about themselves (``og:site_name``,
the suffix of ``<title>``) or taken from the profile.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree, html

from pipelines.html_blocks import normalise_line, select_text
from pipelines.rules import ExtractionRules
from pipelines.text_rules import iso_date, parse_date_line

# No \s* around the separator: on a title holding a long run of spaces (U+3000
# included) and no separator, a leading \s* is retried at every position of the
# run, quadratic time (tests/test_fuzz_extract.py).  Parts are stripped instead.
_TITLE_SEPARATORS = re.compile(r"_|\||－|—|–| - |｜|»|::|>>")
# <meta> elements are looked up by ``iter("meta")`` (below), which matches the tag in C.
_HEADING_CANDIDATES = 30
_ANY_TITLE = etree.XPath("string((/descendant::title)[1])")


def _headings(root: html.HtmlElement) -> Iterator[html.HtmlElement]:
    """``h1``, ``h2`` and elements whose class or id says "title", in document order.

    Walked lazily, not as one XPath: the first heading that agrees with ``<title>`` is
    usually near the top, and an XPath tests every element of the page before it returns
    the first (``benchmarks/cleaning_scorecard.py --parts speed`` times whole pages).
    """
    found = 0
    for element in root.iter(etree.Element):
        if element.tag in ("h1", "h2") or "title" in element.get("class", "") or "title" in element.get("id", ""):
            yield element
            found += 1
            if found == _HEADING_CANDIDATES:
                return


def _document_title(root: html.HtmlElement) -> str:
    """The text of the page's first ``<title>``: the head's, found without walking the body."""
    head = root.find("head")
    title = head.find("title") if head is not None else None
    return title.text_content() if title is not None else _ANY_TITLE(root)


_MAX_TITLE = 120


def _meta_contents(root: html.HtmlElement, names: frozenset[str], *, by_name: bool) -> Iterator[str]:
    """``//meta[@property=N or @name=N]/@content`` for N in ``names`` (``@name`` only when ``by_name``),
    in document order."""
    for meta in root.iter("meta"):
        if meta.get("property") in names or (by_name and meta.get("name") in names):
            content = meta.get("content")
            if content is not None:
                yield content


def _og(root: html.HtmlElement, names: frozenset[str]) -> str:
    return next(_meta_contents(root, names, by_name=False), "")


_OG_SITE_NAME = frozenset(("og:site_name",))
_OG_TITLE = frozenset(("og:title",))


def document_title_parts(root: html.HtmlElement) -> list[str]:
    return _title_parts(normalise_line(_document_title(root)))


def _title_parts(document_title: str) -> list[str]:
    return [part.strip() for part in _TITLE_SEPARATORS.split(document_title) if part.strip()]


def site_name(root: html.HtmlElement, rules: ExtractionRules) -> str | None:
    """The site's own name: the profile's, ``og:site_name``, or the last part of a multi-part ``<title>``."""
    if rules.site_name:
        return rules.site_name
    meta = _og(root, _OG_SITE_NAME).strip()
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
    whole_title = normalise_line(_document_title(root))
    parts = _title_parts(whole_title)
    own_parts = [part for part in parts if part != site] or parts
    document_title = own_parts[0] if own_parts else ""

    def usable(text: str | None) -> bool:
        if not text or text == site or len(text) > _MAX_TITLE:
            return False
        if site and text.startswith(site) and len(text) <= len(site) + 4:
            return False
        # The site's name at one end of <title> ("土豆不“土” 松花江网"), repeated in a header <h1>.
        return not (len(text) * 2 < len(whole_title) and whole_title.endswith(text))

    selected = select_text(root, rules.title)
    if selected is not None and usable(selected) and (
        rules.title != ("h1",) or _consistent(selected, document_title) or not document_title
    ):
        return selected
    meta = normalise_line(_og(root, _OG_TITLE))
    if usable(meta):
        return meta
    # Read one at a time: the first heading that agrees with <title> ends the search.
    headings = (normalise_line(element.text_content()) for element in _headings(root))
    if document_title:
        return next((heading for heading in headings if usable(heading) and _consistent(heading, document_title)),
                    document_title)
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


_META_DATE_NAMES = frozenset(_META_DATES)


def meta_date(root: html.HtmlElement) -> str | None:
    for value in _meta_contents(root, _META_DATE_NAMES, by_name=True):
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
