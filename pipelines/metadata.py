"""Metadata derived from a text: genre from its title, template placeholders in its body."""

from __future__ import annotations

import re

GENRES = ("讲话稿", "发言稿", "致辞", "主持词", "心得体会", "工作总结", "工作计划", "述职报告", "汇报材料", "演讲稿", "其他")

# Title keyword → genre, most specific first (交流发言 before 发言, 述职报告 before 报告,
# 思想汇报 before 汇报; docs/site-families.md, "Genre keywords").
_GENRE_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("述职述廉", "述职报告"), ("述职报告", "述职报告"), ("述职", "述职报告"),
    ("主持词", "主持词"), ("串词", "主持词"), ("主持稿", "主持词"),
    ("致辞", "致辞"), ("贺词", "致辞"), ("欢迎词", "致辞"), ("开幕词", "致辞"), ("闭幕词", "致辞"), ("祝酒词", "致辞"),
    ("心得体会", "心得体会"), ("研讨发言", "心得体会"), ("读后感", "心得体会"), ("观后感", "心得体会"),
    ("学习体会", "心得体会"), ("心得", "心得体会"), ("体会", "心得体会"), ("有感", "心得体会"),
    ("演讲稿", "演讲稿"), ("演讲", "演讲稿"), ("征文", "演讲稿"),
    ("交流发言", "发言稿"), ("表态发言", "发言稿"), ("发言稿", "发言稿"), ("发言", "发言稿"),
    ("讲话稿", "讲话稿"), ("讲话", "讲话稿"), ("党课", "讲话稿"),
    ("工作总结", "工作总结"), ("总结", "工作总结"),
    ("工作计划", "工作计划"), ("工作要点", "工作计划"), ("计划", "工作计划"), ("工作思路", "工作计划"),
    ("汇报材料", "汇报材料"), ("情况汇报", "汇报材料"), ("工作汇报", "汇报材料"), ("经验交流材料", "汇报材料"),
    ("事迹材料", "汇报材料"), ("工作报告", "汇报材料"), ("汇报", "汇报材料"),
)

# Template placeholders (docs/site-families.md, "Template placeholders"): runs of X/x/×/╳/＊/* or underscores next
# to a unit word, years with x digits, and 某/某某 before a unit.
_UNIT = (r"(?:县|市|省|区|镇|乡|村|局|委|厅|处|科|办|同志|书记|部长|主任|县长|市长|局长"
         r"|年|月|日|届|次|分|%|％|人|名|家|个|项|万元|亿元|公司|单位|学校|大学)")
# The lookahead names the characters a placeholder can start with, so the regex engine
# skips every other position at once instead of trying each alternative there.
_PLACEHOLDER_START = r"(?=[2XxＸｘ×╳＊*第某_＿])"
_PLACEHOLDER = re.compile(
    _PLACEHOLDER_START + r"(?:20[0-9][xX×_＿]年?|20[xX×]{2}年?|20_{2,}年?"
    r"|[XxＸｘ×╳＊*]{1,3}" + _UNIT +
    r"|第[XxＸｘ×]次|[XxＸｘ×╳＊*]{3}(?:同志)?"
    r"|某{1,2}" + _UNIT +
    r"|_{2,}" + r"|＿{2,})"
)


# Traditional forms of the characters in the genre keywords, so a Traditional-script
# mirror's title (docs/site-families.md, "Traditional-script mirrors"; fixtures gold/mirror_*)
# gets its genre.  Used on a throwaway copy for matching only: the title itself is never converted.
_KEYWORD_CHARS_TO_SIMPLIFIED = str.maketrans(
    "講話發總結計劃匯報務體會說詞辭職廉演稿驗議彙經驗開閉賀歡讀後觀黨課事蹟",
    "讲话发总结计划汇报务体会说词辞职廉演稿验议汇经验开闭贺欢读后观党课事迹",
)


def genre_from_title(title: str) -> str:
    title = title.translate(_KEYWORD_CHARS_TO_SIMPLIFIED)
    for keyword, genre in _GENRE_KEYWORDS:
        if keyword in title:
            return genre
    return "其他"


def find_placeholders(text: str) -> tuple[str, ...]:
    """Distinct placeholders in order of first appearance."""
    seen: dict[str, None] = {}
    for match in _PLACEHOLDER.finditer(text):
        seen.setdefault(match.group(0), None)
    return tuple(seen)
