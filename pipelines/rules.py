"""Per-site extraction rules: the part of a site profile the cleaning core reads.

Rules are data (they come from a profile's ``[extract]`` table) and are
validated when loaded, so a typo in a selector fails with the field's name
instead of mid-crawl.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

from lxml import etree

# A selector that is one lower-case tag name (the generic rules' ``h1``) is written as
# the XPath cssselect would write for it, so that a process cleaning pages without a
# profile never imports cssselect (a tenth of the cleaning core's import time; ``fanwen
# extract`` is timed as a whole process).
_TAG_NAME = re.compile(r"[a-z][a-z0-9]*\Z")


@lru_cache(maxsize=512)
def compiled_selector(css: str) -> etree.XPath:
    """Compile a CSS selector once per process; rules are reused for every page.

    Translated by cssselect to plain XPath 1.0, not by lxml.cssselect: that one
    writes ``:contains()`` with an lxml extension function, and an XPath object
    with an extension function, reused across documents, read garbage for the
    function's name and raised UnicodeDecodeError on some pages.  Plain
    ``contains()`` is case-sensitive, which Chinese text does not notice.
    """
    if _TAG_NAME.match(css):
        return etree.XPath(f"descendant-or-self::{css}")
    from cssselect import HTMLTranslator

    return etree.XPath(HTMLTranslator().css_to_xpath(css))


def check_selectors(value: list[str] | tuple[str, ...]) -> list[str] | tuple[str, ...]:
    for css in value:
        if _TAG_NAME.match(css):
            continue  # a tag name is always a valid selector
        from cssselect import SelectorError

        try:
            compiled_selector(css)
        except SelectorError as error:
            raise ValueError(f"invalid CSS selector {css!r}: {error}") from None
    return value


class RulesError(ValueError):
    """An ``[extract]`` table that cannot be used; ``field`` names the key at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


_SELECTOR_FIELDS = ("title", "body", "date", "drop", "next_page")
_LIST_FIELDS = (*_SELECTOR_FIELDS, "template_lines")
_TEXT_FIELDS = ("site_name", "encoding")


# A plain frozen dataclass, not a pydantic model: the cleaning core is imported by every process
# that cleans a page (``fanwen extract`` is timed as a whole process), and pydantic's import and
# model building were a third of its start-up.  Profiles (pydantic) validate it through from_mapping.
@dataclass(frozen=True)
class ExtractionRules:
    """How to find a text on one site's article pages. Empty lists mean: use the generic passes."""

    site_name: str | None = None
    """The site's own name, e.g. 华博范文网: anchors the header, date/site line and watermark rules."""
    title: tuple[str, ...] = ("h1",)
    """CSS selectors tried in order for the title; falls back to ``<title>`` without the site suffix."""
    body: tuple[str, ...] = ()
    """CSS selectors of the body container, tried in order; empty or no match → generic detection."""
    date: tuple[str, ...] = ()
    """CSS selectors whose text holds the publication date; the body's date line is used otherwise."""
    drop: tuple[str, ...] = ()
    """CSS selectors of boilerplate inside the body container (ad slots, related boxes)."""
    next_page: tuple[str, ...] = ()
    """CSS selectors of links to the article's continuation pages."""
    encoding: str | None = None
    """Force this encoding when the site's declarations are known to lie."""
    template_lines: tuple[str, ...] = ()
    """Lines the site's template repeats at the head or tail of its texts (``fanwen profile learn-template``
    prints them from an archive); removed where they stand at a text's edges, never inside it."""

    def __post_init__(self) -> None:
        for name in _TEXT_FIELDS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise RulesError(name, f"must be a string, not {type(value).__name__}")
        for name in _LIST_FIELDS:
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(item, str) for item in value):
                raise RulesError(name, "must be a list of strings")
            object.__setattr__(self, name, tuple(value))
        for name in _SELECTOR_FIELDS:
            try:
                check_selectors(getattr(self, name))
            except ValueError as error:
                raise RulesError(name, str(error)) from None
        if self.encoding is not None:
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise RulesError("encoding", f"unknown encoding {self.encoding!r}") from None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ExtractionRules:
        """Rules from a profile's ``[extract]`` table; an unknown key is an error, as a typo would be."""
        known = {field.name for field in fields(cls)}
        for key in data:
            if key not in known:
                raise RulesError(key, "unknown key (extra inputs are not permitted)")
        return cls(**data)

    @property
    def template_line_set(self) -> frozenset[str]:
        return _line_set(self.template_lines)


@lru_cache(maxsize=64)
def _line_set(lines: tuple[str, ...]) -> frozenset[str]:
    return frozenset(lines)


GENERIC_RULES = ExtractionRules()
