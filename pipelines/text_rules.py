"""Line-level passes over a text's rendered lines.

These catch boilerplate that sits *inside* the body container as plain
paragraphs, where no selector can tell it from content: the site header, the
date/site line under the title, preview-ended and ghost-writing notices, and a
related-links tail.  Every rule is anchored (whole line, or a line position),
never a free-floating regex over the text, so speech content is never cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

class _Guarded:
    """A line rule with the substrings (``needles``) it cannot match without.

    Most lines are speech paragraphs that no rule matches; an ``in`` test per
    needle rejects them faster than the regex engine can, which tries an
    alternation at every position of a line.  The needles are a rule's own
    literals (tests/test_cleaning_rules.py checks that the guarded rules decide
    every line as the bare patterns do).
    """

    def __init__(self, pattern: str, needles: tuple[str, ...], flags: int = 0) -> None:
        self.pattern = re.compile(pattern, flags)
        self.needles = needles

    # Loops, not any(...): a generator per line cost as much as the regex it saves.
    def search(self, line: str) -> re.Match | None:
        for needle in self.needles:
            if needle in line:
                return self.pattern.search(line)
        return None

    def match(self, line: str) -> re.Match | None:
        for needle in self.needles:
            if needle in line:
                return self.pattern.match(line)
        return None


# Preview/truncation notices (sites.md 2.1).  The text after one of these is
# never the article, and the article is incomplete.
_TRUNCATION_NOTICE = _Guarded(
    r"预览阅读已结束|全文预览已结束|已阅读\d+页[,，]?\s*还剩\d+页未读|还剩\d+页未读|"
    r"[(（]未完[,，]\s*全文共\d+字|【文章共\d+字",
    ("已结束", "还剩", "未完", "文章共"),
)
# Ghost-writing / contact trailer lines (sites.md 2.2): removed where they stand.
_CONTACT_AD = _Guarded(
    r"若您需要全文或代笔|👉.{0,40}👈\s*联系老师|联系老师$|代写.{0,30}(?:咨询|联系|点击|定制)|(?:点击|联系).{0,10}代写",
    ("代笔", "联系老师", "代写"),
)
# Headings of the link lists that follow a text (sites.md 2.4).
_RELATED_HEADINGS = frozenset(
    "相关阅读 最近更新 相关推荐 相关文章 热门推荐 猜你喜欢 热门关注 推荐阅读 延伸阅读 热门文章 最新文章".split()
)
_DATE_LINE = re.compile(
    r"^(?:发布时间|时间|日期)?[:：]?\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?\s*(?P<rest>.*)$"
)
_HEAD_WINDOW = 3  # the header and the date line sit within the first lines of the container

# Whole lines that are page chrome wherever they stand inside a body container
# (sites.md 2.1–2.6).  Each alternative is anchored to the whole line, so a
# sentence of a speech that merely mentions 下载 or 微信公众号 is kept.  The ones
# that may start anywhere in a line carry the needles they cannot match without.
_CHROME_ALTERNATIVES: tuple[tuple[str, tuple[str, ...] | None], ...] = (
    (r"上一篇[:：].*|下一篇[:：].*|上一篇|下一篇", None),  # neighbouring articles
    (r"本文共\d+页[:：].*|[(（]?第\d+/\d+[页頁][)）]?", None),  # article pager ...
    (r"(?=.*(?:[上下]一页|尾页))(?:(?:[上下]一页|首页|尾页|\d{1,3})(?:\s+|$))+", ("一页", "尾页")),  # ... as links
    (r"(?:当前位置|您的位置|你的位置|现在位置)[:：].*", None),  # breadcrumbs
    (r"《[^》]{1,80}\.docx?》|将本文的Word文档下载.*|推荐度[:：].*|下载文档|下载本文档|点击下载文档", None),  # Word card
    (r"(?:推荐阅读|相关阅读|延伸阅读|相关推荐|猜你喜欢|热门推荐)[:：].*", None),  # recommendation lines (学习啦)
    (r"小编精心推荐.{0,20}|(?:更多|相关)(?:精彩)?(?:内容|范文)?推荐[:：]?", None),
    (r".{0,30}(?:扫码关注|扫一扫关注|关注微信公众号|长按识别二维码).{0,30}",  # QR / WeChat prompts
     ("扫码关注", "扫一扫关注", "关注微信公众号", "长按识别二维码")),
    (r".{0,40}(?:版权所有|Copyright\s*©|©\s*\d{4}).{0,60}", ("版权所有", "©")),  # copyright footers
    (r"该文章《.{1,80}》来源于.{1,20}[,，]\s*网址[:：].*", None),  # 出国留学网 copy attribution (sites.md 1.3)
    (r"本帖最后由.{1,30}于.{1,30}编辑", None),  # Discuz edit stamp
    (r"a\([\"']\w+[\"']\);?", None),  # 学习啦 inline ad script left as text (sites.md 1.4)
    (r".{1,60}_第\d+页", ("_第",)),  # 文库 chrome ...
    (r"第\d+页\s*/\s*共\d+页|文档简介[:：]?|资源描述[:：]?|点击查看更多>*|继续免费阅读", None),
    (r"上传人[:：].*|编号[:：]\d+|版权说明[:：].*|(?:收藏网址|本站网址)[:：]\s*\S+", None),
)


def _whole_line(alternatives) -> str:
    return "^(?:" + "|".join(alternatives) + ")$"


# Those that start with a literal fail at once on other lines: one pattern for all of them.
_CHROME_ANCHORED = re.compile(_whole_line(p for p, needles in _CHROME_ALTERNATIVES if needles is None), re.I)
_CHROME_ANYWHERE = tuple(
    _Guarded(_whole_line([p]), needles, re.I) for p, needles in _CHROME_ALTERNATIVES if needles is not None
)


def is_chrome_line(line: str) -> bool:
    if _CHROME_ANCHORED.match(line):
        return True
    for rule in _CHROME_ANYWHERE:
        if rule.match(line):
            return True
    return False


# The editor's intro/outro of 瑞文系 and 出国留学网 pages (sites.md 2.3): only the
# first or last lines of a text, and only when they speak as 小编 or point to the site.
_INTRO = re.compile(r"小编|以下是.{0,30}(?:整理|收集|精选)|下面是.{0,30}(?:整理|收集|带来)")
_OUTRO = re.compile(r"小编|敬请关注|以上(?:就)?是.{0,40}(?:范文|内容|全部)|希望.{0,30}(?:有所帮助|能帮助|能够帮助)")
# Injected source lines ("（本文来源于网络，如有侵权请联系删除）", "来源：网络整理"): only at
# the edges of a text, where copy sites put them (sites.md 2.3; fixtures gold/discuz_*).
_SOURCE_LINE = re.compile(r"^[(（【]?(?:本文|文章|内容)?(?:来源|转自|摘自)于?[:：]?\s*\S{0,30}?(?:网络|互联网|整理|删除)[^。]{0,20}?[)）】]?$")
_EDGE_WINDOW = 2
# Discuz jammer fallback: a line of short ASCII fragments with no CJK at all.
_JAMMER_LINE = re.compile(r"^(?:[\x21-\x7e]{1,3}\s+){5,}[\x21-\x7e]{0,3}$")
# DedeCMS page-break markers left in copied text.
_PAGE_BREAK_MARKER = re.compile(r"#p#[^#]{0,40}#e#")


@dataclass(frozen=True)
class CleanedLines:
    lines: list[str]
    truncated: bool
    published: str | None


# Without a profile the site's name is unknown: a short, unpunctuated run is taken for it.
_SITE_NAME_LIKE = re.compile(r"[^\s,，。:：;；!！?？、“”]{2,15}")


def _is_site_name(text: str, site_name: str | None) -> bool:
    if site_name:
        return text == site_name
    return bool(_SITE_NAME_LIKE.fullmatch(text))


def _is_site_header(line: str, site_name: str | None) -> bool:
    if line == "首页":
        return True
    name, _, tail = line.rpartition(" ")
    return tail == "首页" and _is_site_name(name.strip(), site_name)


def parse_date_line(line: str, site_name: str | None) -> str | None:
    """``2024-12-23 华博范文网`` → ``2024-12-23``; None unless the whole line is a date stamp."""
    match = _DATE_LINE.match(line)
    if not match:
        return None
    rest = match.group("rest").strip()
    if rest and not _is_site_name(rest, site_name) and not re.fullmatch(r"(来源|作者)[:：].{0,20}", rest):
        return None
    return iso_date(*match.group(1, 2, 3))


def iso_date(year: str, month: str, day: str) -> str | None:
    import datetime

    try:
        return datetime.date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None


def clean_lines(lines: list[str], *, site_name: str | None, title: str | None = None) -> CleanedLines:
    """Apply the head rules, then cut at the first truncation notice or related-links heading."""
    published = None
    head: list[str] = []
    for index, line in enumerate(lines[:_HEAD_WINDOW]):
        if _is_site_header(line, site_name):
            continue
        if published is None:
            published = parse_date_line(line, site_name)
            if published:
                continue
        # The title repeated as the container's first line (an h1 inside it).
        if index == 0 and title and line == title:
            continue
        head.append(line)
    body = head + lines[_HEAD_WINDOW:]

    truncated = False
    kept: list[str] = []
    for line in body:
        if _TRUNCATION_NOTICE.search(line):
            truncated = True
            break
        if line.rstrip(":：") in _RELATED_HEADINGS:
            break
        if _CONTACT_AD.search(line) or is_chrome_line(line) or _JAMMER_LINE.match(line):
            continue
        if "#p#" in line:
            line = _PAGE_BREAK_MARKER.sub("", line).strip()
            if not line:
                continue
        kept.append(line)
    return CleanedLines(drop_editor_lines(kept), truncated, published)


def drop_continuation_head(lines: list[str], *, site_name: str | None, title: str | None) -> list[str]:
    """A continuation page's lines without the head it repeats: the site header, the title, the date line.

    Pages 2, 3, … of a DedeCMS article repeat the h1 and the "发布时间" line inside
    the body container; ``clean_lines`` reads the head of the first page only.
    """
    head = [
        line for line in lines[:_HEAD_WINDOW]
        if not (_is_site_header(line, site_name) or (title and line == title) or parse_date_line(line, site_name))
    ]
    return head + lines[_HEAD_WINDOW:]


def drop_editor_lines(lines: list[str]) -> list[str]:
    """Remove the 小编 intro and source lines from the first lines, the outro and source lines from the last."""
    start = 0
    for index, line in enumerate(lines[:_EDGE_WINDOW]):
        if _INTRO.search(line) and ("小编" in line or len(line) < 80) or _SOURCE_LINE.match(line):
            start = index + 1
    end = len(lines)
    for index in range(len(lines) - 1, max(start, len(lines) - _EDGE_WINDOW) - 1, -1):
        line = lines[index]
        if _OUTRO.search(line) and len(line) < 120 or _SOURCE_LINE.match(line):
            end = index
        else:
            break
    return lines[start:end]
