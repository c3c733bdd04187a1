"""Replica pages at real weight: the boilerplate a real page of each family carries around its text.

At weight ``light`` (the default: the demo and most tests) a replica page is its
template alone, about 14 KB.  Real pages of these families weigh 40-200 KB
(issue 20), and what makes the difference is chrome a cleaner must see through:
an inlined stylesheet and scripts, a menu of hundreds of channel links, ad code,
long related and ranking lists, a footer of friend links.  At weight ``real``
every article, list and home page gets that chrome, in slots its template opens
outside the body container (``{% if chrome %}…{% endif %}``, so a light page is
byte-identical to one rendered before weights existed), and a final filler list
brings the page to a size drawn from its family's range in ``page_weights.toml``.

Everything is seeded: the site-wide parts from the site's corpus seed, each
page's filler and size from the page's own key.  No set is iterated.
"""

from __future__ import annotations

import datetime
import random
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote

from markupsafe import Markup, escape
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from .site import ReplicaArticle, ReplicaSite

Weight = Literal["light", "real"]
WEIGHTS: tuple[str, ...] = ("light", "real")
PageKind = Literal["article", "list", "home"]

WEIGHTS_FILE = Path(__file__).with_name("page_weights.toml")
KB = 1024
# The filler stops short of a page's drawn size by at most one list item; the size is drawn
# this far inside the family's range so that the page never lands outside it.
_RANGE_MARGIN = 2 * KB


class FamilyWeight(BaseModel):
    """One family's real weight: sizes per page kind (KB, as served) and what its chrome is made of."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    article_kb: tuple[int, int]
    list_kb: tuple[int, int]
    home_kb: tuple[int, int]
    menu_channels: int = Field(ge=1)
    menu_links: int = Field(ge=1)
    stylesheet_rules: int = Field(ge=1)
    friend_links: int = Field(ge=0)
    tags: int = Field(ge=0)
    rank_items: int = Field(ge=1)
    channel_url: str
    ad_call: str
    ad_slots: list[str] = Field(min_length=3)
    topbar_class: str
    menu_class: str
    search_class: str
    rank_class: str
    tags_class: str
    fill_class: str
    links_class: str
    sitemap_class: str
    fill_headings: list[str] = Field(min_length=1)
    rank_headings: list[str] = Field(min_length=1)
    fill_item: str

    def size_range(self, kind: PageKind) -> tuple[int, int]:
        """(smallest, largest) size in bytes of a page of this kind."""
        low, high = {"article": self.article_kb, "list": self.list_kb, "home": self.home_kb}[kind]
        return low * KB, high * KB


class ChromeWords(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    channels: list[tuple[str, str]] = Field(min_length=20)
    modifiers: list[tuple[str, str]] = Field(min_length=20)
    topics: list[str] = Field(min_length=10)
    title_patterns: list[str] = Field(min_length=1)
    link_stems: list[tuple[str, str]] = Field(min_length=2)
    link_suffixes: list[tuple[str, str]] = Field(min_length=1)
    link_domains: list[str] = Field(min_length=1)
    provinces: list[str] = Field(min_length=1)


@cache
def _weights_data() -> dict:
    return tomllib.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))


@cache
def family_weight(layout: str) -> FamilyWeight:
    data = _weights_data()
    if layout not in data:
        raise KeyError(f"{WEIGHTS_FILE.name} has no real weight for layout {layout!r}")
    return FamilyWeight.model_validate(data[layout])


@cache
def chrome_words() -> ChromeWords:
    return ChromeWords.model_validate(_weights_data()["words"])


def check_weight(weight: str) -> Weight:
    if weight not in WEIGHTS:
        raise ValueError(f"unknown page weight {weight!r} (known: {', '.join(WEIGHTS)})")
    return weight  # type: ignore[return-value]


# The scripts every page of a site carries (our own code, in the manner of real pages' boilerplate):
# a mobile redirect, ad-unit configuration, a statistics loader; at the foot, copy protection,
# lazy-loaded images, a back-to-top button and a push script.
_HEAD_SCRIPTS = Template("""<script type="text/javascript">
(function () {
  if (/Android|webOS|iPhone|iPod|BlackBerry|Windows Phone|Mobile/i.test(navigator.userAgent)) {
    var mobile = location.href.replace('//www.', '//m.');
    if (mobile !== location.href) { location.replace(mobile); }
  }
})();
var ad_units = {$units};
function show_slot(name) {
  var unit = ad_units[name];
  if (!unit) { return; }
  document.write('<div class="slot_' + name + '" data-unit="' + unit + '"></div>');
}
</script>
<script type="text/javascript">
var _stat = _stat || [];
(function () {
  var tag = document.createElement('script');
  tag.src = '/js/stat.js?id=$stat_id';
  var first = document.getElementsByTagName('script')[0];
  first.parentNode.insertBefore(tag, first);
})();
</script>""")
_FOOT_SCRIPTS = """<script type="text/javascript">
document.oncontextmenu = function () { return false; };
document.onselectstart = function () { return false; };
(function () {
  var images = document.getElementsByTagName('img');
  for (var i = 0; i < images.length; i++) {
    var source = images[i].getAttribute('data-original');
    if (source) { images[i].src = source; }
  }
  var top = document.querySelector('.go_top');
  window.onscroll = function () {
    if (top) { top.style.display = document.documentElement.scrollTop > 600 ? 'block' : 'none'; }
  };
})();
function addFavorite(url, title) {
  try { window.external.addFavorite(url, title); } catch (e) { alert('请使用Ctrl+D收藏本站'); }
}
</script>
<script src="/js/push.js" type="text/javascript" async="async"></script>"""


@dataclass(frozen=True)
class PageChrome:
    """What a template puts in its chrome slots; ``fill`` is the list that sizes the page."""

    head: Markup
    top: Markup
    aside: Markup
    fill: Markup
    footer: Markup


@dataclass(frozen=True)
class _Link:
    href: str
    title: str
    date: str
    summary: str
    image: str


class RealChrome:
    """The real-weight chrome of one replica site."""

    def __init__(self, site: ReplicaSite) -> None:
        self.site = site
        self.family = family_weight(site.definition.layout)
        self.words = chrome_words()
        self.seed = f"{site.definition.corpus_seed}/weight"

    def _rng(self, part: str) -> random.Random:
        return random.Random(f"{self.seed}/{part}")

    # -- the size of a page ----------------------------------------------------------------------

    def target_bytes(self, kind: PageKind, key: str) -> int:
        low, high = self.family.size_range(kind)
        return self._rng(f"size/{kind}/{key}").randrange(low + _RANGE_MARGIN, high - _RANGE_MARGIN)

    def chrome(self, kind: PageKind, key: str, budget: int | None = None, codec: str = "utf-8") -> PageChrome:
        """The page's chrome; with ``budget`` (bytes), a filler list of about that size after the text."""
        fill = self._fill(kind, key, budget, codec) if budget else Markup("")
        return PageChrome(self.head, self.top, self.aside, fill, self.footer)

    # -- site-wide parts: the same on every page, as a template include is ---------------------

    @cached_property
    def channels(self) -> list[tuple[str, str, list[tuple[str, str]]]]:
        """(name, root URL, [(sub-channel name, URL)]) of each channel in the menu."""
        rng = self._rng("menu")
        url = self.family.channel_url
        root = url.split("{sub}")[0]
        picked = rng.sample(self.words.channels, self.family.menu_channels)
        channels = []
        for name, slug in picked:
            subs = rng.sample(self.words.modifiers, min(self.family.menu_links, len(self.words.modifiers)))
            channels.append((name, root.format(channel=slug),
                             [(f"{label}{name}", url.format(channel=slug, sub=sub)) for label, sub in subs]))
        return channels

    @cached_property
    def head(self) -> Markup:
        return Markup("\n".join((
            '<meta name="applicable-device" content="pc" />',
            '<meta http-equiv="Cache-Control" content="no-transform" />',
            f"<style type=\"text/css\">\n{self._stylesheet()}\n</style>",
            self._head_scripts(),
        )))

    @cached_property
    def top(self) -> Markup:
        family, rng = self.family, self._rng("top")
        name = escape(self.site.definition.display_name)
        topbar = (
            f'<div class="{family.topbar_class}"><div class="wrap"><span>欢迎来到{name}！</span>'
            '<a href="/member/login.html" rel="nofollow">登录</a>|<a href="/member/reg.html" rel="nofollow">注册</a>'
            '<a href="javascript:;" onclick="addFavorite(location.href, document.title)">收藏本站</a>'
            '<a href="javascript:;" onclick="setHome(this)">设为首页</a><a href="/m/">手机版</a>'
            '<a href="/sitemap.html">网站导航</a></div></div>'
        )
        hot = rng.sample(self.words.topics, 10)
        search = (
            f'<div class="{family.search_class}"><form action="/search/" method="get" target="_blank">'
            '<input type="text" name="q" class="kw" autocomplete="off" /><button type="submit">搜索</button></form>'
            "<span>热门搜索：</span>"
            + "".join(f'<a href="/search/?q={quote(word)}" target="_blank">{word}</a>' for word in hot)
            + "</div>"
        )
        menu = "\n".join(
            f'<dl><dt><a href="{root}">{name}</a></dt><dd>'
            + "".join(f'<a href="{href}">{label}</a>' for label, href in subs)
            + "</dd></dl>"
            for name, root, subs in self.channels
        )
        return Markup(f'{topbar}\n{search}\n<div class="{family.menu_class}">\n{menu}\n</div>\n'
                      f"{self._ad(0)}")

    @cached_property
    def aside(self) -> Markup:
        family, rng = self.family, self._rng("aside")
        ranks = []
        for heading in family.rank_headings:
            links = self._links(rng, family.rank_items)
            items = "".join(f'<li><em class="n{number}">{number}</em><a href="{link.href}" title="{link.title}" '
                            f'target="_blank">{link.title}</a></li>' for number, link in enumerate(links, start=1))
            ranks.append(f'<div class="{family.rank_class}"><h3>{heading}</h3><ol>{items}</ol></div>')
        tag_words = [*self.words.topics, *(sub for _, _, subs in self.channels for sub, _ in subs)]
        tags = rng.sample(tag_words, min(family.tags, len(tag_words)))
        tag_box = (f'<div class="{family.tags_class}"><h3>热门标签</h3>'
                   + "".join(f'<a href="/tag/{quote(tag)}.html">{tag}</a>' for tag in tags) + "</div>")
        return Markup("\n".join((*ranks, self._ad(1), tag_box)))

    @cached_property
    def footer(self) -> Markup:
        family, words, rng = self.family, self.words, self._rng("footer")
        friends = []
        for _ in range(family.friend_links):
            (stem, stem_py), (other, other_py) = rng.sample(words.link_stems, 2)
            suffix, suffix_py = rng.choice(words.link_suffixes)
            domain = f"www.{stem_py}{other_py}{suffix_py}{rng.choice(words.link_domains)}"
            friends.append(f'<li><a href="http://{domain}/" target="_blank">{stem}{other}{suffix}</a></li>')
        sitemap = "".join(
            f'<dl><dt><a href="{root}">{name}</a></dt><dd>'
            + "".join(f'<a href="{href}">{label}</a>' for label, href in subs[:6]) + "</dd></dl>"
            for name, root, subs in self.channels
        )
        province = rng.choice(words.provinces)
        name = escape(self.site.definition.display_name)
        about = "".join(f'<a href="/about/{slug}.html" rel="nofollow">{label}</a>|' for label, slug in (
            ("关于我们", "about"), ("联系我们", "contact"), ("免责声明", "statement"), ("广告服务", "ads"),
            ("投稿须知", "tougao"), ("网站地图", "sitemap")))
        notes = (
            f'<div class="copyright"><p>{about}</p>'
            f"<p>{province}ICP备{rng.randrange(10**7, 10**8)}号-{rng.randrange(1, 4)} "
            f"{province}公网安备 {rng.randrange(10**13, 10**14)}号</p>"
            f"<p>本站部分文章来自网友投稿，仅供学习参考，如有侵权请与{name}联系删除。</p></div>"
        )
        return Markup("\n".join((
            self._ad(2),
            f'<div class="{family.links_class}"><h3>友情链接</h3><ul>{"".join(friends)}</ul></div>',
            f'<div class="{family.sitemap_class}">{sitemap}</div>',
            notes,
            '<div class="go_top"><a href="#top" title="返回顶部">返回顶部</a></div>',
            _FOOT_SCRIPTS,
        )))

    # -- pieces ----------------------------------------------------------------------------------

    def _ad(self, index: int) -> str:
        slots = self.family.ad_slots
        rng = self._rng(f"ad/{index}")
        return self.family.ad_call.format(slot=slots[index % len(slots)], number=rng.randrange(10**6, 10**7))

    def _stylesheet(self) -> str:
        """A site-wide stylesheet: rules for the template's blocks, a reset, some media queries."""
        family, rng = self.family, self._rng("css")
        blocks = [family.topbar_class, family.menu_class, family.search_class, family.rank_class, family.tags_class,
                  family.fill_class, family.links_class, family.sitemap_class, "copyright", "go_top", "wrap"]
        blocks = [block.split()[-1] for block in blocks]
        parts = ["", " a", " a:hover", " ul", " li", " li a", " h3", " h3 a", " dl", " dt", " dd", " dd a", " em",
                 " span", " p", " img", " .more", " .on", " form", " input", " button", " ol li"]
        declarations = [
            "margin:0", "padding:0", "margin:0 auto", "padding:0 10px", "padding:5px 0", "overflow:hidden",
            "float:left", "float:right", "display:block", "display:inline-block", "text-align:center",
            "white-space:nowrap", "text-overflow:ellipsis", "font-weight:bold", "font-weight:normal",
            "list-style:none", "position:relative", "cursor:pointer", "border:0", "vertical-align:middle",
        ]
        valued = [("width", "px", 20, 1200), ("height", "px", 16, 320), ("line-height", "px", 18, 44),
                  ("font-size", "px", 12, 22), ("margin-top", "px", 4, 24), ("margin-right", "px", 4, 24),
                  ("padding-left", "px", 4, 30), ("border-radius", "px", 2, 8)]
        colours = ("color", "background-color", "border-color")
        rules = ["*{margin:0;padding:0}", "body{font:12px/1.5 \"Microsoft YaHei\",SimSun,Arial;color:#333}",
                 "a{color:#333;text-decoration:none}", "img{border:0}", "ul,ol,li{list-style:none}",
                 ".clearfix:after{content:\"\";display:block;clear:both}", ".hide{display:none}",
                 ".m_show{display:none}", ".fl{float:left}", ".fr{float:right}"]
        while len(rules) < family.stylesheet_rules:
            selector = f".{rng.choice(blocks)}{rng.choice(parts)}"
            chosen = rng.sample(declarations, rng.randrange(1, 4))
            for name, unit, low, high in rng.sample(valued, rng.randrange(1, 4)):
                chosen.append(f"{name}:{rng.randrange(low, high)}{unit}")
            if rng.random() < 0.5:
                chosen.append(f"{rng.choice(colours)}:#{rng.randrange(0x1000000):06x}")
            rules.append(f"{selector}{{{';'.join(chosen)}}}")
            if rng.random() < 0.03:
                width = rng.choice((768, 1024, 1280))
                rules.append(f"@media screen and (max-width:{width}px){{.{rng.choice(blocks)}{{width:auto;float:none}}}}")
        return "\n".join(rules)

    def _head_scripts(self) -> str:
        rng = self._rng("scripts")
        units = ", ".join(f'"{slot}": "u{rng.randrange(10**6, 10**7)}"' for slot in self.family.ad_slots)
        return _HEAD_SCRIPTS.substitute(units=units, stat_id=f"{rng.getrandbits(128):032x}")

    def _links(self, rng: random.Random, count: int) -> list[_Link]:
        """``count`` links: two thirds to the site's own articles, the rest to ones it does not have."""
        articles = self._articles
        links = []
        for index in range(count):
            if articles and index % 3 != 2:
                links.append(self._own_link(rng.choice(articles)))
            else:
                links.append(self._other_link(rng))
        return links

    @cached_property
    def _articles(self) -> list[ReplicaArticle]:
        return sorted(self.site.articles, key=lambda article: article.id)

    @staticmethod
    def _own_link(article: ReplicaArticle) -> _Link:
        first = next((p for p in article.shown if len(p) > 20), article.shown[0] if article.shown else "")
        return _Link(article.path, str(escape(article.title)), article.published, str(escape(first[:40])) + "…",
                     f"/uploads/allimg/{article.sample.published:%y%m%d}/{article.id}.jpg")

    def _other_link(self, rng: random.Random) -> _Link:
        words = self.words
        channel, slug = rng.choice(words.channels)
        title = rng.choice(words.title_patterns).format(
            year=rng.randrange(2019, 2026), modifier=rng.choice(words.modifiers)[0], channel=channel,
            topic=rng.choice(words.topics), n=rng.randrange(3, 21), words=rng.choice((300, 500, 800, 1000, 1500)),
        )
        newest = self._articles[-1].id if self._articles else 10000
        number = rng.randrange(newest + 1, 2 * newest + 2)
        published = datetime.date(2019, 1, 1) + datetime.timedelta(days=rng.randrange(2400))
        summary = self._summary(rng)
        return _Link(self.site.definition.routes.article.format(id=number, category=slug), title,
                     published.isoformat(), summary, f"/uploads/allimg/{published:%y%m%d}/{number}.jpg")

    def _summary(self, rng: random.Random) -> str:
        """An excerpt of one of the site's texts, as a related list shows under a title."""
        if not self._articles:
            return ""
        paragraphs = [p for p in rng.choice(self._articles).shown if len(p) > 20] or ["…"]
        return str(escape(rng.choice(paragraphs)[:rng.randrange(24, 48)])) + "…"

    def _fill(self, kind: PageKind, key: str, budget: int, codec: str) -> Markup:
        """Lists after the text, item by item until ``budget`` bytes would be passed.

        Article and list pages get the family's related / latest headings in turn; a home
        page gets one box per menu channel, as the real home pages do.
        """
        family, rng = self.family, self._rng(f"fill/{kind}/{key}")
        headings: Sequence[str] = ([name for name, _, _ in self.channels] if kind == "home"
                                   else family.fill_headings)
        blocks: list[str] = []
        used = 0
        block_index = 0
        while True:
            heading = headings[block_index % len(headings)]
            opening = f'<div class="{family.fill_class}"><h3>{heading}</h3><ul>'
            closing = "</ul></div>\n"
            used += len((opening + closing).encode(codec))
            items: list[str] = []
            for link in self._links(rng, rng.randrange(10, 25)):
                item = family.fill_item.format(href=link.href, title=link.title, date=link.date,
                                               summary=link.summary, image=link.image)
                cost = len(item.encode(codec))
                if used + cost > budget:
                    if items:
                        blocks.append(opening + "".join(items) + closing)
                    return Markup("".join(blocks))
                used += cost
                items.append(item)
            blocks.append(opening + "".join(items) + closing)
            block_index += 1


def render_weighted(replica: ReplicaSite, render: Callable[..., str], kind: PageKind, key: str, codec: str, /,
                    **context: object) -> str:
    """Render a page through ``render(**context)``; at real weight with its chrome, sized to its target.

    The page is rendered once without the filler to learn what the rest weighs,
    then again with a filler of the difference.
    """
    chrome = replica.real_chrome
    if chrome is None:
        return render(**context)
    page = render(chrome=chrome.chrome(kind, key), **context)
    budget = chrome.target_bytes(kind, key) - len(page.encode(codec))
    if budget <= 0:
        return page
    return render(chrome=chrome.chrome(kind, key, budget, codec), **context)


def page_targets(replica: ReplicaSite) -> dict[PageKind, list[str]]:
    """The request targets of every page a crawl of the site fetches, by kind."""
    articles = [path for article in replica.articles for path in replica.article_page_paths(article)]
    home = [replica.definition.routes.home]
    lists = [replica.list_url(category.slug, page) for category in replica.definition.categories
             for page in range(1, replica.list_pages(category.slug) + 1)]
    return {"home": home, "list": lists, "article": articles}


def page_sizes(replica: ReplicaSite) -> dict[PageKind, list[int]]:
    """The size in bytes of every page of ``page_targets``, as served."""
    return {kind: [len(replica.respond(target, origin="http://127.0.0.1").body) for target in targets]
            for kind, targets in page_targets(replica).items()}
