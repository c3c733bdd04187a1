"""Replica site B (docs/site-families.md, "Replica site B"): a 第一范文网-style DedeCMS site, GBK, with an ``m.`` host.

Everything a DedeCMS site does that the template-only layouts cannot: channel
lists named ``index_N.html`` or ``list_<tid>_<N>.html``, article IDs of eight
digits, multi-page articles (one with an empty page 2, one whose pager loops),
an old ``.htm`` URL answering 301, per-page encoding variants, a mobile host
in UTF-8, and the fault and trap pages of docs/reliability.md (``faults.py``).
"""

from __future__ import annotations

import dataclasses
import functools
import random
import re
from urllib.parse import urlsplit

from . import faults
from .page_weight import PageKind, Weight, render_weighted
from .site import ReplicaArticle, ReplicaResponse, ReplicaSite

_ARTICLE = re.compile(r"^/fanwen/(?P<category>[a-z0-9]+)/(?P<id>\d{8})(?:_(?P<page>\d+))?\.html$")
_OLD_ARTICLE = re.compile(r"^/fanwen/(?P<category>[a-z0-9]+)/(?P<digits>\d{15})\.htm$")
_LIST = re.compile(r"^/fanwen/(?P<category>[a-z0-9]+)/(?:index(?:_(?P<page>\d+))?\.html)?$")
_LIST_TID = re.compile(r"^/fanwen/(?P<category>[a-z0-9]+)/list_(?P<tid>\d+)_(?P<page>\d+)\.html$")

# Names that the GB2312 table lacks and GBK has: 朱镕基, 王堃, 张喆
# (docs/site-families.md, "Encodings and charset quirks").
GBK_ONLY_PARAGRAPH = "本次会议由朱镕同志主持，王堃、张喆同志作了交流发言。"

# What each encoding variant sends: (Content-Type header, <meta> tag, body codec, BOM).
_META_GB2312 = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312" />'
ENCODING_VARIANTS: dict[str, tuple[str, str, str, bytes]] = {
    "meta_only": ("text/html", _META_GB2312, "gb18030", b""),
    "header_and_meta_agree": ("text/html; charset=gbk", _META_GB2312, "gb18030", b""),
    "header_disagrees": ("text/html; charset=utf-8", '<meta http-equiv="Content-Type" content="text/html; charset=gbk" />',
                         "gb18030", b""),
    "malformed_meta": ("text/html", '<meta httpequiv="ContentType" content="text/html; charset=gbk">', "gb18030", b""),
    "gbk_only_characters": ("text/html", _META_GB2312, "gb18030", b""),
    "utf8_bom": ("text/html; charset=gbk", _META_GB2312, "utf-8", b"\xef\xbb\xbf"),
    "undeclared": ("text/html", "", "gb18030", b""),
}


@dataclasses.dataclass(frozen=True)
class ArticleLayout:
    """How one article is cut into pages and decorated (all derived from the corpus seed)."""

    pages: tuple[tuple[str, ...], ...]  # paragraphs per page; a page may be empty
    looping: bool  # the last page's pager links back instead of ending
    hidden_class: str  # the RndString class the in-body <style> hides
    hidden_after: frozenset[int]  # paragraphs closed with a hidden junk span
    ads_after: dict[int, str]  # paragraph index -> ad block id/class
    white_font_after: int  # paragraph closed with <font color='#FFFFFF'> junk
    variant: str


class DedecmsSite(ReplicaSite):
    def __init__(self, definition, weight: Weight = "light") -> None:
        super().__init__(definition, weight)
        self.options = definition.layout_options
        self.hits: dict[str, int] = {}  # fault URL -> requests so far (faults that heal after N tries)

    # -- corpus -----------------------------------------------------------------------------

    def _build_articles(self) -> list[ReplicaArticle]:
        first = int(self.options.get("first_article_id", 30100001))
        variants = {int(k): v for k, v in self.options.get("encoding_variants", {}).items()}
        built = []
        for position, article in enumerate(super()._build_articles()):
            article_id = first + position
            shown = article.shown
            if variants.get(position) == "gbk_only_characters":
                shown = (*shown, GBK_ONLY_PARAGRAPH)
            built.append(dataclasses.replace(
                article, id=article_id, shown=shown, inline_ad_after=None,
                path=f"/fanwen/{article.category.slug}/{article_id}.html",
            ))
        self._layouts: dict[int, ArticleLayout] = {}
        multipage = {int(k): v for k, v in self.options.get("multipage", {}).items()}
        for position, article in enumerate(built):
            self._layouts[article.id] = self._layout(article, multipage.get(position), variants.get(position, "meta_only"))
        old = self.options.get("old_url")
        self.old_url_id = built[int(old)].id if old is not None else None
        return built

    def _layout(self, article: ReplicaArticle, multipage: str | None, variant: str) -> ArticleLayout:
        rng = random.Random(f"{self.definition.corpus_seed}/layout/{article.id}")
        shown = article.shown
        if multipage is None:
            pages: tuple[tuple[str, ...], ...] = (shown,)
        else:
            third = max(1, len(shown) // 3)
            pages = (shown[:third], shown[third:2 * third], shown[2 * third:])
            if multipage == "empty_page_2":
                pages = (shown[:third], (), shown[third:])
        count = len(pages[0])
        slots = rng.sample(range(count - 1), min(3, max(count - 1, 0))) if count > 1 else []
        ads = dict(zip(sorted(slots), ("Hzh1", "Hzh2", "Hzh4b")))
        letters = "abcdefghijklmnopqrstuvwxyz"
        return ArticleLayout(
            pages=pages,
            looping=multipage == "looping_pager",
            hidden_class="".join(rng.choice(letters) for _ in range(5)),
            hidden_after=frozenset(rng.sample(range(len(shown)), min(3, len(shown)))),
            ads_after=ads,
            white_font_after=rng.randrange(len(shown)),
            variant=variant,
        )

    def layout_of(self, article: ReplicaArticle) -> ArticleLayout:
        self.articles  # noqa: B018
        return self._layouts[article.id]

    def old_path(self, article: ReplicaArticle) -> str:
        """The pre-2020 URL: 15 digits of publication time and id, ``.htm``."""
        return f"/fanwen/{article.category.slug}/{article.sample.published:%Y%m%d}{article.id % 10_000_000:07d}.htm"

    def list_url(self, slug: str, page: int = 1) -> str:
        tid = self.options.get("list_tid", {}).get(slug)
        if tid is not None:
            return f"/fanwen/{slug}/list_{tid}_{page}.html"
        return f"/fanwen/{slug}/" if page == 1 else f"/fanwen/{slug}/index_{page}.html"

    def link_of(self, article: ReplicaArticle) -> str:
        return self.old_path(article) if article.id == self.old_url_id else article.path

    # -- responses --------------------------------------------------------------------------

    def article_page_paths(self, article: ReplicaArticle) -> list[str]:
        return [self.page_url(article, page) for page in range(1, len(self.layout_of(article).pages) + 1)]

    def _page(self, template: str, variant: str = "meta_only", weighed: tuple[PageKind, str] | None = None,
              **context: object) -> ReplicaResponse:
        """Render a page; ``weighed`` (page kind, key) gives it the site's chrome at weight ``real``."""
        content_type, meta, codec, bom = ENCODING_VARIANTS[variant]
        render = functools.partial(self.env.get_template(template).render, site=self.definition, replica=self, meta=meta)
        page = render(**context) if weighed is None else render_weighted(self, render, *weighed, codec, **context)
        return ReplicaResponse(200, content_type, bom + page.encode(codec))

    def _missing(self) -> ReplicaResponse:
        return dataclasses.replace(self._page("404.html"), status=404)

    def respond(self, target: str, origin: str = "") -> ReplicaResponse:
        self.articles  # noqa: B018
        path = urlsplit(target).path or "/"
        host = urlsplit(origin).hostname or ""
        if host.startswith("m."):
            return self._mobile(path, origin)
        if path == "/robots.txt":
            text = self.definition.robots.text.lstrip().replace("\n", "\r\n")
            return ReplicaResponse(200, "text/plain", text.encode("ascii"))
        if path == "/sitemap.html":
            return self._page("sitemap.html", categories=self.definition.categories)
        if path in ("/", "/fanwen/"):
            return self._page("channel.html", weighed=("home", path), categories=self.definition.categories,
                              disallowed=self.options.get("disallowed_channel"))
        if answer := faults.respond(self, path, target, origin):
            return answer
        if match := _OLD_ARTICLE.match(path):
            article = next((a for a in self.articles if self.old_path(a) == path), None)
            if article is None:
                return self._missing()
            return ReplicaResponse(301, "text/html", b"", headers=(("Location", f"{origin}{article.path}"),))
        if match := _ARTICLE.match(path):
            article = self._by_id.get(int(match["id"]))
            if article is None or article.category.slug != match["category"]:
                return self._missing()
            return self._dedecms_article(article, int(match["page"] or 1))
        if match := _LIST_TID.match(path) or _LIST.match(path):
            slug, page = match["category"], int(match["page"] or 1)
            if slug not in self._by_category or self.list_url(slug, page) != path and page > 1:
                return self._missing()
            size = self.definition.list_page_size
            category = next(c for c in self.definition.categories if c.slug == slug)
            return self._page("list.html", weighed=("list", f"{slug}/{page}"), category=category, page=page,
                              pages=self.list_pages(slug),
                              items=self._by_category[slug][(page - 1) * size: page * size])
        return self._missing()

    def page_url(self, article: ReplicaArticle, page: int) -> str:
        return article.path if page == 1 else article.path.replace(".html", f"_{page}.html")

    def _dedecms_article(self, article: ReplicaArticle, page: int) -> ReplicaResponse:
        layout = self.layout_of(article)
        if not 1 <= page <= len(layout.pages):
            return self._missing()
        # Paragraph numbers over the whole article, so decorations stay where they were put.
        start = sum(len(p) for p in layout.pages[: page - 1])
        paragraphs = list(enumerate(layout.pages[page - 1], start=start))
        next_page = page + 1 if page < len(layout.pages) else (page - 1 if layout.looping else None)
        related = [a for a in self._by_category[article.category.slug] if a.id != article.id][:8]
        return self._page(
            "article.html", layout.variant, ("article", f"{article.id}/{page}"), article=article, layout=layout,
            page=page, paragraphs=paragraphs,
            page_count=len(layout.pages), next_page=next_page, related=related,
        )

    def _mobile(self, path: str, origin: str) -> ReplicaResponse:
        """The m. host: UTF-8, a leaner DOM, and rel=canonical to the desktop page."""
        match = _ARTICLE.match(path)
        article = self._by_id.get(int(match["id"])) if match and not match["page"] else None
        if article is None:
            return ReplicaResponse(404, "text/html; charset=utf-8", "<html><body>页面不存在</body></html>".encode())
        desktop = origin.replace("://m.", "://www.", 1) + article.path
        page = self.env.get_template("mobile_article.html").render(site=self.definition, article=article,
                                                                    canonical=desktop)
        return ReplicaResponse(200, "text/html; charset=utf-8", page.encode("utf-8"))
