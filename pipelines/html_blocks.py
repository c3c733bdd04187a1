"""DOM passes: locate the body container, prune what is not text, flatten it to lines.

Works on an lxml tree.  Only the selected container is cleaned and walked, so
the cost of a page is the cost of its text, not of its chrome.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml import etree, html

from .hidden_text import hidden_elements
from .rules import ExtractionRules, compiled_selector

# Elements that never carry article text.
_NEVER_TEXT = ("script", "style", "noscript", "iframe", "template", "form", "button",
               "select", "textarea", "svg", "object", "embed", "canvas", "input")

# Elements that start a new line when rendered.
_BLOCK_TAGS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li ul ol dl dt dd table tbody thead tr td th section article "
    "blockquote pre center header footer aside nav main figure figcaption hr address".split()
)

# Ad slots named the way CMS templates name them (ad-slot, ads_box, guanggao, gg_center).
_AD_SLOT_NAME = re.compile(r"(?:^|[\s_-])(?:ad|ads|advert|adsense|guanggao|gg)(?:$|[\s_\d-])", re.I)
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
# Leading indentation on these sites is two U+3000 or &nbsp; runs; it is layout, not text.
_EDGE_SPACE = " \t\r\n\f\v\u3000\xa0\u2002\u2003\u200b\ufeff"


def parse_document(text: str) -> html.HtmlElement:
    """Parse decoded HTML; tolerant of anything a broken site sends."""
    # An XML declaration is not HTML; libxml2 would read its encoding.
    if text.lstrip().startswith("<?xml"):
        text = re.sub(r"^\s*<\?xml[^>]*>", "", text, count=1)
    if not text.strip():
        text = "<html></html>"
    # Handed over as UTF-8 with the encoding fixed: libxml2 reads bytes faster than a
    # str, and never re-decodes by a <meta charset> (the text is decoded already).
    # surrogatepass: a lone surrogate (only an odd decoder leaves one) becomes
    # replacement characters instead of ending its text node.
    try:
        return html.document_fromstring(text.encode("utf-8", "surrogatepass"), parser=_PARSER)
    except (etree.ParserError, ValueError):
        # Nothing parsable was left ("<!--", a bare "<?xml"): an empty document, not an error.
        return html.document_fromstring(b"<html></html>", parser=_PARSER)


_PARSER = html.HTMLParser(remove_comments=True, remove_pis=True, recover=True, encoding="utf-8")
# lxml.html picks a class per element by a lookup written in Python (form fields get
# their own classes), called for every element the cleaning touches; nothing here uses
# those classes, so every element is a plain HtmlElement, chosen in C.
_PARSER.set_element_class_lookup(etree.ElementDefaultClassLookup(
    element=html.HtmlElement, comment=html.HtmlComment, pi=html.HtmlProcessingInstruction, entity=html.HtmlEntity,
))


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


def guess_body_container(root: html.HtmlElement) -> html.HtmlElement:
    """The element whose direct paragraphs hold the most CJK text (generic mode)."""
    scores: dict[html.HtmlElement, int] = {}
    for paragraph in root.iter("p", "br"):
        parent = paragraph.getparent()
        if parent is None:
            continue
        text = paragraph.text_content() if paragraph.tag == "p" else (paragraph.tail or "")
        # Non-ASCII characters stand in for CJK ones: counted in C, and the same on these pages.
        weight = len(text) - len(text.encode("ascii", "ignore"))
        if weight:
            scores[parent] = scores.get(parent, 0) + weight
    if not scores:
        body = root.find("body")
        return body if body is not None else root
    return max(scores, key=scores.__getitem__)


def locate_body(root: html.HtmlElement, rules: ExtractionRules) -> html.HtmlElement:
    container = first_match(root, rules.body)
    return container if container is not None else guess_body_container(root)


# Blocks that can hold a list of links (related boxes, "优秀文章" boxes, pagers).
_LINK_LIST_TAGS = ("div", "ul", "ol", "dl", "table", "section", "aside", "nav")
_LINK_DENSITY = 0.5


def is_link_list(element: html.HtmlElement) -> bool:
    """A block whose visible text is mostly link text: a link list, not prose.

    Keyword links inside a sentence (学习啦, 瑞文; sites.md 1.4) are a small
    share of their paragraph and are kept (unwrapped) by flattening.
    """
    text = element.text_content()
    chars = len(_SPACES.sub("", text))
    if chars == 0:
        return False
    linked = sum(len(_SPACES.sub("", anchor.text_content())) for anchor in element.iter("a"))
    return linked / chars > _LINK_DENSITY


def prune(container: html.HtmlElement, rules: ExtractionRules, hidden_classes: frozenset[str] = frozenset()) -> None:
    """Remove non-text elements, hidden elements, the site's boilerplate and pager links, in place."""
    doomed: list[html.HtmlElement] = []
    for element in container.iter(*_NEVER_TEXT):
        doomed.append(element)
    doomed.extend(hidden_elements(container, hidden_classes))
    for element in container.iter(*_LINK_LIST_TAGS):
        if element is container:
            continue
        if element.tag in ("div", "section", "aside", "ins") and _AD_SLOT_NAME.search(
            f"{element.get('class', '')} {element.get('id', '')}"
        ):
            doomed.append(element)
        elif is_link_list(element):
            doomed.append(element)
    for css in (*rules.drop, *rules.next_page):
        doomed.extend(compiled_selector(css)(container))
    for element in doomed:
        if element is container or element.getparent() is None:
            continue
        element.drop_tree()  # keeps the element's tail text in place


def normalise_line(text: str) -> str:
    return _SPACES.sub(" ", text).strip(_EDGE_SPACE)


class Heading(str):
    """A line rendered from a heading (``h1``–``h6``, or a paragraph that is one bold run).

    Line rules pass lines through unchanged, so the mark survives them and
    ``split_collection`` can cut a 合集 page at its numbered headings.
    """

    __slots__ = ()


_HEADING_TAGS = frozenset("h1 h2 h3 h4 h5 h6".split())


def _is_bold_paragraph(element: html.HtmlElement) -> bool:
    """``<p><strong>…范文(一)</strong></p>``: a sub-heading written as a paragraph (出国留学网)."""
    if element.tag != "p" or len(element) != 1 or (element.text or "").strip(_EDGE_SPACE):
        return False
    child = element[0]
    return child.tag in ("strong", "b") and not (child.tail or "").strip(_EDGE_SPACE)


def block_lines(container: html.HtmlElement) -> list[str]:
    """Flatten a container to its rendered lines: one per block element or ``<br>``.

    Lines from headings come back as ``Heading`` (a ``str``).
    """
    lines: list[str] = []
    current: list[str] = []
    heading_depth = 0

    def flush() -> None:
        if current:
            line = normalise_line("".join(current))
            if line:
                lines.append(Heading(line) if heading_depth else line)
            current.clear()

    for event, element in etree.iterwalk(container, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if tag in _BLOCK_TAGS or tag == "br":
                flush()
            if tag in _HEADING_TAGS or (tag == "p" and _is_bold_paragraph(element)):
                heading_depth += 1
            if element.text:
                current.append(element.text)
        else:
            if tag in _BLOCK_TAGS:
                flush()
            if tag in _HEADING_TAGS or (tag == "p" and _is_bold_paragraph(element)):
                heading_depth -= 1
            if element is not container and element.tail:
                current.append(element.tail)
    flush()
    return lines
