"""The page layouts of the over-deletion trap pages (replica/trap_pages.py).

Nine families of article page, each unlike the replica sites' templates: a news
CMS with two sidebars and comments, a WordPress post, an old table-layout site in
GBK, a bare page of ``<div>`` paragraphs, a blog with a tag cloud, a mobile page,
a document library's paged preview, a forum thread and a page with no class
names at all.  A layout renders a ``Sheet`` (the text and what surrounds it) to
HTML and names the chrome strings it showed, which no clean text may contain.
Every string here is chrome: the speech comes from the sheet only.
"""

from __future__ import annotations

import datetime
import html
import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Notice:
    """A preview or paywall notice, and the button some sites put under it."""

    line: str
    button: str | None = None


@dataclass(frozen=True)
class Sheet:
    """What one page shows: the text, where it was cut, and material for the chrome around it."""

    number: int  # the article's id on its site
    title: str
    published: datetime.datetime
    speech: tuple[str, ...]
    notice: Notice | None  # set when the page cuts the text short
    related: tuple[str, ...]  # titles of other texts, for related-reading lists
    meta: str  # the page's own charset declaration (it may disagree with the header)


Rendered = tuple[str, list[str]]  # the HTML, and the chrome strings it shows


@dataclass(frozen=True)
class Encoding:
    header: str | None  # the Content-Type header value
    meta: str  # what the page declares in <head>
    codec: str  # what the bytes are


UTF8 = Encoding("text/html; charset=utf-8", '<meta charset="utf-8">', "utf-8")
UTF8_BARE_HEADER = Encoding("text/html", '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">', "utf-8")
UTF8_NO_HEADER = Encoding(None, '<meta charset="UTF-8">', "utf-8")
# A server's default header against the page's own declaration (docs/site-families.md, "Encodings and charset quirks").
UTF8_LATIN1_HEADER = Encoding("text/html; charset=ISO-8859-1", '<meta charset="utf-8">', "utf-8")
UTF8_GBK_HEADER = Encoding("text/html; charset=gbk", '<meta charset="utf-8">', "utf-8")
GBK = Encoding("text/html; charset=gbk", '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">', "gbk")
GBK_BARE_HEADER = Encoding("text/html", '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">', "gbk")
GBK_UTF8_HEADER = Encoding("text/html; charset=utf-8",
                           '<meta http-equiv="Content-Type" content="text/html; charset=gbk">', "gbk")
GBK_NO_HEADER = Encoding(None, '<meta charset="gbk">', "gbk")


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def _cn_date(moment: datetime.datetime) -> str:
    return f"{moment.year}年{moment.month}月{moment.day}日"


def _links(titles, href: str, number: int, wrap: str = "<li>{}</li>") -> str:
    return "".join(wrap.format(f'<a href="{href.format(number + i)}">{esc(t)}</a>') for i, t in enumerate(titles))


_NAV = ("首页", "讲话稿", "发言稿", "致辞", "主持词", "心得体会", "工作总结", "工作计划", "述职报告", "汇报材料",
        "演讲稿", "调研报告", "党课讲稿", "公文写作", "思想汇报", "申请书")
_COMMENTS = (
    "讲得很实在，基层就需要这样的讲话。", "收藏了，下周开会正好用得上。", "第二部分写得特别好，思路清晰。",
    "请问有没有完整的Word版？", "学习了，感谢分享！", "文章结构很规范，值得借鉴。", "写得接地气，点个赞。",
    "能不能再多发一些类似的讲话稿？",
)
_REPLIES = (
    "感谢楼主分享，正在写类似的材料。", "楼主辛苦了，条理清楚，学习了。", "求全文，能发一份到我邮箱吗？",
    "顶一个，这篇比我找的那几篇都实在。", "沙发！先收藏再慢慢看。", "第三部分的提法很新，借用一下。",
    "写材料的都不容易，互相学习。", "mark，明天开会要用。",
)
_ADS = (
    "2024年公文写作能力提升培训班火热报名中", "领导讲话稿精选合集", "述职报告模板免费领", "办公用品批发一件代发",
    "各类材料原创代写加急可做", "党建展板设计制作", "机关食堂承包", "职称论文发表咨询",
)


def _pick(rng: random.Random, items, count: int) -> list[str]:
    return rng.sample(list(items), count)


def _nav(count: int, rng: random.Random) -> list[str]:
    return ["首页", *_pick(rng, _NAV[1:], count - 1)]


def _ad_after(sheet: Sheet, rng: random.Random) -> int | None:
    """Where an in-body ad goes: between two speech paragraphs, never before the first or after the last."""
    if len(sheet.speech) < 4:
        return None
    return rng.randrange(1, len(sheet.speech) - 2)


# -- news CMS: two sidebars, info line, tools, comments ---------------------------------------

def news_cms(sheet: Sheet, rng: random.Random) -> Rendered:
    site, n = "鹤山新闻网", sheet.number
    nav = _nav(14, rng)
    ad_at = _ad_after(sheet, rng)
    ads = _pick(rng, _ADS, 2)
    paragraphs = []
    for i, text in enumerate(sheet.speech):
        paragraphs.append(f'<p style="text-indent:2em;">{esc(text)}</p>')
        if i == ad_at:
            paragraphs.append(f'<div class="inner-ad"><a href="/zt/{n}/1.html">{esc(ads[0])}</a>'
                              f' <a href="/zt/{n}/2.html">{esc(ads[1])}</a></div>')
    notice = ""
    if sheet.notice:
        button = sheet.notice.button and f'<a class="btn-buy" href="/pay/{n}.html">{esc(sheet.notice.button)}</a>'
        notice = f'<div class="readmore"><p>{esc(sheet.notice.line)}</p>{button or ""}</div>'
    comments = _pick(rng, _COMMENTS, 3)
    users = ("清风徐来", "山高水长", "基层小李")
    when = sheet.published
    comment_items = "".join(f'<li><span class="user">网友 {user}</span> <span class="time">{when:%Y-%m-%d}</span>'
                            f'<p>{esc(comment)}</p></li>' for user, comment in zip(users, comments))
    info = f"发布时间：{when:%Y-%m-%d %H:%M}　来源：县委办公室　作者：综合科　浏览次数：{1000 + n % 9000}"
    page = f"""<!DOCTYPE html>
<html><head>{sheet.meta}<title>{esc(sheet.title)} - {site}</title>
<link rel="stylesheet" href="/css/main.css"></head>
<body>
<div id="top"><div class="topbar">欢迎访问{site}　<a href="/member/login.php">登录</a> <a href="/member/reg.php">注册</a> <a href="javascript:;">设为首页</a> <a href="javascript:;">加入收藏</a></div>
<h1 class="logo"><a href="/">{site}</a></h1>
<ul class="menu">{"".join(f'<li><a href="/c/{i}/">{t}</a></li>' for i, t in enumerate(nav))}</ul></div>
<div class="crumb">您现在的位置：<a href="/">首页</a> &raquo; <a href="/c/1/">领导讲话</a> &raquo; 正文</div>
<div class="wrap">
<div class="col-l"><h3>栏目导航</h3><ul>{"".join(f'<li><a href="/c/{i}/">{t}</a></li>' for i, t in enumerate(nav[1:8]))}</ul>
<h3>专题专栏</h3><ul><li><a href="/zt/1/">作风建设年</a></li><li><a href="/zt/2/">营商环境</a></li></ul></div>
<div class="col-m">
<h2 class="art-title">{esc(sheet.title)}</h2>
<div class="art-info">{info}</div>
<div class="art-tools">【字体：<a href="javascript:;">大</a> <a href="javascript:;">中</a> <a href="javascript:;">小</a>】【<a href="javascript:print();">打印</a>】【<a href="javascript:close();">关闭</a>】</div>
<div id="zoom" class="art-body">
{chr(10).join(paragraphs)}
</div>
{notice}
<div class="share">分享到：<a href="javascript:;">微信</a> <a href="javascript:;">微博</a> <a href="javascript:;">QQ空间</a> <a href="javascript:;">复制链接</a></div>
<div class="prevnext"><p>上一篇：<a href="/a/{n - 1}.html">{esc(sheet.related[0])}</a></p><p>下一篇：<a href="/a/{n + 1}.html">{esc(sheet.related[1])}</a></p></div>
<div class="comments"><h3>网友评论（{len(comments)}）</h3><ul>
{comment_items}
</ul><form action="/comment/post.php"><textarea name="msg"></textarea><button>发表评论</button></form></div>
</div>
<div class="col-r"><h3>热点排行</h3><ol>{_links(sheet.related[2:8], "/a/{}.html", n + 10)}</ol>
<div class="qr"><img src="/images/qr.png" alt="二维码"><p>扫一扫，关注{site}微信公众号</p></div></div>
</div>
<div class="footer"><p>主办：鹤山县融媒体中心　承办：鹤山新闻网编辑部</p><p>Copyright &copy; 2012-2024 {site} 版权所有　湘ICP备13005218号-2</p></div>
</body></html>"""
    chrome = [site, info, "您现在的位置", "专题专栏", "热点排行", "作风建设年", "分享到", "QQ空间", "复制链接", "加入收藏",
              "网友评论", *comments, *ads, "湘ICP备13005218号", "鹤山县融媒体中心", f"扫一扫，关注{site}微信公众号",
              *sheet.related[:8]]
    return page, chrome + _notice_chrome(sheet)


def _notice_chrome(sheet: Sheet) -> list[str]:
    if not sheet.notice:
        return []
    return [sheet.notice.line] + ([sheet.notice.button] if sheet.notice.button else [])


# -- WordPress-like post ------------------------------------------------------------------------

def wp_post(sheet: Sheet, rng: random.Random) -> Rendered:
    site, n, when = "笔耕园", sheet.number, sheet.published
    ad_at = _ad_after(sheet, rng)
    body = []
    for i, text in enumerate(sheet.speech):
        body.append(f"<p>{esc(text)}</p>")
        if i == ad_at:
            body.append(f'<div class="wp-block-image"><a href="/go/{n}"><img src="/wp-content/uploads/banner-{n}.jpg"'
                        ' alt="范文精选"></a></div>')
    if sheet.notice:
        body.append(f'<p class="more-tip">{esc(sheet.notice.line)}</p>')
        if sheet.notice.button:
            body.append('<div class="wp-block-buttons"><a class="wp-block-button__link" href="/vip/">'
                        f'{esc(sheet.notice.button)}</a></div>')
    tags = _pick(rng, ("讲话稿", "范文", "会议讲话", "年终总结", "表态发言", "基层党建"), 3)
    comments = _pick(rng, _COMMENTS, 2)
    page = f"""<!DOCTYPE html>
<html lang="zh-CN"><head>{sheet.meta}
<title>{esc(sheet.title)} &#8211; {site}</title>
<link rel='stylesheet' id='twentytwenty-style-css' href='/wp-content/themes/twentytwenty/style.css' media='all' /></head>
<body class="post-template-default single single-post postid-{n}">
<div id="page" class="site">
<header id="masthead" class="site-header"><div class="site-branding"><h1 class="site-title"><a href="/" rel="home">{site}</a></h1>
<p class="site-description">记录一个文字工作者的日常</p></div>
<nav id="site-navigation" class="main-navigation"><ul id="primary-menu" class="menu">{"".join(f'<li class="menu-item"><a href="/category/{i}/">{t}</a></li>' for i, t in enumerate(_nav(10, rng)))}</ul></nav></header>
<div id="content" class="site-content"><div id="primary" class="content-area"><main id="main" class="site-main">
<article id="post-{n}" class="post-{n} post type-post status-publish format-standard hentry">
<header class="entry-header"><h1 class="entry-title">{esc(sheet.title)}</h1>
<div class="entry-meta"><span class="posted-on">发表于 <time class="entry-date published" datetime="{when:%Y-%m-%dT%H:%M:%S}+08:00">{_cn_date(when)}</time></span> <span class="byline">作者 <a href="/author/laozhou/">老周</a></span> <span class="cat-links">分类：<a href="/category/1/">讲话稿</a></span></div></header>
<div class="entry-content">
{chr(10).join(body)}
</div>
<footer class="entry-footer"><span class="tags-links">标签：{"、".join(f'<a href="/tag/{t}/" rel="tag">{t}</a>' for t in tags)}</span></footer>
<div class="sharedaddy sd-sharing-enabled"><h3 class="sd-title">分享此文：</h3><ul><li><a class="share-wechat" href="#">微信</a></li><li><a class="share-weibo" href="#">微博</a></li><li><a class="share-print" href="#">打印</a></li></ul></div>
</article>
<nav class="navigation post-navigation"><h2 class="screen-reader-text">文章导航</h2><div class="nav-links"><div class="nav-previous"><a href="/{n - 1}/" rel="prev"><span class="meta-nav">上一篇</span> {esc(sheet.related[0])}</a></div><div class="nav-next"><a href="/{n + 1}/" rel="next"><span class="meta-nav">下一篇</span> {esc(sheet.related[1])}</a></div></div></nav>
<div id="comments" class="comments-area"><h2 class="comments-title">《{esc(sheet.title)}》有{len(comments)}条评论</h2>
<ol class="comment-list">{"".join(f'<li class="comment"><div class="comment-author"><b class="fn">访客{i + 1}</b> 说道：</div><div class="comment-content"><p>{esc(c)}</p></div></li>' for i, c in enumerate(comments))}</ol>
<div id="respond" class="comment-respond"><h3 id="reply-title">发表回复</h3><p class="comment-notes">您的电子邮箱地址不会被公开。</p></div></div>
</main></div>
<aside id="secondary" class="widget-area"><section class="widget widget_recent_entries"><h2 class="widget-title">近期文章</h2><ul>{_links(sheet.related[2:7], "/{}/", n + 20)}</ul></section>
<section class="widget widget_media_image"><img src="/wp-content/uploads/qrcode.jpg" alt="公众号"><p>微信扫码，关注{site}</p></section></aside>
</div>
<footer id="colophon" class="site-footer"><div class="site-info">&copy; 2024 {site} 版权所有　<a href="https://beian.miit.gov.cn/">浙ICP备19022031号</a>　自豪地采用WordPress</div></footer>
</div></body></html>"""
    chrome = [site, "记录一个文字工作者的日常", "分享此文", "文章导航", "发表回复", "近期文章", *comments,
              "您的电子邮箱地址不会被公开", "浙ICP备19022031号", "自豪地采用WordPress", f"微信扫码，关注{site}",
              "说道：", *sheet.related[:7]]
    return page, chrome + _notice_chrome(sheet)


# -- old table layout, GBK --------------------------------------------------------------------

def table_layout(sheet: Sheet, rng: random.Random) -> Rendered:
    site, n, when = "南岭县人民政府", sheet.number, sheet.published
    lines = "<br>\r\n".join(f"&nbsp;&nbsp;&nbsp;&nbsp;{esc(text)}" for text in sheet.speech)
    notice = ""
    if sheet.notice:
        notice = f'<br>\r\n<font color="#FF0000">{esc(sheet.notice.line)}</font>'
        if sheet.notice.button:
            notice += f'&nbsp;<a href="/user/login.asp?id={n}"><b>{esc(sheet.notice.button)}</b></a>'
    menu = " | ".join(f'<a href="/col/col{i}/index.html">{t}</a>' for i, t in enumerate(
        ("首 页", "政务公开", "领导讲话", "政策文件", "工作动态", "政民互动", "办事服务", "走进南岭")))
    page = f"""<html>
<head>
{sheet.meta}
<title>{esc(sheet.title)}</title>
<link href="/images/style.css" rel="stylesheet" type="text/css">
</head>
<body topmargin="0" leftmargin="0">
<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0">
<tr><td class="banner" height="120"><h1>{site}门户网站</h1></td></tr>
<tr><td class="menu" height="36">{menu}</td></tr>
</table>
<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0">
<tr><td class="weizhi" height="30">您现在的位置：<a href="/">首页</a> &gt;&gt; <a href="/col/col2/index.html">领导讲话</a> &gt;&gt; 正文</td></tr>
</table>
<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0" class="main">
<tr>
<td width="220" valign="top" class="left"><table width="100%"><tr><td class="lm">领导讲话</td></tr>
<tr><td><a href="/col/col21/">县委书记</a><br><a href="/col/col22/">县长</a><br><a href="/col/col23/">副县长</a></td></tr></table></td>
<td width="780" valign="top">
<table width="96%" border="0" align="center" cellpadding="0" cellspacing="0">
<tr><td align="center" class="title" height="50"><b><font size="4">{esc(sheet.title)}</font></b></td></tr>
<tr><td align="center" class="info" height="30">日期: {_cn_date(when)}&nbsp;&nbsp;来源：县政府办公室&nbsp;&nbsp;字体：〖<a href="javascript:;">大</a> <a href="javascript:;">中</a> <a href="javascript:;">小</a>〗</td></tr>
<tr><td class="content" style="font-size:16px;line-height:30px">
{lines}{notice}
</td></tr>
<tr><td align="right" height="40">【<a href="javascript:window.print()">打印本页</a>】【<a href="javascript:window.close()">关闭窗口</a>】</td></tr>
</table>
</td></tr></table>
<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0">
<tr><td class="bottom" align="center">主办单位：{site}办公室　承办单位：南岭县大数据中心<br>
版权所有：{site}　湘ICP备05003326号　网站标识码：4311250001<br>
湘公网安备 43112502000118号　<img src="/images/jiucuo.png" alt="政府网站找错"></td></tr>
</table>
</body>
</html>"""
    chrome = [site, "政务公开", "走进南岭", "您现在的位置", "县委书记", "打印本页", "关闭窗口", "南岭县大数据中心",
              "湘ICP备05003326号", "网站标识码", "公网安备", "字体：〖"]
    return page, chrome + _notice_chrome(sheet)


# -- bare page: paragraphs are <div>s ---------------------------------------------------------

def bare_divs(sheet: Sheet, rng: random.Random) -> Rendered:
    site, n, when = "文稿驿站", sheet.number, sheet.published
    ad_at = _ad_after(sheet, rng)
    ads = _pick(rng, _ADS, 2)
    rows = []
    for i, text in enumerate(sheet.speech):
        rows.append(f"<div>\u3000\u3000{esc(text)}</div>")
        if i == ad_at:
            rows.append(f'<div><a href="/tg/{n}a">{esc(ads[0])}</a> | <a href="/tg/{n}b">{esc(ads[1])}</a></div>')
    if sheet.notice:
        rows.append(f"<div>{esc(sheet.notice.line)}</div>")
        if sheet.notice.button:
            rows.append(f'<div><a href="/pay/?aid={n}">{esc(sheet.notice.button)}</a></div>')
    page = f"""<html><head>{sheet.meta}<title>{esc(sheet.title)}_{site}</title></head>
<body>
<div id="hd"><h1>{site}</h1><div>{" ".join(f'<a href="/list/{i}/">{t}</a>' for i, t in enumerate(_nav(12, rng)))}</div></div>
<div id="bd">
<div id="pos">位置：<a href="/">{site}</a> / <a href="/list/2/">发言稿</a> / 正文</div>
<h2>{esc(sheet.title)}</h2>
<div id="meta">{when:%Y-%m-%d} 作者：陈默</div>
<div id="txt">
{chr(10).join(rows)}
</div>
<div id="tools">收藏本页 | 打印 | 纠错</div>
<div id="more"><b>你可能还喜欢</b><br>{"<br>".join(f'<a href="/a/{n + i}.html">{esc(t)}</a>' for i, t in enumerate(sheet.related[:5]))}</div>
</div>
<div id="ft">{site} 版权所有 &copy; 2010-2024　苏ICP备10201466号　联系站长：QQ 80012345</div>
</body></html>"""
    chrome = [site, "作者：陈默", "收藏本页", "你可能还喜欢", "苏ICP备10201466号", "联系站长", *ads, *sheet.related[:5]]
    return page, chrome + _notice_chrome(sheet)


# -- blog: the post in <section>, tag cloud and author box after it ----------------------------

def blog_sections(sheet: Sheet, rng: random.Random) -> Rendered:
    site, n, when = "闲庭信步的博客", sheet.number, sheet.published
    ad_at = _ad_after(sheet, rng)
    body = []
    for i, text in enumerate(sheet.speech):
        body.append(f"<p>{esc(text)}</p>")
        if i == ad_at:
            body.append(f'<a href="/shop/?from=post{n}"><img src="/img/ad-{n % 5}.gif" alt="文具特卖" width="600"></a>')
    paywall = ""
    if sheet.notice:
        button = f"<button>{esc(sheet.notice.button)}</button>" if sheet.notice.button else ""
        paywall = f'<section class="paywall"><p>{esc(sheet.notice.line)}</p>{button}</section>'
    cloud = ("讲话稿", "党建", "乡村振兴", "营商环境", "作风建设", "述职", "心得", "安全生产", "教育", "基层治理",
             "年终总结", "表态发言")
    page = f"""<!DOCTYPE html><html><head>{sheet.meta}<title>{esc(sheet.title)} | {site}</title></head>
<body>
<header class="blog-header"><h1 class="blog-name"><a href="/">{site}</a></h1><p class="motto">读书、写字、过日子</p>
<nav>{" ".join(f'<a href="/category/{i}">{t}</a>' for i, t in enumerate(_nav(8, rng)))} <a href="/archives">归档</a> <a href="/about">关于</a></nav></header>
<main class="container">
<section class="post">
<h2 class="post-title">{esc(sheet.title)}</h2>
<p class="post-meta">日期: {_cn_date(when)} | 分类: <a href="/category/3">心得体会</a> | 阅读({300 + n % 700}) | 评论({n % 7})</p>
<section class="post-body">
{chr(10).join(body)}
</section>
{paywall}
<section class="post-tags">本文标签：{" ".join(f'<a href="/tag/{t}">{t}</a>' for t in cloud[:3])}</section>
<section class="tag-cloud"><h3>标签云</h3>{" ".join(f'<a href="/tag/{t}" style="font-size:{12 + i % 6}px">{t}</a>' for i, t in enumerate(cloud))}</section>
<section class="author-box"><img src="/img/avatar.png" alt="博主"><p>博主简介：在基层机关从事文字工作十余年，喜欢读书和写作，文章仅代表个人观点。</p></section>
<section class="recommend"><h3>推荐阅读</h3><ul>{_links(sheet.related[:5], "/post/{}", n + 1)}</ul></section>
</section>
<aside><h3>文章归档</h3><ul><li><a href="/2024/03">2024年3月 (12)</a></li><li><a href="/2024/02">2024年2月 (9)</a></li></ul>
<p>扫码添加博主微信，交流写作心得</p></aside>
</main>
<footer>&copy; 2016-2024 {site}　Theme by Lite　京ICP备16052388号</footer>
</body></html>"""
    chrome = [site, "读书、写字、过日子", "本文标签", "标签云", "博主简介", "文章仅代表个人观点", "文章归档",
              "扫码添加博主微信", "京ICP备16052388号", "Theme by Lite", *sheet.related[:5]]
    return page, chrome + _notice_chrome(sheet)


# -- mobile page: folded article, open-in-app bar -----------------------------------------------

def mobile(sheet: Sheet, rng: random.Random) -> Rendered:
    site, n, when = "掌上范文", sheet.number, sheet.published
    ad_at = _ad_after(sheet, rng)
    body = []
    for i, text in enumerate(sheet.speech):
        body.append(f"<p>{esc(text)}</p>")
        if i == ad_at:
            body.append(f'<div class="m-insert"><a href="/app/download?from=a{n}">下载掌上范文APP，海量范文随心看</a></div>')
    fold = ""
    if sheet.notice:
        button = f'<a class="m-btn" href="/pay/{n}">{esc(sheet.notice.button)}</a>' if sheet.notice.button else ""
        fold = (f'<div class="m-fold"><p class="m-fold-tip">{esc(sheet.notice.line)}</p>{button}'
                f'<a class="m-open-app" href="zsfw://article/{n}">打开APP阅读全文</a></div>')
    page = f"""<!DOCTYPE html><html><head>{sheet.meta}
<meta name="viewport" content="width=device-width,initial-scale=1,user-scalable=no">
<title>{esc(sheet.title)}-{site}手机版</title></head>
<body>
<header class="m-header"><a class="m-back" href="javascript:history.back()">返回</a><h1 class="m-logo">{site}</h1><a class="m-menu" href="/m/nav">菜单</a></header>
<nav class="m-nav">{"".join(f'<a href="/m/c{i}">{t}</a>' for i, t in enumerate(_nav(8, rng)))}</nav>
<div class="m-article">
<h1 class="title">{esc(sheet.title)}</h1>
<div class="m-info"><span>公文小助手</span> <span>{when:%Y-%m-%d %H:%M}</span> <span>阅读 {n % 9 + 1}.{n % 7}万</span></div>
<div class="m-content">
{chr(10).join(body)}
</div>
{fold}
</div>
<div class="m-related"><h3>相关推荐</h3><ul>{_links(sheet.related[:4], "/m/a/{}.html", n + 1)}</ul></div>
<div class="m-bottombar"><a href="/m/">首页</a><a href="/m/nav">分类</a><a href="zsfw://home">打开APP，阅读体验更佳</a><a href="/m/my">我的</a></div>
</body></html>"""
    chrome = [site, "公文小助手", "下载掌上范文APP", "打开APP阅读全文", "打开APP，阅读体验更佳", "相关推荐",
              *sheet.related[:4]]
    return page, chrome + _notice_chrome(sheet)


# -- document library: a paged preview that stops before the document ends ----------------------

def doc_library(sheet: Sheet, rng: random.Random) -> Rendered:
    site, n, when = "千页文库", sheet.number, sheet.published
    shown = 3
    total = shown + 3 + n % 6
    cuts = [round(len(sheet.speech) * k / shown) for k in range(shown + 1)]
    blocks = []
    for page_number in range(1, shown + 1):
        texts = sheet.speech[cuts[page_number - 1]:cuts[page_number]]
        blocks.append(f'<div class="page" data-page="{page_number}"><div class="page-head">第{page_number}页</div>'
                      + "".join(f'<p class="p-txt">{esc(t)}</p>' for t in texts)
                      + f'<div class="page-foot">{page_number} / 共{total}页</div></div>')
    notice = sheet.notice or Notice("")
    page = f"""<!DOCTYPE html><html><head>{sheet.meta}<title>{esc(sheet.title)}.doc - {site}</title></head>
<body>
<div class="doc-head"><h1 class="logo"><a href="/">{site}</a></h1><form action="/search"><input name="q"></form> <a href="/upload">上传文档</a> <a href="/login">登录</a></div>
<div class="crumb"><a href="/">{site}</a> &gt; <a href="/c/hy/">行业资料</a> &gt; <a href="/c/dz/">党政司法</a> &gt; 讲话致辞</div>
<div class="doc-view">
<h1 class="title">{esc(sheet.title)}</h1>
<div class="doc-info">上传时间：{when:%Y-%m-%d}　页数：{total}页　大小：{24 + n % 40}KB　格式：DOC　贡献者：w***{n % 10}</div>
<div class="reader">
{chr(10).join(blocks)}
</div>
<div class="preview-end"><p>{esc(notice.line)}</p><a class="btn-download" href="/down/{n}">{esc(notice.button or "下载文档")}</a> <a class="btn-vip" href="/vip/">开通VIP</a></div>
<div class="copyright-tip">版权声明：本文档由用户上传，如有侵权请联系平台处理。</div>
</div>
<div class="side"><h3>相关文档</h3><ul>{_links(sheet.related[:6], "/doc/{}.html", n + 1)}</ul>
<div class="side-qr">微信扫一扫，手机查看文档</div></div>
</body></html>"""
    chrome = [site, "上传文档", "行业资料", "党政司法", "贡献者", f"1 / 共{total}页", f"共{total}页", "开通VIP", "版权声明",
              "如有侵权请联系平台处理", "相关文档", "微信扫一扫，手机查看文档", *sheet.related[:6]]
    return page, chrome + _notice_chrome(sheet) + ([] if sheet.notice and sheet.notice.button else ["下载文档"])


# -- forum thread: the first post is the speech, replies follow ---------------------------------

def forum_thread(sheet: Sheet, rng: random.Random) -> Rendered:
    site, n, when = "公文人论坛", sheet.number, sheet.published
    separated = n % 2 == 0  # half the posts were typed with line breaks, half in paragraphs
    if separated:
        post = "<br />\r\n<br />\r\n".join(esc(t) for t in sheet.speech)
    else:
        post = "\n".join(f"<p>{esc(t)}</p>" for t in sheet.speech)
    if sheet.notice:
        button = f' <a class="reply-btn" href="#fastpost">{esc(sheet.notice.button)}</a>' if sheet.notice.button else ""
        post += f'\n<div class="locked">{esc(sheet.notice.line)}{button}</div>'
    replies = _pick(rng, _REPLIES, 4)
    floors = ("沙发", "板凳", "地板", "4楼")
    reply_html = "".join(
        f'<div class="post" id="pid{n}{i}"><div class="author"><b>会员{(n * 7 + i) % 9000}</b>'
        f'<p>积分 {i * 37 + 12}</p></div><div class="post-main">'
        f'<div class="post-time">{floors[i]} 发表于 {when.year}-{when.month}-{when.day} {i + 9}:0{i}</div>'
        f'<div class="post-content">{esc(reply)}</div></div></div>' for i, reply in enumerate(replies))
    page = f"""<!DOCTYPE html><html><head>{sheet.meta}<title>{esc(sheet.title)} - 讲话稿交流 - {site}</title></head>
<body>
<div id="header"><h1><a href="/">{site}</a></h1><ul class="nav"><li><a href="/forum.php">论坛</a></li><li><a href="/group.php">群组</a></li><li><a href="/home.php">家园</a></li><li><a href="/search.php">搜索</a></li><li><a href="/misc.php?mod=faq">帮助</a></li></ul></div>
<div class="bread"><a href="/">{site}</a> &rsaquo; <a href="/forum-2-1.html">公文写作</a> &rsaquo; <a href="/forum-5-1.html">讲话稿交流</a></div>
<div class="thread-title"><h2>{esc(sheet.title)}</h2> <a href="javascript:;">[复制链接]</a></div>
<div class="stat">查看: {1000 + n % 9000} | 回复: {len(replies)}</div>
<div class="post" id="pid{n}0"><div class="author"><b>笔杆子老王</b><p>积分 2380</p><p>版主</p></div>
<div class="post-main"><div class="post-time">楼主 发表于 {when.year}-{when.month}-{when.day} {when:%H:%M}</div>
<div class="post-content">
{post}
</div>
<div class="sig">签名：文章千古事，得失寸心知。</div></div></div>
{reply_html}
<div class="pages"><strong>1</strong> <a href="/thread-{n}-2-1.html">2</a> <a href="/thread-{n}-2-1.html">下一页</a></div>
<div id="footer">{site} 版权所有 &copy; 2008-2024　鄂ICP备08011052号　Powered by Discuz! X3.4</div>
</body></html>"""
    chrome = [site, "讲话稿交流", "复制链接", "笔杆子老王", "积分 2380", "文章千古事，得失寸心知", *replies, "沙发",
              "鄂ICP备08011052号", "Powered by Discuz"]
    return page, chrome + _notice_chrome(sheet)


# -- no class names anywhere --------------------------------------------------------------------

def no_class(sheet: Sheet, rng: random.Random) -> Rendered:
    site, n, when = "材料之家", sheet.number, sheet.published
    ad_at = _ad_after(sheet, rng)
    ads = _pick(rng, _ADS, 2)
    rows = []
    for i, text in enumerate(sheet.speech):
        rows.append(f"<p>{esc(text)}</p>")
        if i == ad_at:
            rows.append(f'<div><a href="/go.asp?id={n}1">{esc(ads[0])}</a><br>'
                        f'<a href="/go.asp?id={n}2">{esc(ads[1])}</a></div>')
    if sheet.notice:
        rows.append(f'<p><font color="#ff0000">{esc(sheet.notice.line)}</font></p>')
        if sheet.notice.button:
            rows.append(f'<p><a href="/reg.asp?from={n}">{esc(sheet.notice.button)}</a></p>')
    page = f"""<html>
<head>
{sheet.meta}
<title>{esc(sheet.title)}--{site}</title>
</head>
<body>
<div><h1>{site}</h1><div>{" | ".join(f'<a href="/list.asp?c={i}">{t}</a>' for i, t in enumerate(_nav(13, rng)))}</div></div>
<div><a href="/">首页</a> &gt; <a href="/list.asp?c=4">心得体会</a> &gt; 正文</div>
<div>
<div>
<h2>{esc(sheet.title)}</h2>
<div>{when:%Y/%m/%d}　点击：{100 + n % 900}次</div>
<div>
{chr(10).join(rows)}
</div>
<div>【<a href="javascript:;">收藏</a>】【<a href="javascript:;">推荐给好友</a>】【<a href="javascript:print()">打印</a>】</div>
<div>上一篇：<a href="/show.asp?id={n - 1}">{esc(sheet.related[0])}</a><br>下一篇：<a href="/show.asp?id={n + 1}">{esc(sheet.related[1])}</a></div>
</div>
<div><b>最新文章</b><br>{"<br>".join(f'<a href="/show.asp?id={n + 10 + i}">{esc(t)}</a>' for i, t in enumerate(sheet.related[2:8]))}</div>
</div>
<div><center>本站部分内容来自网友投稿　{site} 版权所有　京ICP备09071234号<br>关注微信公众号“材料之家”，每日更新范文</center></div>
</body>
</html>"""
    chrome = [site, "推荐给好友", "最新文章", "本站部分内容来自网友投稿", "京ICP备09071234号", "每日更新范文",
              f"点击：{100 + n % 900}次", *ads, *sheet.related[:8]]
    return page, chrome + _notice_chrome(sheet)


@dataclass(frozen=True)
class Layout:
    name: str
    render: Callable[[Sheet, random.Random], Rendered]
    port: int
    path: str  # the article's path on the site, formatted with its number
    encodings: tuple[Encoding, ...]  # taken in turn, page by page
    always_truncated: bool = False


LAYOUTS: tuple[Layout, ...] = (
    Layout("news_cms", news_cms, 8801, "/news/2024-03/content_{}.htm", (UTF8, UTF8_BARE_HEADER, UTF8_LATIN1_HEADER)),
    Layout("wp_post", wp_post, 8802, "/{}/", (UTF8_BARE_HEADER, UTF8, UTF8_NO_HEADER)),
    Layout("table_layout", table_layout, 8803, "/art/2024/3/2/art_1261_{}.html",
           (GBK, GBK_BARE_HEADER, GBK_UTF8_HEADER, GBK_NO_HEADER)),
    Layout("bare_divs", bare_divs, 8804, "/a/{}.html", (UTF8, UTF8_GBK_HEADER, UTF8_BARE_HEADER)),
    Layout("blog_sections", blog_sections, 8805, "/post/{}", (UTF8, UTF8_NO_HEADER)),
    Layout("mobile", mobile, 8806, "/m/a/{}.html", (UTF8, UTF8_BARE_HEADER)),
    Layout("doc_library", doc_library, 8807, "/doc/{}.html", (UTF8, GBK), always_truncated=True),
    Layout("forum_thread", forum_thread, 8808, "/thread-{}-1-1.html", (GBK, GBK_UTF8_HEADER, UTF8)),
    Layout("no_class", no_class, 8809, "/show.asp?id={}",
           (GBK_BARE_HEADER, UTF8_LATIN1_HEADER, GBK_UTF8_HEADER, UTF8_GBK_HEADER)),
)
