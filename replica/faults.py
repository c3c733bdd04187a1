"""Bad input, HTTP faults and crawler traps, served by replica site B (docs/reliability.md).

Each fault is an article URL in the channel ``/fanwen/guzhang/`` (so the site's
profile follows it like any article); each trap is a channel of its own.  None
of them is linked from the site's main channel: a test starts a crawl at them.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from .site import ReplicaResponse

if TYPE_CHECKING:
    from .dedecms import DedecmsSite

FAULT_CHANNEL = "guzhang"
FIRST_FAULT_ID = 90000001

# Article URL id -> fault, in the order the fault list links them.
FAULTS: tuple[str, ...] = (
    "empty_body", "pdf_as_html", "oversize", "anti_bot", "javascript_only", "empty_after_cleaning", "mojibake",
    "http_404", "http_410", "http_500", "http_502_then_ok", "http_503_retry_after_then_ok", "http_429_retry_after",
    "timeout", "connection_reset", "redirect_loop", "redirect_other_domain", "redirect_not_http",
    "good", "good_2",
)
FAULT_IDS = {name: FIRST_FAULT_ID + index for index, name in enumerate(FAULTS)}
OVERSIZE_BYTES = 3 * 1024 * 1024  # above the DOWNLOAD_MAXSIZE the fault tests set (1 MiB)
RETRY_AFTER_SECONDS = 1
# Listed by a trap channel: (channel, what it does).
TRAP_CHANNELS = ("xianjing", "rili", "huixuan", "genzong")
TRACKING_SUFFIXES = ("?utm_source=weixin&utm_medium=share", "?from=timeline&spm=a2c4e.11153940.0.0", "")

LOOP_PARTNER = f"/fanwen/{FAULT_CHANNEL}/loop_b.html"  # redirects back to the redirect_loop fault
# Redirects into the crawler's own network (a loopback admin page): refused when the
# replica is reached as a public host (through a proxy, as tests/test_faults.py does).
PRIVATE_REDIRECT = f"/fanwen/{FAULT_CHANNEL}/to_private.html"
PRIVATE_TARGET = "http://127.0.0.1:9/admin/"

_META = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312" />'


def fault_path(name: str) -> str:
    return f"/fanwen/{FAULT_CHANNEL}/{FAULT_IDS[name]}.html"


def _gbk_page(title: str, body: str, status: int = 200, content_type: str = "text/html") -> ReplicaResponse:
    page = (f"<!DOCTYPE html>\n<html><head>{_META}\n<title>{html.escape(title)}_第一范文网</title></head>\n"
            f"<body>\n{body}\n</body></html>\n")
    return ReplicaResponse(status, content_type, page.encode("gb18030"))


def _list_page(title: str, links: list[tuple[str, str]], pager: list[tuple[str, str]], extra: str = "") -> ReplicaResponse:
    items = "".join(f'<li><a href="{html.escape(href)}">{html.escape(text)}</a></li>' for href, text in links)
    pager_html = " ".join(f'<a href="{html.escape(href)}">{text}</a>' for href, text in pager)
    body = (f'<div id="Position">当前位置：<a href="/">第一范文网</a> &gt; <a href="/fanwen/">范文大全</a> &gt; '
            f'<a href="#">{html.escape(title)}</a></div>\n<div id="AListBox"><ul>{items}</ul></div>\n'
            f'<div id="CutPage">{pager_html}</div>\n{extra}')
    return _gbk_page(title, body)


def _article_body(title: str, paragraphs: list[str], extra: str = "") -> str:
    ps = "".join(f"<p>　　{html.escape(p)}</p>" for p in paragraphs)
    return (f'<div id="ArtContent">\n<h1>{html.escape(title)}</h1>\n<div class="info">发布时间：2024-03-05 来源：第一范文网</div>\n'
            f"{ps}{extra}\n</div>")


def respond(site: DedecmsSite, path: str, target: str, origin: str) -> ReplicaResponse | None:
    parts = path.strip("/").split("/")
    if len(parts) < 2 or parts[0] != "fanwen":
        return None
    channel = parts[1]
    if channel == FAULT_CHANNEL:
        if len(parts) == 2 or parts[2] in ("", "index.html"):
            return _list_page("故障页", [(fault_path(name), name) for name in FAULTS], [])
        if path == PRIVATE_REDIRECT:
            return ReplicaResponse(302, "text/html", b"", headers=(("Location", PRIVATE_TARGET),))
        if path == LOOP_PARTNER:
            return ReplicaResponse(302, "text/html", b"", headers=(("Location", f"{origin}{fault_path('redirect_loop')}"),))
        try:
            name = FAULTS[int(parts[2].removesuffix(".html")) - FIRST_FAULT_ID]
        except (ValueError, IndexError):
            return None
        site.hits[path] = site.hits.get(path, 0) + 1
        return _fault(site, name, site.hits[path], origin)
    if channel in TRAP_CHANNELS:
        return _trap(site, channel, parts[2] if len(parts) > 2 else "", origin)
    return None


def _fault(site: DedecmsSite, name: str, hit: int, origin: str) -> ReplicaResponse:
    if name in ("good", "good_2"):
        article = site.articles[FAULTS.index(name) - FAULTS.index("good")]
        return _gbk_page(article.title, _article_body(article.title, list(article.shown)))
    if name == "empty_body":
        return ReplicaResponse(200, "text/html", b"")
    if name == "pdf_as_html":
        pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(range(256)) * 40 + b"%%EOF\n"
        return ReplicaResponse(200, "text/html; charset=gbk", pdf)
    if name == "oversize":
        paragraph = "<p>　　" + "这是一段很长的重复内容。" * 40 + "</p>"
        filler = paragraph * (OVERSIZE_BYTES // len(paragraph.encode("gb18030")) + 1)
        return _gbk_page("超大页面", _article_body("超大页面", [], filler))
    if name == "anti_bot":
        return _gbk_page("安全验证", '<div class="verify"><h2>安全验证</h2><p>您的访问过于频繁，请完成下方验证后继续访问。</p>'
                                     '<div id="captcha"></div><script src="/_guard/verify.js"></script></div>')
    if name == "javascript_only":
        return _gbk_page("加载中", '<div id="app"></div><script>document.getElementById("app").innerHTML='
                                   'atob("5q2j5paH5YaF5a65");</script><noscript>请开启JavaScript</noscript>')
    if name == "empty_after_cleaning":
        ads = '<div id="Hzh1"><a href="/fanwen/">第一范文网推荐：工作总结范文大全</a></div><div id="Print">打印本文</div>'
        return _gbk_page("空白文章", _article_body("空白文章", [], ads))
    if name == "mojibake":
        # A template in GBK around content pasted in UTF-8, as half-migrated sites serve it.
        article = site.articles[2]
        utf8 = "".join(f"<p>　　{p}</p>" for p in article.shown).encode("utf-8")
        head = f"<html><head>{_META}<title>{article.title}</title></head><body><div id=\"ArtContent\"><h1>{article.title}</h1>"
        return ReplicaResponse(200, "text/html", head.encode("gb18030") + utf8 + "</div></body></html>".encode("gb18030"))
    if name in ("http_404", "http_410", "http_500"):
        status = int(name[-3:])
        return _gbk_page("错误", f"<p>错误 {status}</p>", status=status)
    if name == "http_502_then_ok" and hit <= 2:
        return ReplicaResponse(502, "text/html", b"<html><body>502 Bad Gateway</body></html>")
    if name == "http_503_retry_after_then_ok" and hit <= 1:
        return ReplicaResponse(503, "text/html", b"<html><body>503</body></html>",
                               headers=(("Retry-After", str(RETRY_AFTER_SECONDS)),))
    if name == "http_429_retry_after":  # never heals: retried, then recorded
        return ReplicaResponse(429, "text/html", b"<html><body>429 Too Many Requests</body></html>",
                               headers=(("Retry-After", str(RETRY_AFTER_SECONDS)),))
    if name in ("http_502_then_ok", "http_503_retry_after_then_ok"):
        article = site.articles[3 if name == "http_502_then_ok" else 4]
        return _gbk_page(article.title, _article_body(article.title, list(article.shown)))
    if name == "timeout":
        return ReplicaResponse(200, "text/html", b"", action="hang")
    if name == "connection_reset":
        return ReplicaResponse(200, "text/html", b"", action="reset")
    if name == "redirect_loop":
        return ReplicaResponse(302, "text/html", b"", headers=(("Location", f"{origin}{LOOP_PARTNER}"),))
    if name == "redirect_other_domain":
        port = origin.rsplit(":", 1)[-1]
        return ReplicaResponse(302, "text/html", b"", headers=(("Location", f"http://localhost:{port}{fault_path('good')}"),))
    if name == "redirect_not_http":
        return ReplicaResponse(302, "text/html", b"", headers=(("Location", "ftp://files.example.com/fanwen.doc"),))
    raise AssertionError(name)


def _trap(site: DedecmsSite, channel: str, leaf: str, origin: str) -> ReplicaResponse | None:
    page = 1
    if leaf.startswith("index_") and leaf.endswith(".html"):
        try:
            page = int(leaf[6:-5])
        except ValueError:
            return None
    elif leaf not in ("", "index.html"):
        return None
    articles = site.articles
    base = f"/fanwen/{channel}/"
    url = lambda n: base if n == 1 else f"{base}index_{n}.html"  # noqa: E731
    if channel == "xianjing":
        # Endless pagination: every page has a next page, each listing one real article.
        article = articles[page % len(articles)]
        return _list_page("无尽分页", [(article.path, article.title)], [(url(page + 1), "下一页")])
    if channel == "rili":
        # A calendar: every day links the day before and after, forever; the pager itself ends at page 2.
        day = page if page > 1000 else 20240101
        calendar = (f'<div id="Calendar"><a href="{url(day - 1)}">前一天</a> <a href="{url(day + 1)}">后一天</a>'
                    f' <a href="{url(day + 100)}">下个月</a></div>')
        pager = [(url(2), "下一页")] if page == 1 else []
        return _list_page("日历", [(articles[page % 7].path, articles[page % 7].title)], pager, calendar)
    if channel == "huixuan":
        # Page 3's "next page" is page 1 again.
        article = articles[10 + page]
        return _list_page("回旋分页", [(article.path, article.title)], [(url(page % 3 + 1), "下一页")])
    if channel == "genzong":
        # One article linked under three URLs that differ only in tracking parameters.
        article = articles[20]
        links = [(article.path + suffix, article.title) for suffix in TRACKING_SUFFIXES]
        return _list_page("跟踪参数", links, [])
    return None
