"""Line-level passes over a body container's rendered lines: structure first, words second.

The lines of a body container fall into three zones: the *head* (before the
first paragraph of prose), the *core* (from the first to the last paragraph of
prose) and the *tail* (after it).  Chrome that no selector can tell from
content (the site header, the date line, breadcrumbs, preview-ended notices,
related-reading lists, copyright footers, the editor's intro and outro) sits
in the head and the tail, so the word patterns below are only ever tried
there, and only on lines that are not sentences of prose.  Inside the core a
line is removed only for what it is, never for the words it holds: link text,
DedeCMS page-break markup, jammer noise, page captions of a document preview.
Every removal is returned with its reason.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from pipelines.html_blocks import Block
from pipelines.truncation import is_truncation_notice
from records.texts import Removal


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


# The ghost-writing offer of 范文 sites (docs/site-families.md, "Ghost-writing offers"): a service, a way to reach it.
# "严禁找人代写，发现代写问题的，请联系纪检部门举报。" names both words and is no offer: it
# is a sentence, and offers are tried only on lines that are not.
_CONTACT_AD = _Guarded(
    r"若您需要全文或代笔|👉.{0,40}👈|联系老师$|(?:代写|代笔).{0,30}(?:咨询|联系|点击|定制|老师|客服|微信|QQ)|(?:点击|联系).{0,10}(?:代写|代笔)",
    ("代笔", "联系老师", "代写", "👉"),
)
# Headings of the link lists that follow a text.
_RELATED_HEADINGS = frozenset(
    "相关阅读 最近更新 相关推荐 相关文章 热门推荐 猜你喜欢 热门关注 推荐阅读 延伸阅读 热门文章 最新文章 "
    "相关范文 精彩推荐 为你推荐 大家都在看 看了本文的人还看了 你可能感兴趣 相关专题 热门标签 最新推荐 "
    "相关报道 相关新闻 相关链接 相关资讯 相关内容 相关文档 更多阅读 往期回顾 热点推荐".split()
)
# Headings that open the comment section under an article: the article has ended.
_COMMENTS_HEADING = re.compile(
    r"^(?:网友|读者|最新|热门|全部|精彩)?(?:评论|留言)(?:列表|区)?(?:\s*[(（]\d+[)）])?$"
    r"|^(?:共有|已有|共)?\s*\d+\s*(?:条|件|篇)(?:评论|回复|留言)$|^《.{1,80}》\s*(?:已有|共有)\s*\d+\s*(?:条|件)评论$"
    r"|^(?:发表|我要|我来)(?:评论|留言|说两句)$|^(?:comments?|leave a (?:comment|reply)|\d+ comments?)$",
    re.I,
)


# _COMMENTS_HEADING cannot match without one of these words, or else (its English alternatives)
# a first character c, l or a digit: every line after the first paragraph is asked.
_COMMENTS_WORDS = ("评论", "留言", "回复", "说两句")
_COMMENTS_ENGLISH_START = frozenset("cClL")


def _may_be_comments_heading(heading: str) -> bool:
    for word in _COMMENTS_WORDS:
        if word in heading:
            return True
    first = heading[:1]
    return first in _COMMENTS_ENGLISH_START or first.isdecimal()


def is_section_end(line: str) -> str | None:
    """The reason a whole line closes the text (a related-reading or comments heading), else None."""
    heading = line.rstrip(":：").strip()
    if heading in _RELATED_HEADINGS:
        return "related_list"
    if _may_be_comments_heading(heading) and _COMMENTS_HEADING.match(heading):
        return "comments"
    return None


_DATE = r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
_DATE_LINE = re.compile(
    r"^(?:发布时间|发布日期|更新时间|时间|日期|发表于)?\s*[:：]?\s*" + _DATE +
    r"(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?\s*(?P<rest>.*)$"
)
# An info line under a title: labelled fields (来源：, 作者：, 浏览：…) with a date among them.
_INFO_LINE = re.compile(r"(?:来源|作者|编辑|责任编辑|浏览|阅读|点击|人气|字号|字体|发布者|供稿|栏目)\s*[:：]")
_HEAD_WINDOW = 3  # the header and the date line sit within the first lines of the container

# Whole lines that are page chrome where they stand at the edges of a body container.
# Each alternative is anchored to the whole line, and lines that end as a sentence
# never reach them (see _is_sentence), so a sentence that mentions 下载 or 公众号 is kept.
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
    (r"该文章《.{1,80}》来源于.{1,20}[,，]\s*网址[:：].*", None),  # 出国留学网 copy attribution
    (r"本帖最后由.{1,30}于.{1,30}编辑", None),  # Discuz edit stamp
    (r"a\([\"']\w+[\"']\);?", None),  # 学习啦 inline ad script left as text
    (r".{1,60}_第\d+页", ("_第",)),  # 文库 chrome ...
    (r"第\d+页\s*/\s*共\d+页|文档简介[:：]?|资源描述[:：]?|点击查看更多>*|继续免费阅读", None),
    (r"上传人[:：].*|编号[:：]\d+|版权说明[:：].*|(?:收藏网址|本站网址)[:：]\s*\S+", None),
    (r"(?:分享到|分享至|收藏本文|打印本文|关闭窗口|返回顶部|我要纠错|字号[:：]).*", None),  # page tools
    (r"[【\[(（]?(?:文章|信息|稿件|新闻|本文)?(?:来源|出处)[:：].{1,30}"  # bylines and source stamps
     r"|[【\[(（]?(?:责任编辑|编辑|作者|记者|通讯员|审核|校对|供稿)[:：].{1,24}", None),
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


# The editor's intro and outro of 瑞文系 and 出国留学网 pages speak to the site's readers
# about the page ("以下是小编整理的…", "希望对大家有所帮助"); a speech's own opening or
# closing ("以上是我今天发言的全部内容") speaks to its audience and is kept.
_EDITOR_VOICE = re.compile(
    r"(?:以下|下面|以上|这)(?:就)?是.{0,8}小编|小编(?:为|给|帮)?(?:大家|你们|您|你)?(?:精心|用心|特意)?(?:整理|收集|精选|带来|推荐|分享|准备|编辑|汇总)"
    r"|本站|本网(?!络)|为大家(?:整理|收集|精选|带来|分享|准备)|(?:整理|收集|精选)(?:了|的)?.{0,12}(?:范文|篇|例文)"
    r"|希望(?:本文|这篇|以上|上述)?.{0,20}(?:对(?:你|您|大家)|能(?:够)?(?:帮助|帮到)(?:你|您|大家))"
    r"|欢迎(?:阅读|参考|借鉴|收藏)|仅供(?:参考|大家参考)|敬请关注|更多.{0,10}(?:请|敬请)?(?:关注|访问)"
)
# A labelled field, not a sentence, even when it ends in a full stop ("签名：文章千古事，得失寸心知。").
_FIELD_LINE = re.compile(
    r"^[【\[(（]?(?:签名|个性签名|本文来源|文章来源|来源|出处|作者|责任编辑|编辑|记者|通讯员|摄影)[:：].{0,40}$")
# Injected source lines ("（本文来源于网络，如有侵权请联系删除）", "来源：网络整理").
_SOURCE_LINE = re.compile(
    r"^[(（【]?(?:本文|文章|内容)?(?:来源|转自|摘自)于?[:：]?\s*\S{0,30}?(?:网络|互联网|整理|删除)[^。]{0,20}?[)）】]?$")
_EDGE_WINDOW = 2
# Discuz jammer fallback: a line of short ASCII fragments with no CJK at all.
_JAMMER_LINE = re.compile(r"^(?:[\x21-\x7e]{1,3}\s+){5,}[\x21-\x7e]{0,3}$")
# DedeCMS page-break markers left in copied text.
_PAGE_BREAK_MARKER = re.compile(r"#p#[^#]{0,40}#e#")
# A page caption of a document preview ("第3页", "— 2 —", "3 / 8"): a number and nothing else to read.
_PAGE_CAPTION = re.compile(
    r"^(?:第\s*\d{1,4}\s*[页頁](?:\s*/\s*共\s*\d{1,4}\s*[页頁])?|[-—－]\s*\d{1,4}\s*[-—－]"
    r"|\d{1,4}\s*/\s*共?\s*\d{1,4}\s*[页頁]?|共\s*\d{1,4}\s*[页頁]|[^。！？]{1,60}_第\d{1,4}[页頁])$"
)
# Code a template printed as text ('a("conten");', "document.write(…)"): a call's shape, and no CJK
# between its brackets (``_is_code_line``: a class of CJK ranges in the pattern cost a millisecond
# to compile at every start).  Only one ")" can close it, so its arguments are the group.
_CODE_LINE = re.compile(r"^[\w.$]+\((.{0,80})\)\s*;?$", re.S)
_SENTENCE_END = ("。", "！", "？", "!", "?", "…", "；", "”", "」", "』", "）")
_PROSE_MIN = 12
_LINKED = 0.5


def _is_sentence(line: str) -> bool:
    return line.endswith(_SENTENCE_END)


def is_prose(line: str) -> bool:
    """A paragraph a person wrote: long enough, mostly not link text, and reading as a sentence."""
    if len(line) < _PROSE_MIN:
        return False
    if isinstance(line, Block) and line.link_share > _LINKED:
        return False
    if _FIELD_LINE.match(line):
        return False
    if _is_sentence(line):
        return not is_truncation_notice(line) and not _EDITOR_VOICE.search(line[:40] + line[-40:])
    if len(line) >= 40 and ("，" in line or "," in line):
        # A long line that does not end as a sentence may be a site's attribution or footer.
        return not (is_truncation_notice(line) or is_chrome_line(line) or _CONTACT_AD.search(line)
                    or _EDITOR_VOICE.search(line[:40] + line[-40:]))
    return False


@dataclass(frozen=True)
class CleanedLines:
    lines: list[str]
    truncated: bool
    published: str | None
    removed: list[Removal] = field(default_factory=list)


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
    if rest and not _is_site_name(rest, site_name) and not _INFO_LINE.search(rest):
        return None
    return iso_date(*match.group(1, 2, 3))


_DATE_ANYWHERE = re.compile(_DATE)


def info_line_date(line: str) -> str | None:
    """The date of a CMS info line ("发布时间：2024-03-02 10:20 来源：… 浏览：…"), else None."""
    if len(line) > 120 or _is_sentence(line):
        return None
    match = _DATE_ANYWHERE.search(line)
    if not match or not (_INFO_LINE.search(line) or _DATE_LINE.match(line)):
        return None
    return iso_date(*match.group(1, 2, 3))


def iso_date(year: str, month: str, day: str) -> str | None:
    try:
        return datetime.date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None


def _edge_reason(line: str, site_name: str | None, title: str | None, tail: bool = False) -> str | None:
    """Why a line at the head or tail of a container is chrome, or None: words count here only."""
    inner = _inner_reason(line)
    if inner:
        return inner
    if isinstance(line, Block) and line.link_share > _LINKED and not _is_sentence(line):
        return "link"
    if title and line == title:
        return "title_repeat"
    if _is_site_header(line, site_name):
        return "site_header"
    if _SOURCE_LINE.match(line):
        return "source_line"
    if _FIELD_LINE.match(line):
        return "byline"
    if _is_sentence(line):
        return None
    # A date alone closing a notice or a speech is its signature; a labelled info line is chrome.
    if info_line_date(line) and (not tail or _INFO_LINE.search(line)):
        return "info_line"
    if _CONTACT_AD.search(line):
        return "contact_ad"
    if is_chrome_line(line):
        return "chrome"
    return None


# What a line must start with for _PAGE_CAPTION to match it (else it holds "_第"), and for
# _JAMMER_LINE (printable ASCII): tested first, since nearly every line of a text is neither
# and the core's every line is asked.
_CAPTION_START = frozenset("第-—－共")


def _is_code_line(line: str) -> bool:
    call = _CODE_LINE.match(line)
    return call is not None and not any("\u3400" <= char <= "\u9fff" for char in call.group(1))


def _inner_reason(line: str) -> str | None:
    """Why a line inside the core is not text: for what it is, never for its words."""
    first = line[:1]
    if "!" <= first <= "~" and _JAMMER_LINE.match(line):
        return "jammer"
    if (first in _CAPTION_START or first.isdecimal() or "_第" in line) and _PAGE_CAPTION.match(line):
        return "page_caption"
    if "(" in line and _is_code_line(line):
        return "code"
    if isinstance(line, Block) and line.link_chars and line.link_share > _LINKED and not is_prose(line):
        return "link"
    return None


def _anchor_test(lines: Sequence[str]):
    """What marks the text's own lines: prose paragraphs, or on a page of short lines, sentences."""
    if any(map(is_prose, lines)):
        return is_prose
    return _short_sentence


def _short_sentence(line: str) -> bool:
    return _is_sentence(line) and not is_truncation_notice(line) and not _EDITOR_VOICE.search(line)


def _core_span(lines: Sequence[str], anchor) -> tuple[int, int]:
    """Index of the first anchor line and one past the last; the whole text when there is none."""
    first = next((index for index, line in enumerate(lines) if anchor(line)), None)
    if first is None:
        return 0, len(lines)
    last = next(index for index in range(len(lines) - 1, -1, -1) if anchor(lines[index]))
    return first, last + 1


def _removal(reason: str, line: str) -> Removal:
    return Removal(reason, len(line), line[:60])


def clean_lines(lines: Sequence[str], *, site_name: str | None, title: str | None = None,
                template_lines: frozenset[str] = frozenset()) -> CleanedLines:
    """Split lines into head, core and tail; drop chrome from the edges, non-text from the core.

    The tail is cut at a truncation notice (the text is then truncated) or at a
    related-reading heading; everything from there on is removed.
    """
    removed: list[Removal] = []
    lines = [_without_page_break_markers(line) if "#p#" in line else line for line in lines]
    lines = [line for line in lines if line]
    anchor = _anchor_test(lines)
    first_anchor = next((index for index, line in enumerate(lines) if anchor(line)), len(lines))
    for index in range(first_anchor + 1, len(lines)):
        reason = is_section_end(lines[index])
        if reason:
            removed.extend(_removal("end:" + reason, rest) for rest in lines[index:])
            lines = lines[:index]
            break
    start, end = _core_span(lines, anchor)

    published = None
    kept: list[str] = []
    for index, line in enumerate(lines[:start]):
        if published is None and index < _HEAD_WINDOW + 2:
            published = parse_date_line(line, site_name) or info_line_date(line)
            if published:
                removed.append(_removal("head:date_line", line))
                continue
        reason = "site_template" if line in template_lines else _edge_reason(line, site_name, title)
        if reason:
            removed.append(_removal("head:" + reason, line))
        else:
            kept.append(line)

    for line in lines[start:end]:
        reason = _inner_reason(line)
        if reason:
            removed.append(_removal(reason, line))
        else:
            kept.append(line)

    truncated = False
    tail = lines[end:]
    for index, line in enumerate(tail):
        if is_truncation_notice(line) or (not _is_sentence(line) and _CONTACT_AD.search(line) and "全文" in line):
            truncated = True
            removed.extend(_removal("tail:truncation_notice" if i == index else "tail:after_notice", rest)
                           for i, rest in enumerate(tail[index:], start=index))
            break
        section_end = is_section_end(line)
        if section_end:
            removed.extend(_removal("tail:" + section_end, rest) for rest in tail[index:])
            break
        reason = "site_template" if line in template_lines else _edge_reason(line, site_name, title, tail=True)
        if reason:
            removed.append(_removal("tail:" + reason, line))
        else:
            kept.append(line)
    kept, editor = drop_editor_lines(kept)
    removed.extend(editor)
    return CleanedLines(kept, truncated, published, removed)


def _without_page_break_markers(line: str) -> str:
    if "#p#" not in line:
        return line
    text = _PAGE_BREAK_MARKER.sub("", line).strip()
    return line.with_text(text) if isinstance(line, Block) else text


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


def drop_editor_lines(lines: list[str]) -> tuple[list[str], list[Removal]]:
    """Remove the editor's intro and source lines from the first lines, the outro and source lines from the last."""
    start = 0
    for index, line in enumerate(lines[:_EDGE_WINDOW]):
        if _EDITOR_VOICE.search(line) and len(line) < 120 or _SOURCE_LINE.match(line):
            start = index + 1
        else:
            break  # a line of the text itself: what follows it is inside the text
    end = len(lines)
    for index in range(len(lines) - 1, max(start, len(lines) - _EDGE_WINDOW) - 1, -1):
        line = lines[index]
        if _EDITOR_VOICE.search(line) and len(line) < 120 or _SOURCE_LINE.match(line):
            end = index
        else:
            break
    removed = [_removal("editor_line", line) for line in lines[:start] + lines[end:]]
    return lines[start:end], removed
