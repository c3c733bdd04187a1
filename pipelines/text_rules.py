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

# Preview/truncation notices (sites.md 2.1).  The text after one of these is
# never the article, and the article is incomplete.
_TRUNCATION_NOTICE = re.compile(
    r"预览阅读已结束|全文预览已结束|已阅读\d+页[,，]?\s*还剩\d+页未读|还剩\d+页未读|"
    r"[(（]未完[,，]\s*全文共\d+字|【文章共\d+字"
)
# Ghost-writing / contact trailer lines (sites.md 2.2): removed where they stand.
_CONTACT_AD = re.compile(
    r"若您需要全文或代笔|👉.{0,40}👈\s*联系老师|联系老师$|代写.{0,30}(?:咨询|联系|点击|定制)|(?:点击|联系).{0,10}代写"
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
        if line in _RELATED_HEADINGS:
            break
        if _CONTACT_AD.search(line):
            continue
        kept.append(line)
    return CleanedLines(kept, truncated, published)
