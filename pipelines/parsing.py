"""The parse step: lxml's tree, and the tree a browser builds when lxml's may differ from it.

lxml (libxml2) is fast and builds the same tree as a browser on nearly every
page.  Where it does not, text goes missing without an error: libxml2 stops
nesting at a depth limit and drops everything below it (an old page that never
closes its ``<font>`` tags nests one level per line), and it drops whatever
follows the first ``</html>`` (old CMS templates close the page, then print the
rest of the article), while a browser keeps both.  ``parse_html`` says when
that may have happened; ``browser_tree`` is html5lib's parse (the HTML5
algorithm, as browsers run it), through BeautifulSoup, as an lxml tree of the
same element classes, bounded in size and time because html5lib is pure Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree, html

# huge_tree lifts libxml2's depth limit from 256 to 2,048 levels and its text-node size
# limit (10 MB); the pages cut at 256 are ordinary ones with unclosed <font> tags.
# collect_ids=False: libxml2 would hash every id attribute for XPath's id(), which nothing
# here calls (CSS "#x" selectors become @id comparisons).
LXML_PARSER = html.HTMLParser(remove_comments=True, remove_pis=True, recover=True, encoding="utf-8", huge_tree=True,
                              collect_ids=False)
# lxml.html picks a class per element by a lookup written in Python (form fields get their
# own classes); nothing downstream uses those, so every element is a plain HtmlElement,
# chosen in C.
LXML_PARSER.set_element_class_lookup(etree.ElementDefaultClassLookup(
    element=html.HtmlElement, comment=html.HtmlComment, pi=html.HtmlProcessingInstruction, entity=html.HtmlEntity,
))

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")
# libxml2 ends the tree at the first </html> end tag (the name is case-insensitive).
_HTML_END_TAG = re.compile(rb"</html[\s/>]", re.I)
_INVISIBLE = ("script", "style", "noscript", "template")

# Why lxml's tree may not be the one a browser builds (ParsedHtml.suspect).
DEPTH_LIMIT = "depth_limit"  # libxml2 stopped at its nesting limit; the rest of the page is missing
CONTENT_AFTER_HTML_END = "content_after_html_end"  # text after a premature </html> is missing


@dataclass(frozen=True)
class ParsedHtml:
    root: html.HtmlElement
    suspect: str | None  # DEPTH_LIMIT or CONTENT_AFTER_HTML_END; None when lxml's tree can be trusted


def parse_html(text: str) -> ParsedHtml:
    """Parse decoded HTML with lxml, tolerant of anything a broken site sends."""
    # An XML declaration is not HTML; libxml2 would read its encoding.
    if text.lstrip().startswith("<?xml"):
        text = _XML_DECLARATION.sub("", text, count=1)
    if not text.strip():
        text = "<html></html>"
    # Handed over as UTF-8 with the encoding fixed: libxml2 reads bytes faster than a
    # str, and never re-decodes by a <meta charset> (the text is decoded already).
    # surrogatepass: a lone surrogate (only an odd decoder leaves one) becomes
    # replacement characters instead of ending its text node.
    data = text.encode("utf-8", "surrogatepass")
    try:
        root = html.document_fromstring(data, parser=LXML_PARSER)
    except (etree.ParserError, ValueError):
        # Nothing parsable was left ("<!--", a bare "<?xml"): an empty document, not an error.
        return ParsedHtml(html.document_fromstring(b"<html></html>", parser=LXML_PARSER), None)
    return ParsedHtml(root, _suspect(data, root))


def _suspect(data: bytes, root: html.HtmlElement) -> str | None:
    # Read right after the parse: the log belongs to the parser's last run.  A fatal error
    # is logged even after the hundred ordinary ones (mismatched end tags) libxml2 keeps.
    for error in LXML_PARSER.error_log.filter_from_fatals():
        if "Excessive depth" in error.message:
            return DEPTH_LIMIT
    # libxml2 logs nothing when it drops what follows </html>, so the source is looked at
    # (one search of the bytes: a tenth of the parse's own time).
    end_tag = _HTML_END_TAG.search(data)
    if end_tag is None:
        return None
    after = data[data.find(b">", end_tag.start()) + 1:]
    if not after.strip() or _went_on_after(root, data.count(b"\n", 0, end_tag.start()) + 1):
        return None
    return CONTENT_AFTER_HTML_END if _text_missing_from(root, after) else None


def _went_on_after(root: html.HtmlElement, line: int) -> bool:
    """True when the tree's last element comes from a line below ``line``: libxml2 read on.

    It does where the end tag is in a script string ("document.write('</body></html>')",
    a print-page function) or inside an open element; neither needs the text compared.
    """
    last = root
    while True:
        try:
            last = last[-1]  # from the end of lxml's child list, not a count of it
        except IndexError:
            break
    return (last.sourceline or 0) > line


_SAMPLED_PIECES = 5


def _text_missing_from(root: html.HtmlElement, markup: bytes) -> bool:
    """True when ``markup`` shows text that ``root`` does not hold.

    Trailing scripts and comments after </html> are common and show nothing; a
    "</html>" inside a script string is not an end tag, and lxml kept what follows.
    The longest pieces of text are looked up, a few of them: a page footer may
    repeat before and after the end tag, an article's paragraphs do not.
    """
    try:
        fragment = html.document_fromstring(markup, parser=LXML_PARSER)
    except (etree.ParserError, ValueError):
        return False
    for element in list(fragment.iter(*_INVISIBLE)):
        element.drop_tree()
    pieces = sorted((piece.strip() for piece in fragment.itertext()), key=len, reverse=True)[:_SAMPLED_PIECES]
    if not pieces or not pieces[0]:
        return False
    kept = "".join(root.itertext())
    return any(piece and piece not in kept for piece in pieces)


def browser_tree(text: str, *, max_chars: int = 1_500_000, max_seconds: float = 3.0) -> html.HtmlElement | None:
    """The tree a browser builds from ``text``, as an lxml.html tree; None past the size or time bound.

    See ``browser_parse.browser_tree``; imported here on first use.
    """
    from pipelines.browser_parse import browser_tree as parse

    return parse(text, max_chars=max_chars, max_seconds=max_seconds)
