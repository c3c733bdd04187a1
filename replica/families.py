"""Page shapes of the real site families that the seed layout does not have.

* 合集 pages (瑞文系, 出国留学网): one URL holding N texts under numbered
  headings, the title stating the count "(通用5篇)"; the numbering may skip a
  number (瑞文 fixture ``gold/ruiwen_collection_gap``) or read 篇一/篇二.
* Continuation pages (出国留学网): a long text split over ``/a/<id>.html``,
  ``/a/<id>_2.html``…, sometimes with a last page whose body is empty.

The shape of an article is drawn from its own seeded generator, so a site
without ``[shapes]`` renders byte-identically to before.  The families are
described in docs/site-families.md, "The 瑞文系 network", "出国留学网" and "学习啦".
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from markupsafe import Markup, escape
from pydantic import BaseModel, ConfigDict, Field

from .corpus import generate_texts

_NUMERALS = "一二三四五六七八九十"

HeadingStyle = Literal["digits", "digits_gap", "pian", "fanwen_paren"]


class PageShapes(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    collection_share: float = Field(default=0.0, ge=0, le=1)
    collection_sizes: list[int] = Field(default=[3, 4, 5], min_length=1)
    collection_word: str = "通用"
    """The word in the title's count, "(通用5篇)" / "(精选3篇)"."""
    collection_suffix: str = ""
    """Between the base title and the count: 出国留学网 writes "…心得体会范文(精选3篇)"."""
    heading_styles: list[HeadingStyle] = Field(default=["digits"], min_length=1)
    """Cycled over the 合集 pages: "…发言稿 1", the same with a skipped number, 篇一, "…范文(一)"."""
    continuation_share: float = Field(default=0.0, ge=0, le=1)
    empty_last_page_share: float = Field(default=0.0, ge=0, le=1)
    """Share of continued articles whose last continuation page has an empty body."""


@dataclass(frozen=True)
class CollectionPart:
    heading: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class ArticleShape:
    title: str | None = None
    parts: tuple[CollectionPart, ...] = ()
    pages: tuple[tuple[str, ...], ...] = ()  # paragraphs per page; a page may be empty


def _headings(style: HeadingStyle, base: str, count: int) -> list[str]:
    numbers = list(range(1, count + 1))
    if style == "digits_gap":
        numbers = [n if n < 3 else n + 1 for n in numbers]  # 1, 2, 4, 5: the site skipped 3
    if style == "pian":
        return ["篇" + _NUMERALS[n - 1] for n in numbers]
    if style == "fanwen_paren":
        return [f"{base}范文({_NUMERALS[n - 1]})" for n in numbers]
    return [f"{base} {n}" for n in numbers]


def shape_article(article, shapes: PageShapes, seed: str) -> ArticleShape | None:
    """The 合集 or continuation shape of ``article`` (a ReplicaArticle), or None for a plain page."""
    rng = random.Random(seed)
    sample = article.sample
    if rng.random() < shapes.collection_share:
        count = rng.choice(shapes.collection_sizes)
        style = shapes.heading_styles[article.id % len(shapes.heading_styles)]
        base = sample.title
        extra = generate_texts(count - 1, seed=rng.randrange(1 << 30), prefix=f"c{article.id}_", genres=[sample.genre])
        headings = _headings(style, base, count)
        bodies = [sample.paragraphs, *(text.paragraphs for text in extra)]
        title = f"{base}{shapes.collection_suffix}({shapes.collection_word}{count}篇)"
        parts = tuple(CollectionPart(h, tuple(b)) for h, b in zip(headings, bodies))
        return ArticleShape(title=title, parts=parts)
    if not article.truncated and rng.random() < shapes.continuation_share and len(article.shown) >= 6:
        shown = article.shown
        page_count = rng.choice((2, 3))
        cuts = sorted(rng.sample(range(2, len(shown) - 1), page_count - 1))
        bounds = [0, *cuts, len(shown)]
        pages = [tuple(shown[a:b]) for a, b in zip(bounds, bounds[1:])]
        if rng.random() < shapes.empty_last_page_share:
            pages.append(())
        return ArticleShape(pages=tuple(pages))
    return None


# -- template filters ---------------------------------------------------------------------------

# 瑞文系 link ordinary words to category pages; the words are content (docs/site-families.md, "Keyword links").
KEYWORD_LINKS = {"制度": "/zhidu/", "工作计划": "/gongzuojihua/", "总结": "/zongjie/", "心得体会": "/xindetihui/"}


def keyword_linked(text: str) -> Markup:
    escaped = str(escape(text))
    for word, href in KEYWORD_LINKS.items():
        if word in escaped:
            return Markup(escaped.replace(word, f'<a href="{href}" target="_blank">{word}</a>', 1))
    return Markup(escaped)


def underlined_link(text: str, href: str = "/fanwen/jingyan/") -> Markup:
    """学习啦's inline keyword link ``<a><u>经验</u></a>`` around two characters mid-sentence."""
    if len(text) <= 12:
        return Markup(escape(text))
    return Markup(f'{escape(text[:4])}<a href="{href}"><u>{escape(text[4:6])}</u></a>{escape(text[6:])}')


def layout_filters() -> dict[str, object]:
    return {"keyword_linked": keyword_linked, "underlined_link": underlined_link}
