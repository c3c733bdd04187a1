"""A profile's CSS selectors in two trees: lxml's (the one the project reads) and a browser's.

People write selectors by pointing at an element in the browser's developer
tools, and the browser shows the tree the HTML5 algorithm builds.  libxml2
repairs broken markup its own way, so a copied selector can match differently
in the project's tree, or not at all:

* implied ``<tbody>``: a browser puts every ``<tr>`` of a table written without
  ``<tbody>`` into one; libxml2 adds none, so ``table > tbody > tr`` matches
  nothing here (and ``table > tr``, written from the source, nothing in a browser);
* foster parenting: a browser moves what stands between a table's rows (a
  ``<div>``, a ``<p>``, bare text) out, before the table; libxml2 leaves it in;
* misnesting: tags closed out of order or a block inside an inline element
  (``<b><p>``, ``<p><div>``), which each parser repairs differently.

``compare_selector`` runs one selector, compiled once, on both trees (the same
XPath, so only the trees differ), compares what the matches hold (their text,
not object identity: the trees share no elements), names the likely cause and
looks for a rewrite that matches the same content in both trees.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from cssselect import SelectorError
from lxml import html

from pipelines.parsing import CONTENT_AFTER_HTML_END, DEPTH_LIMIT, browser_tree, parse_html
from pipelines.rules import compiled_selector

# Why the trees differ (SelectorFinding.cause).
IMPLIED_TBODY = "implied_tbody"
FOSTER_PARENTED = "foster_parented"
MISNESTED = "misnested"

CAUSES = {
    IMPLIED_TBODY: "implied <tbody>: the page's tables have no <tbody>; a browser adds one, lxml does not",
    FOSTER_PARENTED: "content between a table's rows: a browser moves it out before the table, lxml leaves it in",
    MISNESTED: "misnested tags (closed out of order, or a block inside <p>, <b>, <a>…): "
               "lxml and a browser repair them differently",
    DEPTH_LIMIT: "the page nests deeper than lxml's limit: lxml's tree stops there (the extraction reads "
                 "a browser's tree for this page)",
    CONTENT_AFTER_HTML_END: "the page goes on after </html>: lxml's tree stops there (the extraction reads "
                            "a browser's tree for this page)",
}

# What may stand directly inside a table's structure; anything else is moved out by a browser.
_TABLE_STRUCTURE = {"table", "tbody", "thead", "tfoot", "tr"}
_ALLOWED_IN_TABLE = _TABLE_STRUCTURE | {"td", "th", "caption", "colgroup", "col", "script", "style", "template",
                                        "form", "input"}
# A compound selector whose element type is tbody ("tbody", "tbody.x", "tbody:nth-child(1)").
_TBODY_COMPOUND = re.compile(r"tbody(?![\w-])", re.I)
_TYPE = re.compile(r"[A-Za-z][\w-]*")
_MAX_COMPOUNDS_TRIED = 6  # beyond that, only the cheap rewrites are tried (2**4 subsets at most)


@dataclass(frozen=True)
class PageTrees:
    lxml_root: html.HtmlElement
    browser_root: html.HtmlElement | None  # None when the page was over the browser parse's bounds
    suspect: str | None  # parsing.ParsedHtml.suspect


def page_trees(text: str, *, max_chars: int = 1_500_000, max_seconds: float = 3.0) -> PageTrees:
    """Both trees of a decoded page: lxml's as ``parsing.parse_html`` builds it, and html5lib's."""
    parsed = parse_html(text)
    return PageTrees(parsed.root, browser_tree(text, max_chars=max_chars, max_seconds=max_seconds), parsed.suspect)


@dataclass(frozen=True)
class SelectorFinding:
    selector: str
    lxml_texts: tuple[str, ...]  # what each match holds in lxml's tree, whitespace collapsed
    browser_texts: tuple[str, ...]  # the same in a browser's tree
    cause: str | None = None  # a key of CAUSES; None when the trees agree
    fix: str | None = None  # a selector matching in both trees what the intended tree matches, if one was found

    @property
    def agree(self) -> bool:
        return _keys(self.lxml_texts) == _keys(self.browser_texts)

    @property
    def missed_here(self) -> bool:
        """Matches in a browser's tree and nothing in lxml's: the rule does nothing as written."""
        return not self.lxml_texts and bool(self.browser_texts)


def _text(element: html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _keys(texts: tuple[str, ...]) -> tuple[str, ...]:
    # Without any whitespace: libxml2 drops some whitespace-only text (between table cells)
    # that html5lib keeps, and Chinese text has no spaces to lose.
    return tuple("".join(text.split()) for text in texts)


def _matches(css: str, root: html.HtmlElement) -> list[html.HtmlElement]:
    return [element for element in compiled_selector(css)(root) if isinstance(element, html.HtmlElement)]


def agrees(css: str, lxml_root: html.HtmlElement, browser_root: html.HtmlElement) -> bool:
    """True when ``css`` matches the same number of elements, holding the same text, in both trees."""
    return _keys(tuple(map(_text, _matches(css, lxml_root)))) == _keys(tuple(map(_text, _matches(css, browser_root))))


def compare_selector(css: str, lxml_root: html.HtmlElement, browser_root: html.HtmlElement,
                     suspect: str | None = None) -> SelectorFinding:
    """What ``css`` matches in each tree; where they differ, the likely cause and a selector that agrees."""
    here = _matches(css, lxml_root)
    there = _matches(css, browser_root)
    finding = SelectorFinding(css, tuple(map(_text, here)), tuple(map(_text, there)))
    if finding.agree:
        return finding
    cause = _cause(css, here, finding.browser_texts, lxml_root, suspect)
    # The browser's tree is the one the selector was written against when it matches there;
    # a selector written from the page's source (matching only here) meant lxml's.
    intended = _keys(finding.browser_texts or finding.lxml_texts)
    fix = next((candidate for candidate in _rewrites(css) if _matches_intended(candidate, intended, lxml_root,
                                                                                 browser_root)), None)
    return SelectorFinding(css, finding.lxml_texts, finding.browser_texts, cause, fix)


def _matches_intended(css: str, intended: tuple[str, ...], lxml_root: html.HtmlElement,
                      browser_root: html.HtmlElement) -> bool:
    try:
        compiled_selector(css)
    except SelectorError:
        return False  # a rewrite cssselect refuses is just not a fix
    return (_keys(tuple(map(_text, _matches(css, lxml_root)))) == intended
            and _keys(tuple(map(_text, _matches(css, browser_root)))) == intended)


# -- the likely cause ----------------------------------------------------------------------------

def _cause(css: str, here: list[html.HtmlElement], browser_texts: tuple[str, ...], lxml_root: html.HtmlElement,
           suspect: str | None) -> str:
    if _names_table_rows(css) and any(_has_bare_rows(table) for table in lxml_root.iter("table")):
        return IMPLIED_TBODY
    fostered = _fostered(lxml_root)
    if fostered and _touches_fostered(here, browser_texts, fostered):
        return FOSTER_PARENTED
    return suspect or MISNESTED


def _names_table_rows(css: str) -> bool:
    parts = _split(css)
    if parts is None:
        return bool(_TBODY_COMPOUND.search(css))
    compounds, combinators = parts
    if any(_TBODY_COMPOUND.match(compound) for compound in compounds):
        return True
    # "table > tr", written from the page's source: a browser's tr is a child of its tbody.
    return any(combinator == ">" and _type(left) == "table" and _type(right) == "tr"
               for left, combinator, right in zip(compounds, combinators, compounds[1:], strict=False))


def _type(compound: str) -> str | None:
    match = _TYPE.match(compound)
    return match.group().lower() if match else None


def _has_bare_rows(table: html.HtmlElement) -> bool:
    return any(child.tag == "tr" for child in table)


def _fostered(root: html.HtmlElement) -> list[html.HtmlElement]:
    """Elements lxml left between a table's rows, where a browser's tree has none."""
    return [element for element in root.iter()
            if isinstance(element.tag, str) and element.tag not in _ALLOWED_IN_TABLE
            and (parent := element.getparent()) is not None and parent.tag in _TABLE_STRUCTURE]


def _touches_fostered(here: list[html.HtmlElement], browser_texts: tuple[str, ...],
                      fostered: list[html.HtmlElement]) -> bool:
    moved = set(fostered)
    for element in here:
        # The match is moved content, is inside it, or holds it (its text's order differs).
        if any(ancestor in moved for ancestor in element.iterancestors()) or element in moved:
            return True
        if any(descendant in moved for descendant in element.iterdescendants()):
            return True
    moved_keys = [key for key in _keys(tuple(map(_text, fostered))) if key]
    return any(key in moved_key or moved_key in key for key in _keys(browser_texts) if key for moved_key in moved_keys)


# -- rewrites that may match the same in both trees ----------------------------------------------

def _split(css: str) -> tuple[list[str], list[str]] | None:
    """Compound selectors and the combinators between them; None for a selector list ("a, b")."""
    compounds: list[str] = []
    combinators: list[str] = []
    current: list[str] = []
    pending = ""  # the combinator read since the last compound
    depth = 0
    quote = ""
    for char in css.strip():
        if quote:
            current.append(char)
            quote = "" if char == quote else quote
            continue
        if depth == 0 and char == ",":
            return None
        if depth == 0 and (char.isspace() or char in ">+~"):
            if current:
                compounds.append("".join(current))
                current = []
            if not char.isspace():
                pending = char
            elif not pending:
                pending = " "
            continue
        if pending and current == [] and compounds:
            combinators.append(pending)
        pending = ""
        if char in "\"'":
            quote = char
        elif char in "[(":
            depth += 1
        elif char in "])":
            depth = max(depth - 1, 0)
        current.append(char)
    if current:
        compounds.append("".join(current))
    if not compounds or len(combinators) != len(compounds) - 1:
        return None
    return compounds, combinators


def _join(compounds: list[str], combinators: list[str]) -> str:
    out = compounds[0]
    for combinator, compound in zip(combinators, compounds[1:], strict=True):
        out += " " + compound if combinator == " " else f" {combinator} {compound}"
    return out


def _rewrites(css: str) -> Iterator[str]:
    """Candidate fixes, closest to ``css`` first: ``tbody`` dropped, child steps loosened, ancestors dropped."""
    parts = _split(css)
    if parts is None:
        return
    compounds, combinators = parts
    seen = {css}

    def fresh(candidate: str) -> Iterator[str]:
        if candidate not in seen:
            seen.add(candidate)
            yield candidate

    kept = [i for i, compound in enumerate(compounds) if not _TBODY_COMPOUND.match(compound)]
    if not kept or kept[-1] != len(compounds) - 1:
        return  # the selector picks a tbody itself: no rewrite picks the same thing in both trees
    # From a table to its rows as a descendant step, whether or not there is a tbody between:
    # "table > tbody > tr" and "table > tr" both become "table tr".
    yield from fresh(_join([compounds[i] for i in kept], [
        " " if b != a + 1 or (_type(compounds[a]) == "table" and _type(compounds[b]) == "tr") else combinators[a]
        for a, b in itertools.pairwise(kept)
    ]))
    # Every step a descendant step, tbody left out: what moved within an ancestor still matches.
    steps = [compounds[i] for i in kept]
    yield from fresh(" ".join(steps))
    # Fewer ancestors: the ones a browser and lxml place differently are dropped.
    middle = steps[1:-1]
    if len(steps) <= _MAX_COMPOUNDS_TRIED:
        for size in range(len(middle) - 1, -1, -1):
            for chosen in itertools.combinations(middle, size):
                yield from fresh(" ".join([steps[0], *chosen, steps[-1]]))
    if len(steps) > 1:
        yield from fresh(steps[-1])
