"""DOM passes: locate the body container, prune what is not text, flatten it to lines.

Works on an lxml tree.  Only the selected container is cleaned and walked, so
the cost of a page is the cost of its text, not of its chrome.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from lxml import etree, html

from pipelines.hidden_text import is_hidden
from pipelines.main_content import linked_chars, locate_main_block
from pipelines.rules import ExtractionRules, compiled_selector
from records.texts import Removal

# Elements that never carry article text.
_NEVER_TEXT = ("script", "style", "noscript", "iframe", "template", "form", "button",
               "select", "textarea", "svg", "object", "embed", "canvas", "input")

# Elements that start a new line when rendered.
_BLOCK_TAGS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li ul ol dl dt dd table tbody thead tr td th section article "
    "blockquote pre center header footer aside nav main figure figcaption hr address".split()
)

# Ad slots named the way CMS templates name them (ad-slot, ads_box, guanggao, gg_center).
_AD_SLOT_WORDS = r"(?:^|[\s_-])(?:ad|ads|advert|adsense|guanggao|gg)(?:$|[\s_\d-])"
_AD_SLOT_NAME = re.compile(_AD_SLOT_WORDS, re.I)
_AD_SLOT_LOWER = re.compile(_AD_SLOT_WORDS)  # for ASCII names, lower-cased: re.I searches cost several times more


@lru_cache(maxsize=4096)
def _is_ad_slot_name(names: str) -> bool:
    # Cached: class names repeat on a page (each box of a list) and across a site's pages.
    if names.isascii():
        return bool(_AD_SLOT_LOWER.search(names.lower()))
    return bool(_AD_SLOT_NAME.search(names))
# Leading indentation on these sites is two U+3000 or &nbsp; runs; it is layout, not text.
_EDGE_SPACE = " \t\r\n\f\v\u3000\xa0\u2002\u2003\u200b\ufeff"
_ASCII_SPACE = " \t\r\n\f\v"  # what normalise_line makes one space; str.strip() strips all of it too


def first_match(root: html.HtmlElement, selectors: Iterable[str]) -> html.HtmlElement | None:
    for css in selectors:
        found = compiled_selector(css)(root)
        if found:
            return found[0]
    return None


def select_text(root: html.HtmlElement, selectors: Iterable[str]) -> str | None:
    """Text of the first element matched by any selector, whitespace-normalised."""
    for css in selectors:
        for element in compiled_selector(css)(root):
            value = normalise_line(element.text_content())
            if value:
                return value
    return None


def locate_body(root: html.HtmlElement, rules: ExtractionRules) -> tuple[html.HtmlElement, list[html.HtmlElement], str]:
    """The body container, the parts of it that are outside the main text, and how it was found.

    A profile's selectors first; otherwise (or when none matches) the general locator.
    """
    container = first_match(root, rules.body)
    if container is not None:
        return container, [], "profile"
    main = locate_main_block(root)
    if main is not None:
        return main.element, main.excluded, "generic"
    body = root.find("body")
    return (body if body is not None else root), [], "whole_page"


# Blocks that can hold a list of links (related boxes, "优秀文章" boxes, pagers).
_LINK_LIST_TAG_SET = frozenset(("div", "ul", "ol", "dl", "table", "section", "aside", "nav"))
_AD_SLOT_TAGS = frozenset(("div", "section", "aside", "ins"))
_NEVER_TEXT_TAGS = frozenset(_NEVER_TEXT)
_LINK_DENSITY = 0.5


def is_link_list(element: html.HtmlElement) -> bool:
    """A block whose visible text is mostly link text: a link list, not prose.

    Keyword links inside a sentence (学习啦, 瑞文; docs/site-families.md, "Keyword links") are a small
    share of their paragraph and are kept (unwrapped) by flattening.
    """
    linked = linked_chars(element)
    if not linked:
        return False  # most blocks hold no link: their text need not be read
    chars = _visible_chars(element)
    return chars > 0 and linked / chars > _LINK_DENSITY



def _visible_chars(element: html.HtmlElement) -> int:
    return len("".join(element.text_content().split()))


def _why_pruned(element: html.HtmlElement, tag: str, hidden_classes: frozenset[str], white_hides: bool) -> str | None:
    if tag in _NEVER_TEXT_TAGS:
        return "control" if tag in _SHOWN_CONTROLS else "not_text"
    if is_hidden(element, hidden_classes, white_hides):
        return "hidden"
    if tag in _LINK_LIST_TAG_SET:
        if tag in _AD_SLOT_TAGS and _is_ad_slot_name(f"{element.get('class', '')} {element.get('id', '')}"):
            return "ad_slot"
        if is_link_list(element):
            return "link_list"
    return None


def prune(
    container: html.HtmlElement,
    rules: ExtractionRules,
    hidden_classes: frozenset[str] = frozenset(),
    outside: Iterable[html.HtmlElement] = (),
    white_hides: bool = True,
) -> list[Removal]:
    """Remove non-text elements, hidden elements, the site's boilerplate and pager links, in place.

    Returns what was removed that a reader could have seen, each with its reason.  One
    walk from the top: what is inside a removed element is neither looked at nor counted.
    """
    doomed: list[tuple[html.HtmlElement, str]] = [(element, "outside_main_text") for element in outside]
    skipped = {element for element, _ in doomed}
    stack = [child for child in reversed(container) if child not in skipped]
    while stack:
        element = stack.pop()
        tag = element.tag
        if not isinstance(tag, str):
            continue
        reason = _why_pruned(element, tag, hidden_classes, white_hides)
        if reason:
            doomed.append((element, reason))
        else:
            stack.extend(reversed(element))
    for css in rules.drop:
        doomed.extend((element, "profile_drop") for element in compiled_selector(css)(container))
    for css in rules.next_page:
        doomed.extend((element, "pager") for element in compiled_selector(css)(container))
    removed: list[Removal] = []
    root = container.getroottree().getroot()
    for element in doomed:
        element, reason = element
        if element is container or element.getparent() is None or element.getroottree().getroot() is not root:
            continue  # inside something removed already
        if reason != "not_text":
            shown = element.text_content()
            chars = len("".join(shown.split()))  # _visible_chars
            if chars:
                removed.append(Removal(reason, chars, normalise_line(shown)[:_EXCERPT]))
        element.drop_tree()  # keeps the element's tail text in place
    return removed


# Controls whose text a reader sees (the rest of _NEVER_TEXT shows none).
_SHOWN_CONTROLS = frozenset(("button", "select", "textarea", "form"))
_EXCERPT = 60


def normalise_line(text: str) -> str:
    """Runs of ASCII whitespace made one space; edge spaces (U+3000, &nbsp; …) stripped.

    Written with str.replace, not a regex substitution of ``[ \\t\\r\\n\\f\\v]+``: a third
    faster on the lines of real pages, and it runs once per line.
    """
    for space in "\n\t\r\f\v":
        if space in text:
            text = text.replace(space, " ")
    while "  " in text:
        text = text.replace("  ", " ")
    return text.strip(_EDGE_SPACE)


class Block(str):
    """One rendered line of a body container, with what its markup said about it.

    A ``str``, so line rules that only read text pass it through unchanged;
    ``link_chars`` counts the characters of it that were link text, ``heading``
    marks lines rendered from ``h1``–``h6`` or a paragraph that is one bold run.
    """

    link_chars: int = 0
    heading: bool = False

    def __new__(cls, text: str, link_chars: int = 0, heading: bool = False) -> Block:
        block = super().__new__(cls, text)
        if link_chars:
            block.link_chars = link_chars
        if heading:
            block.heading = heading
        return block

    @property
    def link_share(self) -> float:
        return self.link_chars / len(self) if self else 0.0

    def with_text(self, text: str) -> Block:
        return type(self)(text, min(self.link_chars, len(text)), self.heading)


class Heading(Block):
    """A line rendered from a heading; ``split_collection`` cuts a 合集 page at numbered ones."""

    heading = True

    def __new__(cls, text: str, link_chars: int = 0, heading: bool = True) -> Heading:
        return super().__new__(cls, text, link_chars)  # type: ignore[return-value]


_HEADING_TAGS = frozenset("h1 h2 h3 h4 h5 h6".split())


def _is_bold_paragraph(element: html.HtmlElement) -> bool:
    """``<p><strong>…范文(一)</strong></p>``: a sub-heading written as a paragraph (出国留学网)."""
    if element.tag != "p" or len(element) != 1 or (element.text or "").strip(_EDGE_SPACE):
        return False
    child = element[0]
    return child.tag in ("strong", "b") and not (child.tail or "").strip(_EDGE_SPACE)


def block_lines(container: html.HtmlElement) -> list[Block]:
    """Flatten a container to its rendered lines: one per block element or ``<br>``.

    Lines from headings come back as ``Heading``; each line counts its link characters.
    """
    lines: list[Block] = []
    current: list[str] = []  # the text of the line being read; its link characters are in ``linked``
    linked = 0
    heading_depth = 0
    link_depth = 0
    bold_paragraphs: list[bool] = []  # per open <p>: whether it opened a heading (read once, at its start)

    def flush() -> None:
        line = normalise_line("".join(current))
        if line:
            lines.append(Heading(line, linked) if heading_depth else Block(line, linked))
        current.clear()

    # One event per element start and end: the loop is written for speed (flush() only when a
    # line is pending, each property read once), since it runs for every element of the block.
    for event, element in etree.iterwalk(container, events=("start", "end")):
        tag = element.tag
        if event == "start":
            if tag in _BLOCK_TAGS or tag == "br":
                if current:
                    flush()
                    linked = 0
                if tag == "p":
                    bold = _is_bold_paragraph(element)
                    bold_paragraphs.append(bold)
                    heading_depth += bold
                elif tag in _HEADING_TAGS:
                    heading_depth += 1
            elif tag == "a":
                link_depth += 1
            text = element.text
        else:
            if tag in _BLOCK_TAGS:
                if current:
                    flush()
                    linked = 0
                if tag == "p":
                    heading_depth -= bold_paragraphs.pop()
                elif tag in _HEADING_TAGS:
                    heading_depth -= 1
            elif tag == "a":
                link_depth -= 1
            if element is container:
                continue
            text = element.tail
        if text:
            # Indentation before a line's first text (most text nodes of a page) would only be
            # stripped again: a line is begun by text a reader sees.
            if current or text.strip(_ASCII_SPACE):
                current.append(text)
            if link_depth:
                linked += len(text.strip())
    if current:
        flush()
    return lines
