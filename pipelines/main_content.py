"""Which element of a page holds its main text: one locator for generic extraction and ``profile suggest``.

Scored as readability scores (text mass of the paragraphs credited to their
parent and grandparent, weighed down by link text and by class/id names that
mean navigation, comments or footers), with two changes for Chinese pages:
mass is counted in characters, not commas alone, because Chinese paragraphs
carry few of them; and siblings of the best element that score alike (the
blocks of a 文库 preview, a speech split over several ``<div>``) are kept
together by taking their parent and excluding the rest of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from lxml import etree, html

# Where a text run is owned by an inline element, its paragraph is the nearest of these above it.
_PARAGRAPH_TAGS = frozenset(
    "p div td th li dd dt section article pre blockquote center main body form table tbody tr ul ol dl".split()
)
# "/descendant::body/descendant::text()" selects what "//body//text()" does, without libxml2
# first gathering every node of the page for each "//" step.
_BODY_TEXT = etree.XPath(
    "/descendant::body/descendant::text()[normalize-space()][not(parent::a or parent::script or parent::style)]"
)
_LINK_TEXT = etree.XPath(".//a//text()", smart_strings=False)  # plain strings: no parent references to build
_LINK_COUNT = etree.XPath("count(.//a)")
_COUNTED_LINKS = 500
_FIRST_LINKS_TEXT = etree.XPath(f"((.//a)[position() <= {_COUNTED_LINKS}])//text()", smart_strings=False)
# Text right inside a link is excluded by the XPath; text in markup inside a link is not.
_NOT_READ = frozenset(("a", "script", "style", "noscript", "template"))
_LINK_LEVELS = 3  # <a><span><b>text</b></span></a>: deeper markup inside a link is rare
_MIN_RUN = 10  # shorter runs (menu labels, captions, bylines) carry no weight, as in readability
_SENTENCE_MARKS = "，。；！？、,;"
# Class and id words of boilerplate containers, and of article containers (readability's lists, plus
# the pinyin abbreviations Chinese CMS templates use: zw 正文, nr 内容, wz 文章, con/cont content).
_NEGATIVE_WORDS = (
    r"comment|reply|replies|discuss|pinglun|footer|foot|copyright|banquan|sidebar|side|aside|widget|nav|menu|"
    r"breadcrumb|crumb|position|weizhi|related|relate|recommend|tuijian|xiangguan|hot|rank|share|social|"
    r"banner|advert|guanggao|sponsor|promo|tags?$|tagcloud|toolbar|login|header|topbar|friendlink|links?$|"
    r"\bsig\b|signature|qianming"
)
_POSITIVE_WORDS = (
    r"article|content|entry|post|text|body|main|detail|story|con\b|cont|zw|zhengwen|neirong|nr\b|wz\b|"
    r"news_?txt|newstext|blog|thread|message|read"
)
_NEGATIVE_NAME = re.compile(_NEGATIVE_WORDS, re.I)
_POSITIVE_NAME = re.compile(_POSITIVE_WORDS, re.I)
# The same words searched in lower-cased ASCII names: a case-insensitive search of these
# alternations cost six times as much, and every ancestor of every paragraph is asked.
# (Non-ASCII names keep re.I, which also folds a few non-ASCII letters to ASCII ones.)
_NEGATIVE_LOWER = re.compile(_NEGATIVE_WORDS)
_POSITIVE_LOWER = re.compile(_POSITIVE_WORDS)
_NAME_WEIGHT = 0.5
_SIBLING_SHARE = 0.5  # a sibling holding at least half as much prose is more of the same text
_MIN_SIBLING_MASS = 100
_MIN_CLASS_SIBLING_MASS = 30
_LINK_DENSITY_CANDIDATES = 8


@dataclass
class MainBlock:
    """The element that holds the main text, and the parts of it that are not (other siblings)."""

    element: html.HtmlElement
    excluded: list[html.HtmlElement] = field(default_factory=list)
    score: float = 0.0


def _mass(text: str) -> int:
    """CJK characters count one each, ASCII ones (spaces too: two C calls, not a split) a third."""
    ascii_chars = len(text.encode("ascii", "ignore"))
    return len(text) - ascii_chars + ascii_chars // 3


def name_weight(element: html.HtmlElement) -> float:
    """How far an element's class and id speak for (> 1) or against (< 1) it holding the text."""
    names = f"{element.get('class', '')} {element.get('id', '')}".strip()
    return _names_weight(names) if names else 1.0


@lru_cache(maxsize=4096)
def _names_weight(names: str) -> float:
    # Cached: a page repeats its class names (every row of a list, every cell of a table), a
    # site its templates, and every ancestor of every paragraph is asked.
    if names.isascii():
        names = names.lower()
        negative = bool(_NEGATIVE_LOWER.search(names))
        positive = bool(_POSITIVE_LOWER.search(names))
    else:
        negative = bool(_NEGATIVE_NAME.search(names))
        positive = bool(_POSITIVE_NAME.search(names))
    if negative and not positive:
        return _NAME_WEIGHT
    if positive and not negative:
        return 1.0 + _NAME_WEIGHT
    return 1.0


def linked_chars(element: html.HtmlElement) -> int:
    """Visible characters of the element's link text (whitespace left out).

    A link farm holds thousands of links in one element, and reading each one's text cost
    most of a second on such a page; past _COUNTED_LINKS the first ones stand for the rest.
    """
    links = int(_LINK_COUNT(element))
    if links <= _COUNTED_LINKS:
        return len("".join("".join(_LINK_TEXT(element)).split()))
    sampled = len("".join("".join(_FIRST_LINKS_TEXT(element)).split()))
    return sampled * links // _COUNTED_LINKS


def link_density(element: html.HtmlElement) -> float:
    return _text_and_links(element)[1]


def _text_and_links(element: html.HtmlElement) -> tuple[int, float]:
    """(text mass, link density) of an element, its text read once."""
    text = _mass(element.text_content())
    if not text:
        return 0, 0.0
    # Link characters counted as ASCII or CJK alike: the share is what matters here.
    return text, min(1.0, linked_chars(element) / text)


class _Measures(dict):
    """``_text_and_links`` per element, for one page: the ranking and the sibling test ask of the same elements."""

    def __missing__(self, element: html.HtmlElement) -> tuple[int, float]:
        measured = self[element] = _text_and_links(element)
        return measured

    def link_density(self, element: html.HtmlElement) -> float:
        return self[element][1]

    def prose_mass(self, element: html.HtmlElement) -> float:
        text, density = self[element]
        return text * (1.0 - density)


def _unlikely(element: html.HtmlElement, verdicts: dict) -> bool:
    """Inside a container named as comments, a sidebar, a footer …: text there is not the article's.

    Memoised per element: paragraphs share their ancestors.
    """
    chain = []
    verdict = False
    while element is not None and element.tag not in ("body", "html"):
        if element in verdicts:
            verdict = verdicts[element]
            break
        chain.append(element)
        if name_weight(element) < 1.0:
            verdict = True
            break
        element = element.getparent()
    for seen in chain:
        verdicts[seen] = verdict
    return verdict


def paragraph_scores(root: html.HtmlElement) -> dict[html.HtmlElement, float]:
    """Text mass of each paragraph, links excluded; runs too short to be prose are left out.

    Paragraphs inside containers whose names mark them as boilerplate are left out
    too, unless that would leave nothing.
    """
    scores = _paragraph_scores(root)
    verdicts: dict[html.HtmlElement, bool] = {}
    likely = {paragraph: score for paragraph, score in scores.items() if not _unlikely(paragraph, verdicts)}
    return likely or scores


def _paragraph_of(owner: html.HtmlElement) -> html.HtmlElement | None:
    """The nearest block holding text owned by ``owner``; None for text in a link or in code.

    One walk up serves both questions: link or code up to _LINK_LEVELS of markup above the
    text, and the paragraph, wherever it is.
    """
    element, level, paragraph = owner, 0, None
    while element is not None:
        tag = element.tag
        if level < _LINK_LEVELS and tag in _NOT_READ:
            return None
        if paragraph is None and tag in _PARAGRAPH_TAGS:
            paragraph = element
        level += 1
        if paragraph is not None and level >= _LINK_LEVELS:
            break
        element = element.getparent()
    return paragraph


def _paragraph_scores(root: html.HtmlElement) -> dict[html.HtmlElement, float]:
    runs: dict[html.HtmlElement, int] = {}
    texts: dict[html.HtmlElement, list[str]] = {}
    paragraphs: dict[html.HtmlElement, html.HtmlElement | None] = {}  # per owner: text nodes share them
    # Written out in one loop, without helper calls but one per owner: it runs once per text node of the page.
    for chunk in _BODY_TEXT(root):
        ascii_chars = len(chunk.encode("ascii", "ignore"))
        mass = len(chunk) - ascii_chars + ascii_chars // 3  # _mass
        if mass < 2:
            continue
        owner = chunk.getparent()
        if owner is None:
            continue
        if chunk.is_tail:
            owner = owner.getparent()
            if owner is None:
                continue
        if owner in paragraphs:
            paragraph = paragraphs[owner]
        else:
            paragraph = paragraphs[owner] = _paragraph_of(owner) if isinstance(owner.tag, str) else None
        if paragraph is None:
            continue
        if paragraph in runs:
            runs[paragraph] += mass
            texts[paragraph].append(chunk)
        else:
            runs[paragraph] = mass
            texts[paragraph] = [chunk]
    # Sentence marks counted once per paragraph, not per text node, with str.count (a regex
    # findall built a list of every mark).
    scores: dict[html.HtmlElement, float] = {}
    for paragraph, mass in runs.items():
        text = "".join(texts[paragraph])
        scores[paragraph] = mass + 3 * sum(map(text.count, _SENTENCE_MARKS))
    # A page of nothing but short lines still has a text: then every run counts.
    return {paragraph: score for paragraph, score in scores.items() if runs[paragraph] >= _MIN_RUN} or scores


def locate_main_block(root: html.HtmlElement) -> MainBlock | None:
    """The element holding the page's main text; None when the page has no paragraph of prose."""
    paragraphs = paragraph_scores(root)
    if not paragraphs:
        return None
    candidates: dict[html.HtmlElement, float] = {}
    for paragraph, score in paragraphs.items():
        # Text written straight into a <div> or <td> between <br>s counts for that element itself.
        if paragraph.tag in ("div", "td", "section", "article", "pre", "blockquote", "center", "dd"):
            candidates[paragraph] = candidates.get(paragraph, 0.0) + score
        parent = paragraph.getparent()
        if parent is None:
            continue
        candidates[parent] = candidates.get(parent, 0.0) + score
        grandparent = parent.getparent()
        if grandparent is not None:
            candidates[grandparent] = candidates.get(grandparent, 0.0) + score / 2
    for element in list(candidates):
        candidates[element] *= name_weight(element)
    ranked = sorted(candidates, key=candidates.__getitem__, reverse=True)[:_LINK_DENSITY_CANDIDATES]
    measures = _Measures()
    best, score = ranked[0], -1.0
    for element in ranked:
        # Link density only lowers a score: a candidate whose whole score cannot beat the
        # best so far need not be measured (measuring reads the element's whole subtree).
        if candidates[element] <= score:
            break
        final = candidates[element] * (1.0 - measures.link_density(element))
        if final > score:
            best, score = element, final
    if best.tag == "html":
        body = best.find("body")
        return MainBlock(body if body is not None else best, score=score)
    return _with_alike_siblings(best, score, measures)


def _outermost_wrapper(element: html.HtmlElement) -> html.HtmlElement:
    """``element``, or the wrapper it alone fills (a one-cell table, a div around one div)."""
    while True:
        parent = element.getparent()
        if parent is None or parent.tag in ("body", "html"):
            return element
        children = [child for child in parent if isinstance(child.tag, str)]
        if len(children) != 1:
            return element
        element = parent


def _with_alike_siblings(best: html.HtmlElement, score: float, measures: _Measures) -> MainBlock:
    block = _outermost_wrapper(best)
    parent = block.getparent()
    if parent is None or block.tag == "body":
        return MainBlock(best, score=score)
    # Siblings of one named class are one template repeated (the pages of a 文库 preview): any
    # prose in them is more of the text.  Unnamed siblings must hold a good share of it.
    threshold = (_MIN_CLASS_SIBLING_MASS if block.get("class")
                 else max(_MIN_SIBLING_MASS, measures.prose_mass(block) * _SIBLING_SHARE))
    alike = [
        sibling for sibling in parent
        if sibling is not block and sibling.tag == block.tag and sibling.get("class", "") == block.get("class", "")
        and name_weight(sibling) >= 1.0 and measures.prose_mass(sibling) >= threshold
    ]
    if not alike:
        return MainBlock(best, score=score)
    keep = {block, *alike}
    excluded = [child for child in parent if isinstance(child.tag, str) and child not in keep]
    return MainBlock(parent, excluded, score)
