"""html5lib's parse through BeautifulSoup, as an lxml.html tree: the browser's tree (see ``parsing``).

A module of its own so that bs4 and html5lib (a tenth of a second to import) load
only when a page needs them, not in every process that cleans pages.
"""

from __future__ import annotations

import re
import time

from bs4 import BeautifulSoup
from bs4.builder._html5lib import HTML5TreeBuilder, TreeBuilderForHtml5lib
from bs4.element import NavigableString, PreformattedString, Tag
from html5lib.treebuilders.base import ActiveFormattingElements
from lxml import etree, html

from pipelines.parsing import LXML_PARSER


class _OutOfTime(Exception):
    pass


class _FormattingElements(ActiveFormattingElements):
    """html5lib's list of active formatting elements, comparing elements by their attributes.

    The HTML5 algorithm keeps at most three equal formatting elements active (the
    "Noah's Ark" clause).  BeautifulSoup's elements hand html5lib a fresh wrapper of
    their attributes, equal only to itself, so no two elements were ever equal:
    every unclosed ``<font>`` stayed in the list and was compared with each new
    one, quadratic time (3 s for 1,000 of them) and a tree unlike a browser's.
    """

    def nodesEqual(self, node1, node2):
        return node1.nameTuple == node2.nameTuple and node1.element.attrs == node2.element.attrs


class _DeadlineTreeBuilder(TreeBuilderForHtml5lib):
    """BeautifulSoup's html5lib tree builder, stopping the parse once the deadline has passed.

    html5lib calls it for every element and every run of text it inserts, so the
    check comes at least once per token: the cost of one token (a scan of the open
    elements or of the active formatting elements, never more than the page) is
    all a parse can overrun by.
    """

    deadline = 0.0

    def reset(self):
        super().reset()
        self.activeFormattingElements = _FormattingElements()

    def elementClass(self, name, namespace):
        if time.perf_counter() > self.deadline:
            raise _OutOfTime
        return super().elementClass(name, namespace)

    def insertText(self, data, parent=None):
        if time.perf_counter() > self.deadline:
            raise _OutOfTime
        return super().insertText(data, parent)


class _DeadlineHTML5TreeBuilder(HTML5TreeBuilder):
    def __init__(self, deadline: float) -> None:
        # Attribute values as strings (class not split into a list) and no source positions:
        # nothing downstream reads either, and html5lib would count lines for every element.
        super().__init__(multi_valued_attributes=None, store_line_numbers=False)  # type: ignore[arg-type]  # None: documented, untyped
        self.deadline = deadline

    def create_treebuilder(self, namespaceHTMLElements):
        self.underlying_builder = _DeadlineTreeBuilder(namespaceHTMLElements, self.soup,
                                                       store_line_numbers=self.store_line_numbers)
        self.underlying_builder.deadline = self.deadline
        return self.underlying_builder


# Characters lxml refuses in text and attribute values (not allowed in XML 1.0).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CHECK_TIME_EVERY = 512  # nodes converted between two looks at the clock


def browser_tree(text: str, *, max_chars: int = 1_500_000, max_seconds: float = 3.0) -> html.HtmlElement | None:
    """The tree a browser builds from ``text`` (html5lib through BeautifulSoup), as an lxml.html tree.

    None when ``text`` is longer than ``max_chars`` or the work took longer than
    ``max_seconds``.  html5lib reads 200,000 to 500,000 characters a second on
    real pages; the deadline is checked between the tokens it inserts and between
    the nodes converted, so a call returns within about ``max_seconds`` (plus the
    cost of one token, milliseconds) even on input made to be slow.  Comments,
    doctypes and processing instructions are left out; an element lxml cannot hold
    (a tag name such as ``p"x``) is left out with its content kept, an attribute it
    cannot hold is left out, and characters XML forbids are dropped from text.
    """
    if len(text) > max_chars:
        return None
    deadline = time.perf_counter() + max_seconds
    try:
        soup = BeautifulSoup(text or "<html></html>", builder=_DeadlineHTML5TreeBuilder(deadline))
        return _lxml_tree(soup, deadline)
    except _OutOfTime:
        return None


def _lxml_tree(soup: BeautifulSoup, deadline: float) -> html.HtmlElement:
    document = next((child for child in soup.contents if isinstance(child, Tag)), None)
    root = LXML_PARSER.makeelement("html")
    if document is None:
        return root
    _set_attributes(root, document)
    # An explicit stack, not recursion: a page's nesting can run thousands deep.
    stack = [(iter(document.contents), root)]
    converted = 0
    while stack:
        children, parent = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            continue
        converted += 1
        if converted % _CHECK_TIME_EVERY == 0 and time.perf_counter() > deadline:
            raise _OutOfTime
        if isinstance(child, Tag):
            element = _subelement(parent, child)
            # An element lxml cannot hold is left out, its content going to its parent.
            stack.append((iter(child.contents), parent if element is None else element))
        elif isinstance(child, NavigableString) and not isinstance(child, PreformattedString):
            _append_text(parent, str(child))
    return root


def _subelement(parent: html.HtmlElement, tag: Tag) -> html.HtmlElement | None:
    # lxml's HTML parser lower-cases every name; html5lib keeps SVG's camelCase (foreignObject).
    try:
        element = etree.SubElement(parent, tag.name.lower())
    except ValueError:
        return None
    _set_attributes(element, tag)
    return element


def _set_attributes(element: html.HtmlElement, tag: Tag) -> None:
    # Values are strings: the builder keeps class and rel whole (multi_valued_attributes=None).
    for name, value in tag.attrs.items():
        value = str(value)
        try:
            element.set(name, value)
        except ValueError:
            try:
                element.set(name, _NOT_XML.sub("", value))
            except ValueError:
                pass  # a name with a control character in it: no text is lost


def _append_text(parent: html.HtmlElement, text: str) -> None:
    try:
        last = parent[-1]  # from the end of lxml's child list, not a count of it
    except IndexError:
        last = None
    try:
        _add_text(parent, last, text)
    except ValueError:
        _add_text(parent, last, _NOT_XML.sub("", text))


def _add_text(parent: html.HtmlElement, last: html.HtmlElement | None, text: str) -> None:
    if last is None:
        parent.text = (parent.text or "") + text
    else:
        last.tail = (last.tail or "") + text
