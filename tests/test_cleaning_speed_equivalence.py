"""The cleaner's fast paths decide as the plain rules they stand in for.

Issue 17 made the cleaning core faster without changing a text it returns.  Where a
rule gained a shortcut (a lower-cased search instead of a case-insensitive one, a
cheap test of what a pattern cannot match without), these tests hold the shortcut
to the plain rule on the lines and names of the saved pages and of the trap corpus,
and on the cases the shortcuts were written around.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pytest
from lxml import etree

from pipelines import html_blocks, main_content, page_meta, text_rules
from pipelines.decoding import decode_html
from pipelines.html_blocks import Block, block_lines
from pipelines.parsing import parse_html
from replica.trap_pages import trap_pages

from .conftest import FIXTURES

# Names and lines the shortcuts must not misjudge: mixed case, letters re.I folds to ASCII
# (the Kelvin sign, the long s, the dotless i), digits other than ASCII, empty strings.
ODD_NAMES = [
    "", "AD", "Ad_Box", "ads-2", "GG_center", "gUaNgGaO", "adsense", "road", "MainContent", "ARTICLE-body",
    "Comment-List", "SIDE bar", "tags", "TAGS", "links", "nr", "NR", "wz", "sig", "Sig", "\u212aomment",
    "\u017fidebar", "reply\u0131", "内容 content", "正文 zw", "post\u3000main", "nav\u00a0menu",
]
ODD_LINES = [
    "", "评论", "网友评论（12）", "共有 3 条回复", "《讲话》已有 2 条评论", "我来说两句", "comments", "Comments",
    "COMMENT", "Leave a Reply", "12 comments", "１２ comments", "\u212aomments", "c", "l", "第3页", "第 3 页 / 共 8 页",
    "— 2 —", "－3－", "3 / 8", "３ / ８", "共8页", "范文大全_第2页", "a b c d e f", "x( 1 )", 'a("conten");',
    "document.write(x)", "中文(1)", "!! ## $$ %% && **", "第一，要抓好落实。", "共同努力，开创新局面。",
]


def _fixture_pages() -> list[bytes]:
    return [path.read_bytes() for path in sorted(FIXTURES.rglob("*.html"))]


@lru_cache(maxsize=1)
def _page_lines() -> tuple[str, ...]:
    """Every rendered line of every saved page's body, and the trap corpus's sentences."""
    lines: list[str] = []
    for body in _fixture_pages():
        root = parse_html(decode_html(body).text).root
        lines.extend(block_lines(root))
    for page in trap_pages():
        root = parse_html(decode_html(page.body, page.content_type).text).root
        lines.extend(block_lines(root))
        lines.extend(page.speech)
    return tuple(dict.fromkeys(lines))


@lru_cache(maxsize=1)
def _page_names() -> tuple[str, ...]:
    names: set[str] = set()
    for body in _fixture_pages():
        root = parse_html(decode_html(body).text).root
        for element in root.iter(etree.Element):
            names.add(f"{element.get('class', '')} {element.get('id', '')}".strip())
            names.add(f"{element.get('class', '')} {element.get('id', '')}")
    return tuple(sorted(names))


def test_corpus_is_large_enough():
    assert len(_page_lines()) > 2000
    assert len(_page_names()) > 200


@pytest.mark.parametrize("names", [ODD_NAMES, None])
def test_name_weight_reads_ascii_names_lower_cased_as_re_i_does(names):
    for name in names if names is not None else _page_names():
        expected_negative = bool(main_content._NEGATIVE_NAME.search(name))
        expected_positive = bool(main_content._POSITIVE_NAME.search(name))
        if name.isascii():
            assert bool(main_content._NEGATIVE_LOWER.search(name.lower())) == expected_negative, name
            assert bool(main_content._POSITIVE_LOWER.search(name.lower())) == expected_positive, name
        assert html_blocks._is_ad_slot_name(name) == bool(html_blocks._AD_SLOT_NAME.search(name)), name


# The patterns that held a class of CJK ranges, as they were before the class moved into Python.
_PLAIN_CODE_LINE = re.compile(r"^[\w.$]+\([^\u3400-\u9fff]{0,80}\)\s*;?$")
_PLAIN_PINYIN_AFTER_HAN = re.compile(
    r"(?<=[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])[(（]([a-züāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ]{1,7})[)）]"
)
CODE_AND_PINYIN_LINES = [
    'a("conten");', "document.write(x)", "f()", "f(中)", "f(a)(b)", "f(a) ;", "f(a);;", "f(a) )", "f(\n)", "f(" + "x" * 80 + ")",
    "f(" + "x" * 81 + ")", "f(\u33ff\ua000)", "f(\u3400)", "f(\u9fff)", "x.y$(1, '2')", "(a)", "f(（）)",
    "領(lǐng)導(dǎo)", "(lǐng)導(dǎo)", "a(lǐng)導(dǎo)", "㐀(ni)豈(hǎo)\uf900(xx)\ufb00(yy)", "中（zhōng）國(guó)", "中(abcdefgh)",
    "中((ab))", "中(ab)(cd)", "中(ab))", "中(ü)", "中(A)",
]


def _plain_inner_reason(line: str) -> str | None:
    if text_rules._JAMMER_LINE.match(line):
        return "jammer"
    if text_rules._PAGE_CAPTION.match(line):
        return "page_caption"
    if _PLAIN_CODE_LINE.match(line):
        return "code"
    if isinstance(line, Block) and line.link_share > text_rules._LINKED and not text_rules.is_prose(line):
        return "link"
    return None


@pytest.mark.parametrize("lines", [ODD_LINES + CODE_AND_PINYIN_LINES, None])
def test_core_rules_decide_as_the_plain_patterns(lines):
    for line in lines if lines is not None else _page_lines():
        assert text_rules._inner_reason(line) == _plain_inner_reason(line), line


@pytest.mark.parametrize("lines", [ODD_LINES + CODE_AND_PINYIN_LINES, None])
def test_pinyin_after_han_is_found_and_removed_as_by_the_lookbehind(lines):
    from pipelines import mirrors

    for line in lines if lines is not None else _page_lines():
        expected = [(match.span(), match.group(1)) for match in _PLAIN_PINYIN_AFTER_HAN.finditer(line)]
        assert [(match.span(), match.group(1)) for match in mirrors._pinyin_after_han(line)] == expected, line
        assert (mirrors._PINYIN_IN_BRACKETS.sub(mirrors._without_pinyin_after_han, line)
                == _PLAIN_PINYIN_AFTER_HAN.sub("", line)), line


@pytest.mark.parametrize("lines", [ODD_LINES, None])
def test_comment_headings_are_found_as_by_the_plain_pattern(lines):
    for line in lines if lines is not None else _page_lines():
        heading = line.rstrip(":：").strip()
        if text_rules._COMMENTS_HEADING.match(heading):
            assert text_rules._may_be_comments_heading(heading), heading


def test_comments_heading_words_are_the_patterns_own():
    """Every CJK alternative of the pattern names one of the guard's words."""
    pattern = text_rules._COMMENTS_HEADING.pattern
    for alternative in pattern.split("|^"):
        if re.search(r"[\u4e00-\u9fff]", alternative):
            assert any(word in alternative for word in text_rules._COMMENTS_WORDS), alternative


_ASCII_SPACE_RUNS = re.compile(r"[ \t\r\n\f\v]+")


@pytest.mark.parametrize("lines", [ODD_LINES + ["  a \n\t b  ", "\v\f", "a" + " " * 37 + "b", "\u3000\u3000正文\xa0 "], None])
def test_normalise_line_is_the_space_run_substitution(lines):
    for line in lines if lines is not None else _page_lines():
        for text in (line, f" {line}\n\n\t{line}  \r\n"):
            assert html_blocks.normalise_line(text) == _ASCII_SPACE_RUNS.sub(" ", text).strip(html_blocks._EDGE_SPACE)


def test_hiding_styles_are_read_lower_cased_as_re_i_does():
    from pipelines import hidden_text

    styles = ["display:none", "DISPLAY : NONE", "Visibility:Hidden", "font-size:0", "FONT-SIZE: 0PX;", "font-size:0 ;x",
              "font-size:01", "color:red", "dısplay:none", "\u212a", "display:\u3000none"]
    for body in _fixture_pages():
        root = parse_html(decode_html(body).text).root
        styles.extend(element.get("style") for element in root.iter(etree.Element) if element.get("style"))
    for style in styles:
        expected = bool(hidden_text._HIDING_DECLARATION.search(style))
        if style.isascii():
            assert bool(hidden_text._HIDING_LOWER.search(style.lower())) == expected, style


def test_preview_pages_skips_only_lines_neither_pattern_matches():
    from pipelines import truncation

    for line in [*ODD_LINES, *_page_lines()]:
        if "页" not in line and "頁" not in line and "/" not in line:
            assert not truncation._STATED_PAGES.search(line) and not truncation._SHOWN_PAGE.search(line), line


# What the two title helpers stand in for: one XPath each, read over the whole page.
_HEADINGS_XPATH = etree.XPath(
    "(/descendant::*[self::h1 or self::h2 or @class[contains(., 'title')] or @id[contains(., 'title')]])"
    f"[position() <= {page_meta._HEADING_CANDIDATES}]"
)
_FIRST_TITLE_XPATH = etree.XPath("string((/descendant::title)[1])")
_ODD_TITLE_PAGES = [
    b"<html><body><title>in the body</title><h1>x</h1></body></html>",
    b"<html><head></head><body><div class='subtitle'>a</div><!-- h1 --><p id='titlebar'>b</p></body></html>",
    b"<html><head><title></title></head><body><title>second</title></body></html>",
    b"<html><head><title>one</title><title>two</title></head><body>"
    + b"".join(b"<h2>h%d</h2><span class='title%d'>s</span>" % (n, n) for n in range(40)) + b"</body></html>",
    b"no markup at all",
]


@pytest.mark.parametrize("extra", [_ODD_TITLE_PAGES, None])
def test_title_helpers_find_what_the_whole_page_xpaths_find(extra):
    bodies = extra if extra is not None else _fixture_pages()
    for body in bodies:
        root = parse_html(decode_html(body).text).root
        assert page_meta._document_title(root) == _FIRST_TITLE_XPATH(root)
        assert list(page_meta._headings(root)) == _HEADINGS_XPATH(root)


def _plain_paragraph_scores(root) -> dict:
    """Each text node's link check and paragraph found by walking up from it, as before owners were shared."""
    runs: dict = {}
    texts: dict = {}
    for chunk in main_content._BODY_TEXT(root):
        ascii_chars = len(chunk.encode("ascii", "ignore"))
        mass = len(chunk) - ascii_chars + ascii_chars // 3
        owner = chunk.getparent()
        if mass < 2 or owner is None:
            continue
        owner = owner.getparent() if chunk.is_tail else owner
        if owner is None or not isinstance(owner.tag, str):
            continue
        element, unread = owner, False
        for _ in range(main_content._LINK_LEVELS):
            if element is None:
                break
            unread = unread or element.tag in main_content._NOT_READ
            element = element.getparent()
        paragraph = owner
        while paragraph is not None and paragraph.tag not in main_content._PARAGRAPH_TAGS:
            paragraph = paragraph.getparent()
        if unread or paragraph is None:
            continue
        runs[paragraph] = runs.get(paragraph, 0) + mass
        texts.setdefault(paragraph, []).append(chunk)
    scores = {paragraph: mass + 3 * sum("".join(texts[paragraph]).count(mark) for mark in main_content._SENTENCE_MARKS)
              for paragraph, mass in runs.items()}
    return {paragraph: score for paragraph, score in scores.items() if runs[paragraph] >= main_content._MIN_RUN} or scores


_ODD_PARAGRAPH_PAGES = [
    "<div><a><span><b>链接里的文字不计入正文段落</b></span></a><a><span><b><i>四层以下的文字计入段落</i></b></span></a></div>",
    "<p>正文第一句，<br>第二句。<br>第三句；<!-- 注释 -->注释后的文字也属于这个段落。</p><script>var a='脚本里的文字';</script>",
    "<td><font><font><font>嵌套很深的文字属于最近的单元格。</font></font></font></td><noscript>不显示的文字内容</noscript>",
    "<span>没有任何块元素包着的文字，属于正文本身。</span>",
]


@pytest.mark.parametrize("extra", [_ODD_PARAGRAPH_PAGES, None])
def test_paragraph_scores_are_those_of_walking_up_from_every_text_node(extra):
    bodies = ([f"<html><body>{page}</body></html>".encode() for page in extra] if extra is not None
              else _fixture_pages() + [page.body for page in trap_pages()])
    for body in bodies:
        root = parse_html(decode_html(body).text).root
        assert list(main_content._paragraph_scores(root).items()) == list(_plain_paragraph_scores(root).items())
