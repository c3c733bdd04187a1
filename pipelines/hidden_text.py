"""Hidden anti-copy text: elements a browser never shows, removed before flattening.

DedeCMS ``RndString`` puts random junk before ``</p>`` inside an element whose
class the page's own ``<style>`` hides, or inside a white ``<font>``; the Discuz
"jammer" puts random ASCII in ``font.jammer`` or ``display:none`` spans
(fixtures ``gold/diyifanwen_*`` and ``gold/discuz_*``).  A tag stripper that
ignores CSS keeps all of it (docs/site-families.md, "Hidden text").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from lxml import html

_HIDING_WORDS = r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:px)?\s*(?:;|$)"
_HIDING_DECLARATION = re.compile(_HIDING_WORDS, re.I)
# For ASCII style attributes, lower-cased: a case-insensitive search costs twice as much, and
# every element of the main block with a style attribute is asked.
_HIDING_LOWER = re.compile(_HIDING_WORDS)
# The same declarations found anywhere in a stylesheet, where a rule's last one ends at its "}".
# No alternative can match a brace, so a hit never straddles two rules.  Searched in the
# case-folded stylesheet: a case-insensitive regex costs six times as much on 64 KB of CSS.
_HIDING_IN_STYLESHEET = r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:px)?\s*(?:;|$|(?=\}))"
_HIDING_IN_FOLDED = re.compile(_HIDING_IN_STYLESHEET)
_HIDING_IN_UNFOLDED = re.compile(_HIDING_IN_STYLESHEET, re.I)
_BRACE = re.compile(r"[{}]")
_CLASS_SELECTOR = re.compile(r"^\s*[a-z0-9]*\.([\w-]+)\s*$", re.I)
# Text drawn in the page's background colour (the pages are white).
_INVISIBLE_COLOUR = re.compile(
    r"^\s*(?:#f{3}(?:f{3})?|white|transparent"
    r"|rgba?\(\s*255\s*,\s*255\s*,\s*255\s*(?:,\s*[\d.]+\s*)?\))\s*$",
    re.I,
)
_COLOUR_DECLARATION = re.compile(r"(?:^|;)\s*color\s*:\s*([^;]+)", re.I)


def hidden_classes(root: html.HtmlElement) -> frozenset[str]:
    """Class names that a ``<style>`` element of the page hides (``.x{display:none}``)."""
    names: frozenset[str] = frozenset()
    for style in root.iter("style"):
        if style.text:
            names |= classes_hidden_by(style.text)
    return names


@lru_cache(maxsize=256)
def classes_hidden_by(css: str) -> frozenset[str]:
    """Cached: a site sends the same stylesheet with every page (RndString's class changes, but rarely).

    A rule is ``selectors{declarations}`` with no brace inside either part (the
    rules nested in ``@media`` blocks count, the ``@media`` prelude does not).
    Only the few rules that hide something matter, so the stylesheet is searched
    for hiding declarations and each hit walks out to its rule's braces.  Matching
    every rule with one regex instead is quadratic in a brace-free stretch that
    is not a complete rule (an unclosed last rule, an SVG data URI holding
    braces): seconds for a 20 KB stretch, and real stylesheets run to 100 KB.
    Every scan below covers text up to the next brace after the previous hit's
    brace, so the whole search is linear.
    """
    names: set[str] = set()
    judged_to = 0  # the brace closing the last stretch judged; a hit before it was in that stretch
    for hit in _hiding_hits(css):
        position = hit.start()
        if position < judged_to:
            continue
        after = _BRACE.search(css, position)
        if after is None:
            break  # no brace follows: no rule can close from here on
        opening = _previous_brace(css, judged_to, position)
        judged_to = after.start()
        if after.group() != "}" or opening < 0 or css[opening] != "{":
            continue
        declarations = css[opening + 1:judged_to]
        selectors = css[_previous_brace(css, 0, opening) + 1:opening]
        if not selectors or not _HIDING_DECLARATION.search(declarations):
            continue
        for selector in selectors.split(","):
            match = _CLASS_SELECTOR.match(selector)
            if match:
                names.add(match.group(1))
    return frozenset(names)


def _hiding_hits(css: str) -> Iterator[re.Match[str]]:
    folded = css.casefold()
    # Offsets must stay those of ``css``; and re.I, which rules are judged by, also takes
    # the dotless ı for an i, which case folding keeps apart.
    if len(folded) == len(css) and "\u0131" not in folded:
        return _HIDING_IN_FOLDED.finditer(folded)
    return _HIDING_IN_UNFOLDED.finditer(css)


def _previous_brace(css: str, start: int, end: int) -> int:
    """Offset of the last brace in ``css[start:end]``, or -1."""
    return max(css.rfind("{", start, end), css.rfind("}", start, end))


_BACKGROUND_DECLARATION = re.compile(r"background(?:-color)?\s*:\s*([^;]+)", re.I)


def white_text_hidden(root: html.HtmlElement) -> bool:
    """White text is invisible on a white page only: False when the page's body declares another background.

    Old pages on dark or coloured backgrounds write their text in white (a real 1990s-style
    page in the development set lost its whole sermon to the white-text rule).
    """
    body = root.find("body")
    if body is None:
        return True
    colour = body.get("bgcolor")
    if colour is None:
        declared = _BACKGROUND_DECLARATION.search(body.get("style") or "")
        colour = declared.group(1) if declared else None
    return colour is None or bool(_INVISIBLE_COLOUR.match(colour))


def is_hidden(element: html.HtmlElement, classes: frozenset[str], white_hides: bool = True) -> bool:
    """True for an element a reader of the page never sees (``white_hides``: the page is white)."""
    if element.get("hidden") is not None:
        return True
    style = element.get("style")
    if style:
        if _HIDING_LOWER.search(style.lower()) if style.isascii() else _HIDING_DECLARATION.search(style):
            return True
        colour = _COLOUR_DECLARATION.search(style)
        if white_hides and colour and _INVISIBLE_COLOUR.match(colour.group(1)):
            return True
    if white_hides and element.tag == "font":
        colour = element.get("color")
        if colour and _INVISIBLE_COLOUR.match(colour):
            return True
    class_attr = element.get("class")
    if class_attr:
        names = class_attr.split()
        if "jammer" in names:  # Discuz
            return True
        if classes and not classes.isdisjoint(names):
            return True
    return False
