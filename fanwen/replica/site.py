"""A replica 范文 site: a site definition (TOML data) + a corpus + a layout's templates.

The replica knows, for every article, exactly which paragraphs it shows and
whether it cut the text with a preview notice, so tests can compare what the
crawler archived against the truth.  Adding a replica site is adding a
``sites/<name>.toml`` (and, for a new layout, ``templates/<layout>/``).
"""

from __future__ import annotations

import random
import re
import tomllib
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
from pydantic import BaseModel, ConfigDict, Field

from .corpus import SampleText, generate_texts

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


class Robots(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    text: str


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

    @property
    def title(self) -> str:
        return self.sample.title

    @property
    def published(self) -> str:
        return self.sample.published.date().isoformat()

    @property
    def expected_text(self) -> str:
        """The clean text a perfect extractor returns for this page."""
        return "\n".join(self.shown)


@dataclass(frozen=True)
class ReplicaResponse:
    status: int
    content_type: str
    body: bytes


def _route_regex(template: str) -> re.Pattern[str]:
    pattern = re.escape(template)
    for name, group in (("category", r"[a-z0-9_-]+"), ("page", r"\d+"), ("id", r"\d+")):
        pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>{group})")
    return re.compile(f"^{pattern}$")


class ReplicaSite:
    def __init__(self, definition: SiteDefinition) -> None:
        self.definition = definition
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES_DIR / definition.layout),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._list_first = _route_regex(definition.routes.list)
        self._list_page = _route_regex(definition.routes.list_page)
        self._article = _route_regex(definition.routes.article)
        self.render_article = lru_cache(maxsize=4096)(self._render_article)

    @cached_property
    def articles(self) -> list[ReplicaArticle]:
        definition = self.definition
        rng = random.Random(definition.corpus_seed)
        articles: list[ReplicaArticle] = []
        next_id = 10001
        for category in definition.categories:
            samples = generate_texts(
                category.count, seed=rng.randrange(1 << 30), prefix=category.slug, genres=category.genres
            )
            for sample in samples:
                truncated = rng.random() < definition.truncated_share
                paragraphs = sample.paragraphs
                shown = paragraphs[: max(3, int(len(paragraphs) * rng.uniform(0.35, 0.65)))] if truncated else paragraphs
                ad_after = rng.randrange(1, len(shown)) if len(shown) > 2 and rng.random() < definition.inline_ad_share else None
                articles.append(ReplicaArticle(
                    id=next_id,
                    category=category,
                    sample=sample,
                    shown=tuple(shown),
                    truncated=truncated,
                    inline_ad_after=ad_after,
                    with_time=rng.random() < 0.3,
                    path=definition.routes.article.format(id=next_id),
                ))
                next_id += 1
        return articles

    @cached_property
    def _by_id(self) -> dict[int, ReplicaArticle]:
        return {article.id: article for article in self.articles}

    @cached_property
    def _by_category(self) -> dict[str, list[ReplicaArticle]]:
        grouped: dict[str, list[ReplicaArticle]] = {c.slug: [] for c in self.definition.categories}
        for article in sorted(self.articles, key=lambda a: a.sample.published, reverse=True):
            grouped[article.category.slug].append(article)
        return grouped

    @cached_property
    def latest(self) -> list[ReplicaArticle]:
        return sorted(self.articles, key=lambda a: a.sample.published, reverse=True)[:15]

    def list_pages(self, slug: str) -> int:
        size = self.definition.list_page_size
        return max(1, -(-len(self._by_category[slug]) // size))

    def list_url(self, slug: str, page: int = 1) -> str:
        routes = self.definition.routes
        return routes.list.format(category=slug) if page == 1 else routes.list_page.format(category=slug, page=page)

    # -- responses ---------------------------------------------------------------------------

    def _html(self, template: str, **context: object) -> ReplicaResponse:
        page = self.env.get_template(template).render(site=self.definition, replica=self, **context)
        encoding = self.definition.encoding
        return ReplicaResponse(200, f"text/html; charset={encoding}", page.encode(encoding))

    def _not_found(self) -> ReplicaResponse:
        response = self._html("404.html")
        return ReplicaResponse(404, response.content_type, response.body)

    def _render_article(self, article_id: int) -> ReplicaResponse:
        article = self._by_id[article_id]
        siblings = [a for a in self._by_category[article.category.slug] if a.id != article.id][:10]
        return self._html("article.html", article=article, related=siblings, latest=self.latest)

    def respond(self, target: str) -> ReplicaResponse:
        """The response to a request target (path plus optional query)."""
        path = urlsplit(target).path or "/"
        query = urlsplit(target).query
        full = f"{path}?{query}" if query else path
        if path == "/robots.txt":
            return ReplicaResponse(200, "text/plain; charset=utf-8", self.definition.robots.text.lstrip().encode())
        if full == self.definition.routes.home:
            return self._html("home.html", latest=self.latest)
        if match := self._article.match(full):
            article_id = int(match["id"])
            return self.render_article(article_id) if article_id in self._by_id else self._not_found()
        page = 1
        match = self._list_first.match(full)
        if match is None and (match := self._list_page.match(full)):
            page = int(match["page"])
        if match and match["category"] in self._by_category and page >= 1:
            slug = match["category"]
            size = self.definition.list_page_size
            items = self._by_category[slug][(page - 1) * size: page * size]
            category = next(c for c in self.definition.categories if c.slug == slug)
            # Past the last page the real sites answer 200 with an empty list (sites.md 5).
            return self._html("list.html", category=category, items=items, page=page,
                              pages=self.list_pages(slug))
        return self._not_found()


def available_sites() -> list[str]:
    return sorted(path.stem for path in SITES_DIR.glob("*.toml"))


@lru_cache(maxsize=None)
def load_site(name: str) -> ReplicaSite:
    path = SITES_DIR / f"{name}.toml"
    if not path.exists():
        raise KeyError(f"no replica site named {name!r} (known: {', '.join(available_sites())})")
    definition = SiteDefinition.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    return ReplicaSite(definition)
