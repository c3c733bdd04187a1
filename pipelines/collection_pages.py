"""合集 pages: one URL holding N texts, each under a numbered heading (docs/site-families.md, "合集 pages").

瑞文系 titles say the count ("…发言稿(通用5篇)", "(精选N篇)", "(汇总N篇)"); the
texts start at headings numbered "…1", "…2", "篇一", "第二篇", or "…范文(一)"
(出国留学网 writes them as a bold paragraph).  Numbering can skip a number, so
the cut is at every numbered heading, not at an expected sequence.

A heading that merely ends in a number is not enough: a notice's "附件1" and
"附件2", or the numbered sections of one speech, would be split into "texts"
and the prose between them lost.  A page is split only when its title states a
count, or when every part holds prose and nothing but an intro stands before
the first heading.  Each part is titled by its own heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.html_blocks import Block
from pipelines.text_rules import is_prose

_NUMERAL = "一二三四五六七八九十百零〇"
_TITLE_COUNT = re.compile(r"[(（](?:通用|精选|汇总|优秀|热门|最新|推荐|实用|经典|合集)?(\d{1,3})篇[)）]|(\d{1,3})篇(?:范文)?$")
_NUMBERED_HEADING = re.compile(
    rf"^(?:篇[{_NUMERAL}]+|第[{_NUMERAL}\d]+篇)(?:[:：\s].*)?$"  # 篇一 / 第二篇
    rf"|^.{{0,60}}\S\s*(?:\d{{1,3}}|[(（][{_NUMERAL}\d]{{1,3}}[)）])$"  # …发言稿 1 / …范文(一)
)
# Numbered things that are parts of one document, not texts of a collection.
_NOT_A_PART = re.compile(r"^(?:附件|附表|附录|图|表|注|步骤|第[一二三四五六七八九十\d]+[章节条款部分])")
_BARE_NUMBERING = re.compile(rf"^(?:篇[{_NUMERAL}]+|第[{_NUMERAL}\d]+篇|\d{{1,3}}|[(（]?[{_NUMERAL}\d]{{1,3}}[)）]?)$")
_MAX_INTRO_PROSE = 1  # an editor's intro that survived the line rules is one paragraph


@dataclass(frozen=True)
class Part:
    title: str | None  # the part's own title; None for a page that is not a 合集
    lines: list[str]


def stated_count(title: str) -> int | None:
    """N from a title such as "…发言稿(通用5篇)", else None."""
    match = _TITLE_COUNT.search(title)
    if not match:
        return None
    count = int(match.group(1) or match.group(2))
    return count if count >= 2 else None


def is_part_heading(line: str) -> bool:
    return (isinstance(line, Block) and line.heading and bool(_NUMBERED_HEADING.match(line))
            and not _NOT_A_PART.match(line))


def part_title(heading: str, collection_title: str) -> str:
    """A heading that is only a number ("篇一", "1") says nothing alone: the collection's title goes before it."""
    return f"{collection_title} {heading}" if _BARE_NUMBERING.match(heading) else heading


def split_collection(lines: list[str], title: str) -> tuple[list[Part], list[str]]:
    """The texts of a 合集 page, or one part holding ``lines``; and the intro lines left out of every part."""
    starts = [index for index, line in enumerate(lines) if is_part_heading(line)]
    whole: tuple[list[Part], list[str]] = [Part(None, lines)], []
    if not starts:
        return whole
    stated = stated_count(title) is not None
    if len(starts) < 2 and not stated:
        return whole
    intro = lines[:starts[0]]
    parts: list[Part] = []
    for position, start in enumerate(starts):
        end = starts[position + 1] if position + 1 < len(starts) else len(lines)
        body = lines[start + 1:end]
        if body:
            parts.append(Part(part_title(lines[start], title), body))
    if not stated:
        # Without a stated count, the headings must cut a page of texts, not one text's sections.
        if sum(map(is_prose, intro)) > _MAX_INTRO_PROSE or not all(any(map(is_prose, part.lines)) for part in parts):
            return whole
    return (parts, intro) if parts else whole
