"""Per-site extraction rules: the part of a site profile the cleaning core reads.

Rules are data (they come from a profile's ``[extract]`` table) and are
validated when loaded, so a typo in a selector fails with the field's name
instead of mid-crawl.
"""

from __future__ import annotations

from functools import lru_cache

from cssselect import HTMLTranslator, SelectorError
from lxml import etree
from pydantic import BaseModel, ConfigDict, field_validator


@lru_cache(maxsize=512)
def compiled_selector(css: str) -> etree.XPath:
    """Compile a CSS selector once per process; rules are reused for every page.

    Translated by cssselect to plain XPath 1.0, not by lxml.cssselect: that one
    writes ``:contains()`` with an lxml extension function, and an XPath object
    with an extension function, reused across documents, read garbage for the
    function's name and raised UnicodeDecodeError on some pages.  Plain
    ``contains()`` is case-sensitive, which Chinese text does not notice.
    """
    return etree.XPath(HTMLTranslator().css_to_xpath(css))


def _check_selectors(value: list[str]) -> list[str]:
    for css in value:
        try:
            compiled_selector(css)
        except SelectorError as error:
            raise ValueError(f"invalid CSS selector {css!r}: {error}") from None
    return value


class ExtractionRules(BaseModel):
    """How to find a text on one site's article pages. Empty lists mean: use the generic passes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    site_name: str | None = None
    """The site's own name, e.g. 华博范文网: anchors the header, date/site line and watermark rules."""
    title: list[str] = ["h1"]
    """CSS selectors tried in order for the title; falls back to ``<title>`` without the site suffix."""
    body: list[str] = []
    """CSS selectors of the body container, tried in order; empty or no match → generic detection."""
    date: list[str] = []
    """CSS selectors whose text holds the publication date; the body's date line is used otherwise."""
    drop: list[str] = []
    """CSS selectors of boilerplate inside the body container (ad slots, related boxes)."""
    next_page: list[str] = []
    """CSS selectors of links to the article's continuation pages."""
    encoding: str | None = None
    """Force this encoding when the site's declarations are known to lie."""
    template_lines: list[str] = []
    """Lines the site's template repeats at the head or tail of its texts (``fanwen profile learn-template``
    prints them from an archive); removed where they stand at a text's edges, never inside it."""

    _validate_selectors = field_validator("title", "body", "date", "drop", "next_page")(_check_selectors)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        import codecs

        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown encoding {value!r}") from None
        return value


GENERIC_RULES = ExtractionRules()
