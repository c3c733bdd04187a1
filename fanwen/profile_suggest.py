"""``fanwen profile suggest``: a starting site profile from one article page and one list page.

Pure functions over decoded pages; the command only fetches or reads them.

* body container: readability-style scoring (readability-lxml / trafilatura
  score paragraphs into their parent and grandparent); the best-scoring
  element's CSS selector becomes ``extract.body``;
* title: the ``<h1>`` whose text the ``<title>`` starts with (else ``<title>``);
  the ``<title>``'s suffix after the separator is the site's name;
* date: the smallest element near the title holding a date, outside the body;
* article links: the list page's links shaped like the article URL, the
  category segment generalised (the list page's own slug);
* list pager and the 下一页 link; continuation pages ``<id>_2.html``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from cssselect import SelectorError
from lxml import html

from pipelines.decoding import decode_html
from pipelines.main_content import locate_main_block
from pipelines.rules import compiled_selector
from pipelines.selector_trees import agrees, page_trees

_DATE = re.compile(r"(?:19|20)\d{2}[-/.年]\d{1,2}[-/.月]\d{1,2}")
_TITLE_SEPARATOR = re.compile(r"\s*(?:_|\||－|—|–| - |-)\s*")
_NEXT_WORDS = ("下一页", "下页", "后页", "下一頁")
_SLUG = "[a-z0-9_-]+"


@dataclass(frozen=True)
class Page:
    url: str
    root: html.HtmlElement
    encoding: str
    # The page as a browser builds it (None past the parse's bounds): the tree a user sees in the
    # developer tools, where a suggested selector must match what it matches in ``root``.
    browser_root: html.HtmlElement | None = None


def parse_page(body: bytes, url: str, content_type: str | None = None) -> Page:
    decoded = decode_html(body, content_type)
    trees = page_trees(decoded.text)
    return Page(url=url, root=trees.lxml_root, encoding=decoded.encoding, browser_root=trees.browser_root)


# -- CSS selectors for chosen elements ---------------------------------------------------------

def _own_selector(element: html.HtmlElement) -> str:
    ident = (element.get("id") or "").strip()
    if ident and re.fullmatch(r"[A-Za-z][\w-]*", ident):
        return f"#{ident}"
    classes = [c for c in (element.get("class") or "").split() if re.fullmatch(r"-?[A-Za-z_][\w-]*", c)]
    # A CMS's own tag with a colon in its name (<sohu_cms_include:frag>) is no CSS type selector:
    # cssselect would read it as a namespace.  Any element, narrowed by its classes and ancestors.
    tag = element.tag if isinstance(element.tag, str) and re.fullmatch(r"[A-Za-z][\w-]*", element.tag) else "*"
    return tag + "".join(f".{c}" for c in classes)


def css_for(element: html.HtmlElement, root: html.HtmlElement, max_depth: int = 4,
            browser_root: html.HtmlElement | None = None) -> str:
    """A selector whose first match in ``root`` is ``element``: its own tag/class/id, prefixed by ancestors if needed.

    Given ``browser_root``, the same page as a browser builds it, a selector matching
    differently there is passed over for one that matches the same in both trees: an
    ancestor that lxml and a browser place differently (a table that a browser moves
    content out of) is left out.  When none agrees, the first that picks ``element`` is kept.
    """
    parts = [_own_selector(element)]
    current = element
    disagreeing = None
    for _ in range(max_depth):
        selector = " ".join(reversed(parts))
        matches = compiled_selector(selector)(root)
        if matches and matches[0] is element:
            if browser_root is None or agrees(selector, root, browser_root):
                return selector
            disagreeing = disagreeing or selector
        current = current.getparent()
        if current is None or current.tag in ("html",):
            break
        if current.get("id") or current.get("class"):
            parts.append(_own_selector(current))
    if browser_root is not None:
        for ancestor in element.iterancestors():
            if ancestor.tag in ("body", "html"):
                break
            if not (ancestor.get("id") or ancestor.get("class")):
                continue
            selector = f"{_own_selector(ancestor)} {parts[0]}"
            try:
                matches = compiled_selector(selector)(root)
            except SelectorError:
                continue  # a tag name CSS cannot write (Word's <o:p>, a CMS's own namespaced tags)
            if matches and matches[0] is element and agrees(selector, root, browser_root):
                return selector
    return disagreeing or " ".join(reversed(parts))


# -- article page ------------------------------------------------------------------------------

def body_container(root: html.HtmlElement) -> html.HtmlElement | None:
    """The element holding the article's paragraphs: the locator generic extraction uses."""
    main = locate_main_block(root)
    if main is None or main.element.tag in ("body", "html"):
        return None
    return main.element


def _is_inside(element: html.HtmlElement, container: html.HtmlElement | None) -> bool:
    while element is not None:
        if element is container:
            return True
        element = element.getparent()
    return False


def site_name_and_title(root: html.HtmlElement) -> tuple[str | None, str]:
    document_title = re.sub(r"\s+", " ", root.findtext(".//title") or "").strip()
    parts = _TITLE_SEPARATOR.split(document_title)
    site_name = parts[-1].strip() if len(parts) > 1 and 2 <= len(parts[-1].strip()) <= 12 else None
    return site_name, document_title


def title_element(root: html.HtmlElement, document_title: str) -> html.HtmlElement | None:
    headings = [h for h in root.iter("h1") if h.text_content().strip()]
    for heading in headings:
        if document_title.startswith(heading.text_content().strip()):
            return heading
    return headings[0] if len(headings) == 1 else None


def date_element(root: html.HtmlElement, heading: html.HtmlElement | None, body: html.HtmlElement | None):
    """The smallest element after the title (and outside the body) whose text holds a date."""
    started = heading is None
    for element in root.iter():
        if element is heading:
            started = True
            continue
        if not started or not isinstance(element.tag, str) or element.tag in ("script", "style", "title", "a"):
            continue
        if body is not None and (_is_inside(element, body) or _is_inside(body, element)):
            continue
        text = element.text_content()
        if len(text) > 120 or not _DATE.search(text):
            continue
        if any(_DATE.search(child.text_content()) for child in element if isinstance(child.tag, str)):
            continue  # a child holds it: take the child
        return element
    return None


# -- URLs --------------------------------------------------------------------------------------

def _segments(url: str) -> list[str]:
    return urlsplit(url).path.split("/")


def _shape(segment: str) -> str:
    return re.sub(r"\d+", r"\\d+", re.escape(segment))


def article_url_pattern(article_url: str, list_url: str | None, list_links: list[str]) -> str:
    """Regex of article URLs: the article URL with digit runs generalised and its category slug a wildcard.

    A segment is a wildcard if it differs among the list page's article-shaped
    links, or if it is the list page's own category slug.
    """
    segments = _segments(article_url)
    shaped = [_segments(u) for u in list_links if len(_segments(u)) == len(segments)
              and re.fullmatch(_shape(segments[-1]), _segments(u)[-1])]
    list_slugs = {s for s in _segments(list_url)[1:] if s} if list_url else set()
    last_list_slug = [s for s in _segments(list_url) if s][-1:] if list_url else []
    pattern = []
    for position, segment in enumerate(segments[:-1]):
        values = {s[position] for s in shaped} | {segment}
        if segment and (len(values) > 1 or segment in last_list_slug or (segment in list_slugs and len(shaped) == 0)):
            pattern.append(_SLUG)
        else:
            pattern.append(re.escape(segment))
    last = _shape(segments[-1])
    # Old article URLs often end in .htm and answer with a redirect to the .html one (DedeCMS
    # sites that changed their URL rule, docs/site-families.md, "DedeCMS sites"): a list may still link the old form.
    pattern.append(last + "?" if last.endswith(r"\.html") else last)
    return "/".join(pattern) + "$"


# A pager suffix shaped like a CMS list file (index_\d+\.html, list_\d+_\d+\.html), as
# list_url_pattern writes it, and the pattern that accepts every such file name.
_PAGER_FILE = re.compile(r"[a-z]+(?:_\\d\+)+\\\.html?")
_ANY_PAGER_FILE = r"[a-z]+(?:_\d+)+\.html?"


def list_url_pattern(list_url: str, pager_links: list[str]) -> str:
    """Regex of list URLs: the list URL with its category slug a wildcard, plus an optional pager suffix."""
    parts = urlsplit(list_url)
    path_segments = parts.path.split("/")
    slug_index = max((i for i, s in enumerate(path_segments) if s), default=None)
    if slug_index is not None and not re.search(r"\.\w+$", path_segments[slug_index]):
        path_segments[slug_index] = _SLUG
        prefix = "/".join(re.escape(s) if i != slug_index else s for i, s in enumerate(path_segments))
    else:
        prefix = re.escape(parts.path)
    base = list_url.split("?")[0]
    suffixes: Counter[str] = Counter()
    for link in pager_links:
        if link.startswith(base) and link != list_url:
            rest = link[len(base):]
            if re.search(r"\d", rest):
                suffixes[re.sub(r"\d+", r"\\d+", re.escape(rest))] += 1
    if suffixes:
        suffix = suffixes.most_common(1)[0][0]
        if _PAGER_FILE.fullmatch(suffix):
            # A pager file (index_2.html): DedeCMS-style sites name the list pages of some
            # channels list_<tid>_<page>.html instead, so any such name is a list page
            # (docs/site-families.md, "List pages and pagers").
            suffix = _ANY_PAGER_FILE
        return f"{prefix}({suffix})?$"
    return f"{prefix}$"


def _links(page: Page) -> list[tuple[html.HtmlElement, str]]:
    host = urlsplit(page.url).netloc
    found = []
    for anchor in page.root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "#", "mailto:")):
            continue
        url = urljoin(page.url, href)
        if urlsplit(url).netloc == host:
            found.append((anchor, url))
    return found


def _link_group_selector(page: Page, anchors: list[html.HtmlElement]) -> str:
    """``<container> a`` for the container (with a class or id) that holds the most of ``anchors``."""
    counts: Counter[html.HtmlElement] = Counter()
    depth: dict[html.HtmlElement, int] = {}
    for anchor in anchors:
        level = 0
        for ancestor in anchor.iterancestors():
            level += 1
            if ancestor.tag in ("body", "html"):
                break
            if ancestor.get("id") or ancestor.get("class"):
                counts[ancestor] += 1
                depth.setdefault(ancestor, level)
                break  # the nearest marked container only: a page-wide wrapper must not win
    if not counts:
        return "a"
    best = max(counts, key=lambda element: counts[element])
    parent = best.getparent()
    if best.tag in ("ul", "ol", "dl", "table") and parent is not None and parent.tag not in ("body", "html") and (
        parent.get("id") or parent.get("class")
    ):
        # The column around the list: 瑞文 lists one category as .list_news and the next as
        # .list_pic inside the same column (docs/site-families.md, "The 瑞文系 network"), so the list's own
        # class is too narrow.
        best = parent
    return f"{css_for(best, page.root, browser_root=page.browser_root)} a"


def next_link_selector(page: Page, anchors: list[html.HtmlElement]) -> list[str]:
    """Selector of the 下一页 link among ``anchors`` (its class if it has one, else by its text)."""
    for anchor in anchors:
        text = anchor.text_content().strip()
        if any(word in text for word in _NEXT_WORDS) or text in (">", "»", "›"):
            container = css_for(anchor.getparent(), page.root, browser_root=page.browser_root)
            classes = (anchor.get("class") or "").split()
            if classes:
                return [f"{container} a.{classes[0]}"]
            return [f'{container} a:contains("{text}")']
    return []


# -- the profile ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Suggestion:
    name: str
    display_name: str
    site_name: str | None
    start_urls: list[str]
    list_url_pattern: str
    article_links: list[str]
    article_url_pattern: str
    next_list_page: list[str]
    title: list[str]
    body: list[str]
    date: list[str]
    next_page: list[str]
    encoding: str
    notes: list[str]


def _name_from_host(url: str) -> str:
    host = (urlsplit(url).hostname or "site").removeprefix("www.")
    label = re.sub(r"[^a-z0-9_]", "_", host.split(".")[0].lower())
    return label if re.match(r"^[a-z]", label) else f"site_{label}"


def suggest(article: Page, listing: Page | None = None, name: str | None = None) -> Suggestion:
    notes: list[str] = []
    site_name, document_title = site_name_and_title(article.root)
    heading = title_element(article.root, document_title)
    container = body_container(article.root)
    body = [css_for(container, article.root, browser_root=article.browser_root)] if container is not None else []
    if container is None:
        notes.append("no body container found: the generic detection will be used")
    dated = date_element(article.root, heading, container)
    date = [css_for(dated, article.root, browser_root=article.browser_root)] if dated is not None else []
    if dated is None:
        notes.append("no date element outside the body: the body's date line is used if there is one")
    title = [css_for(heading, article.root, browser_root=article.browser_root)] if heading is not None else []
    for field, selectors in (("title", title), ("body", body), ("date", date)):
        if article.browser_root is not None and selectors and not agrees(selectors[0], article.root,
                                                                          article.browser_root):
            notes.append(f"extract.{field} {selectors[0]!r} matches differently in a browser's tree "
                         "(no selector found that matches the same in both): see `fanwen profile check`")

    # Continuation pages: links to "<article path stem>_<n>.<ext>".
    stem, _, extension = urlsplit(article.url).path.rpartition(".")
    continued = re.compile(re.escape(stem) + r"_\d+\." + re.escape(extension) + "$") if stem else None
    continuation = [a for a, url in _links(article) if continued and continued.search(urlsplit(url).path)]
    next_page = [_link_group_selector(article, continuation)] if continuation else []
    onward = [a for a in continuation if any(word in a.text_content() for word in _NEXT_WORDS)]
    if onward:
        # Later pages may hold their pager in another container (DedeCMS: #TxtPart on page 1,
        # #ArtCutPage after it); the 下一页 link itself looks the same on every page
        # (docs/site-families.md, "Continuation pages").
        classes = (onward[0].get("class") or "").split()
        text = next(word for word in _NEXT_WORDS if word in onward[0].text_content())
        next_page.append(f"a.{classes[0]}" if classes else f'a:contains("{text}")')

    origin = "{0.scheme}://{0.netloc}".format(urlsplit(article.url))
    if listing is not None:
        links = _links(listing)
        article_pattern = article_url_pattern(article.url, listing.url, [u for _, u in links])
        compiled = re.compile(article_pattern)
        article_anchors = [a for a, url in links if compiled.search(url)]
        article_links = [_link_group_selector(listing, article_anchors)] if article_anchors else ["a"]
        pager_urls = [url for _, url in links if not compiled.search(url)]
        list_pattern = list_url_pattern(listing.url, pager_urls)
        list_compiled = re.compile(list_pattern)
        pager_anchors = [a for a, url in links if list_compiled.search(url) and url != listing.url]
        next_list = next_link_selector(listing, pager_anchors)
        if not next_list:
            notes.append("no 下一页 link on the list page: only its first page is read")
        parent = listing.url.split("?")[0].rstrip("/").rpartition("/")[0] + "/"
        start_urls = list(dict.fromkeys([origin + "/", parent]))
        start_urls = [u for u in start_urls if not list_compiled.search(u)] or [listing.url]
    else:
        article_pattern = article_url_pattern(article.url, None, [])
        article_links, list_pattern, next_list = ["a"], r"/$", []
        start_urls = [origin + "/"]
        notes.append("no list page given: start pages are read as lists of all their article-shaped links")
    return Suggestion(
        name=name or _name_from_host(article.url),
        display_name=site_name or (urlsplit(article.url).hostname or "site"),
        site_name=site_name,
        start_urls=start_urls,
        list_url_pattern=list_pattern,
        article_links=article_links,
        article_url_pattern=article_pattern,
        next_list_page=next_list,
        title=title,
        body=body,
        date=date,
        next_page=next_page,
        encoding=article.encoding,
        notes=notes,
    )


def _toml_string(value: str) -> str:
    if "'" not in value and "\n" not in value:
        return f"'{value}'"  # literal string: regexes stay readable
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(_toml_string(v) for v in values) + "]"


def render_profile(suggestion: Suggestion) -> str:
    s = suggestion
    lines = [
        f"# Suggested by `fanwen profile suggest` from {s.start_urls[0]}: a starting point, to be checked",
        "# with `fanwen profile check` on saved pages before crawling.",
        *(f"# note: {note}" for note in s.notes),
        f"name = {_toml_string(s.name)}",
        f"display_name = {_toml_string(s.display_name)}",
        f"start_urls = {_toml_list(s.start_urls)}",
        "",
        "[navigation]",
        "# Start pages are channel/home pages: every link on them that matches list_url_pattern is a list.",
        'list_links = ["a"]',
        f"list_url_pattern = {_toml_string(s.list_url_pattern)}",
        f"article_links = {_toml_list(s.article_links)}",
        f"article_url_pattern = {_toml_string(s.article_url_pattern)}",
        f"next_list_page = {_toml_list(s.next_list_page)}",
        "",
        "[politeness]",
        "download_delay = 3.0",
        "concurrency = 1",
        "obey_robots = true",
        "",
        "[schedule]",
        'cron = "30 4 * * *"',
        "",
        "[extract]",
    ]
    if s.site_name:
        lines.append(f"site_name = {_toml_string(s.site_name)}")
    lines += [
        f"title = {_toml_list(s.title)}",
        f"body = {_toml_list(s.body)}",
        f"date = {_toml_list(s.date)}",
        f"next_page = {_toml_list(s.next_page)}",
        f"# pages decoded as {s.encoding}; set encoding = \"...\" only if the site's declarations lie",
    ]
    return "\n".join(lines) + "\n"
