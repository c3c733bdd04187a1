"""A replica 范文 site: a site definition (TOML data) + a corpus + a layout's templates.

The replica knows, for every article, exactly which paragraphs it shows and
whether it cut the text with a preview notice, so tests can compare what the
crawler archived against the truth.  Adding a replica site is adding a
``sites/<name>.toml`` (and, for a new layout, ``templates/<layout>/``).
"""

from __future__ import annotations

import dataclasses
import datetime
import gzip
import hashlib
import random
import re
import tomllib
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache, partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from pydantic import BaseModel, ConfigDict, Field

from .copies import COPY_KINDS, copy_text, has_placeholders
from .corpus import SampleText, generate_texts
from .families import ArticleShape, PageShapes, layout_filters, shape_article
from .page_weight import PageKind, RealChrome, Weight, check_weight, render_weighted

SITES_DIR = Path(__file__).with_name("sites")
TEMPLATES_DIR = Path(__file__).with_name("templates")


class Category(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    slug: str = Field(pattern=r"^[a-z0-9_-]+$")
    name: str
    genres: list[str]
    count: int = Field(ge=1)


class Routes(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    home: str = "/"
    list: str
    list_page: str
    article: str
    article_page: str | None = None
    """Continuation pages of a long article, e.g. ``/a/{id}_{page}.html`` (page >= 2)."""


class Robots(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    text: str


class Copies(BaseModel):
    """Texts this site copies from another replica site (for duplicate detection)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    from_site: str
    count: int = Field(ge=1)
    seed: int = 0


class SiteDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    display_name: str
    layout: str
    encoding: str = "utf-8"
    default_port: int
    corpus_seed: int
    contact_handle: str
    list_page_size: int = Field(default=15, ge=1)
    truncated_share: float = Field(default=0.5, ge=0, le=1)
    inline_ad_share: float = Field(default=0.0, ge=0, le=1)
    routes: Routes
    robots: Robots
    categories: list[Category] = Field(min_length=1)
    copies: Copies | None = None
    date_with_time_share: float = Field(default=0.3, ge=0, le=1)
    first_id: int = Field(default=10001, ge=1)
    header_charset: bool = True
    """Whether the Content-Type header names the charset (出国留学网 sends a bare text/html)."""
    shapes: PageShapes | None = None
    """合集 pages and continuation pages (see families.py); None: one text on one page."""
    # Read only by a layout with its own site class (see SITE_CLASSES); other layouts ignore it.
    layout_options: dict[str, Any] = Field(default_factory=dict)



def _names_its_text(heading: str) -> bool:
    """False for a heading that is a bare number: 篇一, 第二篇, 3."""
    bare = heading.strip().removeprefix("篇").removeprefix("第").removesuffix("篇")
    return bool(bare.strip("0123456789一二三四五六七八九十"))

@dataclass(frozen=True)
class ReplicaArticle:
    id: int
    category: Category
    sample: SampleText
    shown: tuple[str, ...]  # the paragraphs the page shows (a prefix of the sample when truncated)
    truncated: bool
    inline_ad_after: int | None  # index of the paragraph an ad slot follows
    with_time: bool  # the date line carries a time of day
    path: str
    modified: datetime.datetime | None = None  # set when the text was revised after publication
    copied_from: tuple[str, int, str] | None = None  # (replica site, article id, copy kind)
    shape: ArticleShape | None = None  # a 合集 page or an article split over pages (families.py)

    @property
    def last_modified(self) -> datetime.datetime:
        """UTC time of the page's last change (the sample's times are taken as UTC)."""
        return (self.modified or self.sample.published).replace(tzinfo=datetime.UTC)

    @property
    def title(self) -> str:
        return self.shape.title if self.shape and self.shape.title else self.sample.title

    @property
    def published(self) -> str:
        return self.sample.published.date().isoformat()

    @property
    def expected_text(self) -> str:
        """The clean text a perfect extractor returns for this page."""
        return "\n".join(self.shown)

    @property
    def expected_texts(self) -> tuple[str, ...]:
        """The clean texts of the page, in order: several for a 合集 page, else one."""
        if self.shape and self.shape.parts:
            return tuple("\n".join(part.paragraphs) for part in self.shape.parts)
        return (self.expected_text,)

    @property
    def expected_titles(self) -> tuple[str, ...]:
        """The title of each clean text: a 合集 part is titled by its heading; a heading that is
        only a number ("篇一") says nothing alone, so the page's title goes before it."""
        if self.shape and self.shape.parts:
            return tuple(part.heading if _names_its_text(part.heading) else f"{self.title} {part.heading}"
                         for part in self.shape.parts)
        return (self.title,)

    @property
    def page_count(self) -> int:
        return len(self.shape.pages) if self.shape and self.shape.pages else 1

    def page_paragraphs(self, page: int) -> tuple[str, ...]:
        """The paragraphs page ``page`` (1-based) of a continued article shows."""
        if self.shape and self.shape.pages:
            return self.shape.pages[page - 1]
        return self.shown


@dataclass(frozen=True)
class ReplicaResponse:
    status: int
    content_type: str
    body: bytes
    last_modified: datetime.datetime | None = None  # sent as Last-Modified, with an ETag of the body
    headers: tuple[tuple[str, str], ...] = ()  # further headers (Location, Retry-After)
    action: str | None = None  # "hang" (never answer) or "reset" (drop the connection): see server.py

    @cached_property
    def etag(self) -> str:
        """The entity tag sent with ``last_modified``; computed once per (cached) response."""
        return hashlib.sha1(self.body).hexdigest()[:16]


_SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
# Class names are ASCII in every layout, so they are renamed in the encoded page, whatever its charset.
_CLASS_ATTRIBUTE = re.compile(rb'class="([^"]*)"')


def _route_regex(template: str) -> re.Pattern[str]:
    pattern = re.escape(template)
    for name, group in (("category", r"[a-z0-9_-]+"), ("page", r"\d+"), ("id", r"\d+")):
        pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>{group})")
    return re.compile(f"^{pattern}$")


class ReplicaSite:
    def __init__(self, definition: SiteDefinition, weight: Weight = "light") -> None:
        self.definition = definition
        self.weight = check_weight(weight)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES_DIR / definition.layout),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(layout_filters())
        self._list_first = _route_regex(definition.routes.list)
        self._list_page = _route_regex(definition.routes.list_page)
        self._article = _route_regex(definition.routes.article)
        self._article_page = _route_regex(definition.routes.article_page) if definition.routes.article_page else None
        # Rendered pages are kept until the site changes: a Jinja render costs the replica
        # more than serving the page, and the benchmarks share its machine with the crawler.
        self.render_article = lru_cache(maxsize=4096)(self._render_article)
        self.render_list = lru_cache(maxsize=4096)(self._render_list)
        self.render_home = lru_cache(maxsize=16)(self._render_home)
        self._articles: list[ReplicaArticle] | None = None
        self._by_id: dict[int, ReplicaArticle] = {}
        self._by_category: dict[str, list[ReplicaArticle]] = {}
        self.latest: list[ReplicaArticle] = []
        self._generation = 0
        self._edited: set[int] = set()
        # old class -> new class in every page served from now on (POST /__replica__/relayout)
        self.renamed_classes: dict[str, str] = {}

    @property
    def articles(self) -> list[ReplicaArticle]:
        if self._articles is None:
            self._articles = self._build_articles()
            self._reindex()
        return self._articles

    def _new_article(self, article_id: int, category: Category, sample: SampleText, rng: random.Random) -> ReplicaArticle:
        definition = self.definition
        truncated = rng.random() < definition.truncated_share
        paragraphs = sample.paragraphs
        shown = paragraphs[: max(3, int(len(paragraphs) * rng.uniform(0.35, 0.65)))] if truncated else paragraphs
        ad_after = rng.randrange(1, len(shown)) if len(shown) > 2 and rng.random() < definition.inline_ad_share else None
        article = ReplicaArticle(
            id=article_id,
            category=category,
            sample=sample,
            shown=tuple(shown),
            truncated=truncated,
            inline_ad_after=ad_after,
            with_time=rng.random() < definition.date_with_time_share,
            path=definition.routes.article.format(id=article_id, category=category.slug),
        )
        if definition.shapes is None:
            return article
        shape = shape_article(article, definition.shapes, f"{definition.corpus_seed}/shape/{article_id}")
        if shape is None:
            return article
        return dataclasses.replace(article, shape=shape, truncated=article.truncated and not shape.parts)

    def _build_articles(self) -> list[ReplicaArticle]:
        rng = random.Random(self.definition.corpus_seed)
        articles: list[ReplicaArticle] = []
        for category in self.definition.categories:
            samples = generate_texts(
                category.count, seed=rng.randrange(1 << 30), prefix=category.slug, genres=category.genres
            )
            for sample in samples:
                articles.append(self._new_article(self.definition.first_id + len(articles), category, sample, rng))
        if self.definition.copies:
            articles.extend(self._copied_articles(self.definition.first_id + len(articles), articles))
        return articles

    def _copied_articles(self, first_id: int, own: list[ReplicaArticle]) -> list[ReplicaArticle]:
        """Copies of another replica's texts, cycling through the copy kinds (see copies.py)."""
        plan = self.definition.copies
        assert plan is not None  # called only for a site that copies another's texts
        rng = random.Random(f"{self.definition.corpus_seed}/copies/{plan.seed}")
        source_site = load_site(plan.from_site)
        sources = sorted(source_site.articles, key=lambda a: a.id)
        filler = [p for article in own for p in article.sample.paragraphs if len(p) > 60 and p[1] != "、"]
        pool = rng.sample(sources, len(sources))
        copies = []
        for index in range(plan.count):
            kind = COPY_KINDS[index % len(COPY_KINDS)]
            # a placeholder swap needs a text that has placeholders
            source = next(a for a in pool if kind != "placeholders" or has_placeholders(a.sample))
            pool.remove(source)
            sample = copy_text(source.sample, kind, filler, rng)
            category = next(
                (c for c in self.definition.categories if sample.genre in c.genres), self.definition.categories[0]
            )
            article = self._new_article(first_id + index, category, sample, rng)
            copies.append(dataclasses.replace(article, copied_from=(plan.from_site, source.id, kind)))
        return copies

    def _reindex(self) -> None:
        articles = self._articles or []
        self._by_id = {article.id: article for article in articles}
        newest_first = sorted(articles, key=lambda a: (a.sample.published, a.id), reverse=True)
        self._by_category = {c.slug: [] for c in self.definition.categories}
        for article in newest_first:
            self._by_category[article.category.slug].append(article)
        self.latest = newest_first[:15]
        for render in (self.render_article, self.render_list, self.render_home):
            render.cache_clear()

    # -- changes over time, for incremental-crawl and versioning tests ------------------------

    def publish(self, count: int) -> list[ReplicaArticle]:
        """Add ``count`` new articles, newer than every existing one (they head their lists)."""
        articles = self.articles
        self._generation += 1
        rng = random.Random(f"{self.definition.corpus_seed}/publish/{self._generation}")
        newest = max(a.sample.published for a in articles)
        added = []
        categories = self.definition.categories
        for index in range(count):
            category = categories[index % len(categories)]
            [sample] = generate_texts(1, seed=rng.randrange(1 << 30), prefix=f"n{self._generation}_", genres=category.genres)
            sample = dataclasses.replace(sample, published=newest + datetime.timedelta(minutes=index + 1))
            added.append(self._new_article(max(self._by_id) + 1, category, sample, rng))
            articles.append(added[-1])
            self._by_id[added[-1].id] = added[-1]
        self._reindex()
        return added

    def edit(self, count: int) -> list[ReplicaArticle]:
        """Revise the text of ``count`` articles (the oldest not yet revised): one paragraph is reworded."""
        articles = self.articles
        self._generation += 1
        edited: list[ReplicaArticle] = []
        for position, article in enumerate(articles):
            if len(edited) == count:
                break
            if article.id in self._edited:
                continue
            shown = list(article.shown)
            shown[-1] = shown[-1] + "（根据会议讨论意见修改完善。）"
            revised_at = datetime.datetime.now(datetime.UTC).replace(tzinfo=None, microsecond=0)
            articles[position] = dataclasses.replace(article, shown=tuple(shown), modified=revised_at)
            self._edited.add(article.id)
            edited.append(articles[position])
        self._reindex()
        return edited

    def rename_class(self, old: str, new: str) -> None:
        """Redesign the site as its owners do: class ``old`` is called ``new`` in every page from now on
        (renaming the body container's class breaks a profile's body selector; tests of crawl health)."""
        self.renamed_classes[old] = new

    def relaid(self, response: ReplicaResponse) -> ReplicaResponse:
        """``response`` with the renamed classes; applied as pages are served, so every layout gets it."""
        if not self.renamed_classes or "html" not in response.content_type:
            return response
        renamed = {old.encode(): new.encode() for old, new in self.renamed_classes.items()}

        def rename(match: re.Match[bytes]) -> bytes:
            return b'class="' + b" ".join(renamed.get(name, name) for name in match[1].split()) + b'"'

        return dataclasses.replace(response, body=_CLASS_ATTRIBUTE.sub(rename, response.body))

    @cached_property
    def real_chrome(self) -> RealChrome | None:
        """The chrome of the site's pages at weight ``real`` (page_weight.py); None at ``light``."""
        return RealChrome(self) if self.weight == "real" else None

    def article_page_paths(self, article: ReplicaArticle) -> list[str]:
        """The URL paths of an article's pages, first page first."""
        pattern = self.definition.routes.article_page
        if pattern is None:
            return [article.path]
        return [article.path, *(pattern.format(id=article.id, page=page) for page in range(2, article.page_count + 1))]

    def list_pages(self, slug: str) -> int:
        size = self.definition.list_page_size
        return max(1, -(-len(self._by_category[slug]) // size))

    def list_url(self, slug: str, page: int = 1) -> str:
        routes = self.definition.routes
        return routes.list.format(category=slug) if page == 1 else routes.list_page.format(category=slug, page=page)

    # -- responses ---------------------------------------------------------------------------

    def _html(self, template: str, weighed: tuple[PageKind, str] | None = None, **context: object) -> ReplicaResponse:
        """Render a page; ``weighed`` (page kind, key) gives it the site's chrome at weight ``real``."""
        encoding = self.definition.encoding
        render = partial(self.env.get_template(template).render, site=self.definition, replica=self)
        page = render(**context) if weighed is None else render_weighted(self, render, *weighed, encoding, **context)
        content_type = f"text/html; charset={encoding}" if self.definition.header_charset else "text/html"
        return ReplicaResponse(200, content_type, page.encode(encoding))

    def _not_found(self) -> ReplicaResponse:
        response = self._html("404.html")
        return ReplicaResponse(404, response.content_type, response.body)

    def _render_article(self, article_id: int, page_number: int = 1) -> ReplicaResponse:
        article = self._by_id[article_id]
        siblings = [a for a in self._by_category[article.category.slug] if a.id != article.id][:10]
        extra = {"page_number": page_number} if self.definition.shapes else {}
        page = self._html("article.html", ("article", f"{article_id}/{page_number}"), article=article,
                          related=siblings, latest=self.latest, **extra)
        return dataclasses.replace(page, last_modified=article.last_modified)

    def sitemap_index(self, origin: str) -> ReplicaResponse:
        """A sitemap index over two article sitemaps, the second gzipped (docs/site-families.md, "Replica site A")."""
        entries = "".join(
            f"<sitemap><loc>{origin}{path}</loc></sitemap>" for path in ("/sitemap-articles-1.xml", "/sitemap-articles-2.xml.gz")
        )
        body = f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{_SITEMAP_NS}">{entries}</sitemapindex>\n'
        return ReplicaResponse(200, "application/xml", body.encode())

    def article_sitemap(self, part: int, origin: str) -> ReplicaResponse:
        articles = sorted(self.articles, key=lambda a: a.id)
        half = len(articles) // 2
        chosen = articles[:half] if part == 1 else articles[half:]
        urls = "".join(
            f"<url><loc>{origin}{a.path}</loc><lastmod>{a.last_modified.isoformat(timespec='seconds')}</lastmod></url>"
            for a in chosen
        )
        body = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{_SITEMAP_NS}">{urls}</urlset>\n'.encode()
        if part == 2:
            return ReplicaResponse(200, "application/x-gzip", gzip.compress(body, mtime=0))
        return ReplicaResponse(200, "application/xml", body)

    def respond(self, target: str, origin: str = "") -> ReplicaResponse:
        """The response to a request target (path plus optional query); ``origin`` makes sitemap URLs absolute."""
        self.articles  # noqa: B018 - builds the corpus and indexes on first use
        path = urlsplit(target).path or "/"
        query = urlsplit(target).query
        full = f"{path}?{query}" if query else path
        if path == "/robots.txt":
            robots = self.definition.robots.text.lstrip() + f"Sitemap: {origin}/sitemap.xml\n"
            return ReplicaResponse(200, "text/plain; charset=utf-8", robots.encode())
        if path == "/sitemap.xml":
            return self.sitemap_index(origin)
        if path in ("/sitemap-articles-1.xml", "/sitemap-articles-2.xml.gz"):
            return self.article_sitemap(1 if path.endswith("1.xml") else 2, origin)
        if full == self.definition.routes.home:
            return self.render_home(origin)
        if match := self._article.match(full):
            article_id = int(match["id"])
            return self.render_article(article_id) if article_id in self._by_id else self._not_found()
        if self._article_page and (match := self._article_page.match(full)):
            article = self._by_id.get(int(match["id"]))
            if article and 2 <= int(match["page"]) <= article.page_count:
                return self.render_article(article.id, int(match["page"]))
            return self._not_found()
        page = 1
        match = self._list_first.match(full)
        if match is None and (match := self._list_page.match(full)):
            page = int(match["page"])
        if match and match["category"] in self._by_category and page >= 1:
            return self.render_list(match["category"], page, origin)
        return self._not_found()

    def _render_home(self, origin: str) -> ReplicaResponse:
        return self._html("home.html", ("home", "home"), latest=self.latest, origin=origin)

    def _render_list(self, slug: str, page: int, origin: str) -> ReplicaResponse:
        size = self.definition.list_page_size
        items = self._by_category[slug][(page - 1) * size: page * size]
        category = next(c for c in self.definition.categories if c.slug == slug)
        # Past the last page the real sites answer 200 with an empty list
        # (docs/site-families.md, "List pages and pagers").
        return self._html("list.html", ("list", f"{slug}/{page}"), category=category, items=items, page=page,
                          pages=self.list_pages(slug), origin=origin)


def available_sites() -> list[str]:
    return sorted(path.stem for path in SITES_DIR.glob("*.toml"))


@cache
def load_site(name: str, weight: Weight = "light") -> ReplicaSite:
    """The replica site ``name`` serving pages of ``weight`` (``light`` or ``real``: page_weight.py)."""
    path = SITES_DIR / f"{name}.toml"
    if not path.exists():
        raise KeyError(f"no replica site named {name!r} (known: {', '.join(available_sites())})")
    definition = SiteDefinition.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    return site_class(definition.layout)(definition, weight)


def site_class(layout: str) -> type[ReplicaSite]:
    """The class serving a layout: most layouts are templates only; a few need their own routes."""
    if layout == "dedecms":
        from .dedecms import DedecmsSite  # imported late: it subclasses ReplicaSite

        return DedecmsSite
    return ReplicaSite
