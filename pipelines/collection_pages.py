"""合集 pages: one URL holding N texts, each under a numbered heading (sites.md 1.2).

瑞文系 titles say the count ("…发言稿(通用5篇)", "(精选N篇)", "(汇总N篇)"); the
texts start at ``<h2>`` headings numbered "…1", "…2", "篇一", "第二篇", or
"…范文(一)" (出国留学网 writes them as a bold paragraph).  Numbering can skip
a number (fixture ``gold/ruiwen_collection_gap``), so the cut is at every
numbered heading, not at an expected sequence.
"""

from __future__ import annotations

import re

from .html_blocks import Heading

_NUMERAL = "一二三四五六七八九十百零〇"
_TITLE_COUNT = re.compile(r"[(（](?:通用|精选|汇总|优秀|热门|最新|推荐|实用|经典|合集)?(\d{1,3})篇[)）]|(\d{1,3})篇(?:范文)?$")
_NUMBERED_HEADING = re.compile(
    rf"^(?:篇[{_NUMERAL}]+|第[{_NUMERAL}\d]+篇)(?:[:：\s].*)?$"  # 篇一 / 第二篇
    rf"|^.{{0,60}}\S\s*(?:\d{{1,3}}|[(（][{_NUMERAL}\d]{{1,3}}[)）])$"  # …发言稿 1 / …范文(一)
)


def stated_count(title: str) -> int | None:
    """N from a title such as "…发言稿(通用5篇)", else None."""
    match = _TITLE_COUNT.search(title)
    if not match:
        return None
    count = int(match.group(1) or match.group(2))
    return count if count >= 2 else None


def is_part_heading(line: str) -> bool:
    return isinstance(line, Heading) and bool(_NUMBERED_HEADING.match(line))


def split_collection(lines: list[str], title: str) -> list[list[str]]:
    """The texts of a 合集 page, or ``[lines]`` for an ordinary page.

    A page is a 合集 when its title states a count or at least two numbered
    headings occur.  Lines before the first numbered heading (an intro that
    survived the line rules) belong to no text and are dropped.
    """
    starts = [index for index, line in enumerate(lines) if is_part_heading(line)]
    if not starts or (len(starts) < 2 and stated_count(title) is None):
        return [lines]
    parts: list[list[str]] = []
    for position, start in enumerate(starts):
        end = starts[position + 1] if position + 1 < len(starts) else len(lines)
        part = lines[start + 1:end]
        if part:
            parts.append(part)
    return parts or [lines]
