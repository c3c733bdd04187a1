"""Hidden anti-copy text: elements a browser never shows, removed before flattening.

DedeCMS ``RndString`` puts random junk before ``</p>`` inside an element whose
class the page's own ``<style>`` hides, or inside a white ``<font>``; the Discuz
"jammer" puts random ASCII in ``font.jammer`` or ``display:none`` spans
(sites.md 2.3; fixtures ``gold/diyifanwen_*`` and ``gold/discuz_*``).  A tag
stripper that ignores CSS keeps all of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from lxml import html

_HIDING_DECLARATION = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:px)?\s*(?:;|$)", re.I)
# One CSS rule: selector list, then its declarations.
_CSS_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_CLASS_SELECTOR = re.compile(r"^\s*[a-z0-9]*\.([\w-]+)\s*$", re.I)
# Text drawn in the page's background colour (the pages are white).
_INVISIBLE_COLOUR = re.compile(r"^\s*(?:#f{3}(?:f{3})?|white|transparent|rgba?\(\s*255\s*,\s*255\s*,\s*255\s*(?:,\s*[\d.]+\s*)?\))\s*$", re.I)
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
    """Cached: a site sends the same stylesheet with every page (RndString's class changes, but rarely)."""
    names: set[str] = set()
    for selectors, declarations in _CSS_RULE.findall(css):
        if not _HIDING_DECLARATION.search(declarations):
            continue
        for selector in selectors.split(","):
            match = _CLASS_SELECTOR.match(selector)
            if match:
                names.add(match.group(1))
    return frozenset(names)


def is_hidden(element: html.HtmlElement, classes: frozenset[str]) -> bool:
    """True for an element a reader of the page never sees."""
    if element.get("hidden") is not None:
        return True
    style = element.get("style")
    if style:
        if _HIDING_DECLARATION.search(style):
            return True
        colour = _COLOUR_DECLARATION.search(style)
        if colour and _INVISIBLE_COLOUR.match(colour.group(1)):
            return True
    if element.tag == "font":
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


def hidden_elements(container: html.HtmlElement, classes: frozenset[str]) -> Iterator[html.HtmlElement]:
    for element in container.iter():
        if isinstance(element.tag, str) and element is not container and is_hidden(element, classes):
            yield element
