"""The parse step: lxml's tree, when it may differ from a browser's, and the browser's tree (html5lib)."""

from __future__ import annotations

import glob
import sys
import time
from pathlib import Path

import pytest
from lxml import etree, html

from pipelines.parsing import CONTENT_AFTER_HTML_END, DEPTH_LIMIT, browser_tree, parse_html
from replica.corpus import generate_texts

FIXTURES = Path(__file__).with_name("fixtures")
SPEECH = generate_texts(1, seed=29)[0]
SENTENCES = [sentence + "。" for paragraph in SPEECH.paragraphs for sentence in paragraph.split("。") if sentence]


def text_of(root: html.HtmlElement) -> str:
    return "".join(root.itertext())


def unclosed_font_page(lines: int) -> tuple[str, list[str]]:
    """An old page that opens a <font> on every line and never closes one; then the speech goes on."""
    wanted = [SENTENCES[index % len(SENTENCES)] + f"（第{index}行）" for index in range(lines)]
    body = "".join(f"<font color=#333333>{line}<br>\n" for line in wanted)
    ending = [f"结尾第{index}段。" for index in range(3)]
    page = (f"<html><head><title>{SPEECH.title}</title></head><body><div id=content><h1>{SPEECH.title}</h1>"
            f"{body}</div><div class=more>{''.join(f'<p>{p}</p>' for p in ending)}</div></body></html>")
    return page, wanted + ending


def lxml_before_huge_tree(text: str) -> html.HtmlElement:
    """The parse as the cleaner ran it before this module: libxml2's default limits."""
    parser = html.HTMLParser(remove_comments=True, remove_pis=True, recover=True, encoding="utf-8")
    return html.document_fromstring(text.encode("utf-8"), parser=parser)


# -- depth ----------------------------------------------------------------------------------------

def test_400_unclosed_fonts_lost_the_speech_below_depth_256_and_huge_tree_keeps_it():
    page, wanted = unclosed_font_page(400)
    before = text_of(lxml_before_huge_tree(page))
    assert wanted[250] in before and wanted[260] not in before and wanted[-1] not in before
    parsed = parse_html(page)
    assert parsed.suspect is None
    after = text_of(parsed.root)
    assert all(line in after for line in wanted)


def test_deeper_than_huge_trees_limit_is_suspect_and_the_browser_tree_keeps_every_line():
    page, wanted = unclosed_font_page(2_300)
    parsed = parse_html(page)
    assert parsed.suspect == DEPTH_LIMIT
    assert wanted[2_000] in text_of(parsed.root) and wanted[2_100] not in text_of(parsed.root)
    browser = browser_tree(page, max_seconds=30)
    assert browser is not None
    kept = text_of(browser)
    assert all(line in kept for line in wanted)
    assert kept.index(wanted[0]) < kept.index(wanted[-4]) < kept.index(wanted[-1])


def test_the_browser_tree_is_built_without_recursion():
    page, wanted = unclosed_font_page(1_200)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(150)  # far below the nesting
    try:
        browser = browser_tree(page, max_seconds=30)
    finally:
        sys.setrecursionlimit(limit)
    assert browser is not None and wanted[-1] in text_of(browser)


# -- a premature </html> ----------------------------------------------------------------------------

PARAGRAPHS = SPEECH.paragraphs[:6]


def cms_page(middle: str) -> str:
    first = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[:2])
    rest = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[2:])
    return (f"<html><head><title>{SPEECH.title}</title></head><body><div id=content>{first}"
            f"{middle}{rest}</div><div class=footer>版权所有</div></body></html>\n")


@pytest.mark.parametrize("middle", [
    "</div></body></html>\n<div class=content2>",  # the template closed the page, then printed the rest
    "</html>",
    "</HTML >",
    "</body></html><html><body>",
])
def test_speech_after_a_premature_html_end_tag_is_suspect_and_the_browser_keeps_it(middle):
    page = cms_page(middle)
    parsed = parse_html(page)
    # What libxml2 does: the tree ends at the first </html>, and its error log says nothing of it.
    assert PARAGRAPHS[1] in text_of(parsed.root) and PARAGRAPHS[2] not in text_of(parsed.root)
    assert parsed.suspect == CONTENT_AFTER_HTML_END
    browser = browser_tree(page)
    assert browser is not None
    kept = text_of(browser)
    assert [kept.index(p) for p in PARAGRAPHS] == sorted(kept.index(p) for p in PARAGRAPHS)
    assert browser.find("body") is not None and kept.rstrip().endswith("版权所有")


def test_text_right_after_the_end_tag_is_suspect():
    assert parse_html("<html><body><p>a</p></body></html><p>b</p>").suspect == CONTENT_AFTER_HTML_END
    assert parse_html("<html><body><p>前文。</p></body></html>后文没有标签。").suspect == CONTENT_AFTER_HTML_END


@pytest.mark.parametrize("tail", [
    "",
    "\n\n  ",
    "<script>var _hmt = _hmt || [];</script>",
    "<!-- 页面生成时间 0.0123 秒 -->",
    "<style>.x{color:red}</style><noscript>请开启脚本</noscript>",
])
def test_nothing_shown_after_the_end_tag_is_not_suspect(tail):
    assert parse_html(cms_page("") + tail).suspect is None


def test_an_end_tag_inside_a_script_is_not_one():
    page = cms_page("<script>document.write('<iframe></iframe></html>');</script>")
    parsed = parse_html(page)
    assert parsed.suspect is None and PARAGRAPHS[-1] in text_of(parsed.root)


@pytest.mark.parametrize("separator", ["\n", ""])
def test_a_whole_document_pasted_into_the_article_is_read_on(separator):
    # A second <html>…</html> inside the content (an article pasted with its page): libxml2
    # reads on after its end tag, as a browser does.
    page = cms_page(f"<html><head></head><body>{separator}<p>引文。</p></body></html>{separator}")
    parsed = parse_html(page)
    assert parsed.suspect is None and PARAGRAPHS[-1] in text_of(parsed.root)


def test_pages_of_the_fixtures_are_not_suspect():
    paths = sorted(glob.glob(str(FIXTURES / "gold" / "*.html")))
    assert paths
    for path in paths:
        text = Path(path).read_bytes().decode("utf-8", errors="replace")
        assert parse_html(text).suspect is None, path


# -- parse_html is the cleaner's parse ------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("", b"<html/>"),
    ("  \n", b"<html/>"),
    ("<!--", b"<html/>"),
    ('<?xml version="1.0" encoding="gbk"?><html><body><p>中文</p></body></html>',
     "<html><body><p>中文</p></body></html>".encode()),
    ("<html><body><!-- c --><?pi x?><p>a</p></body></html>", b"<html><body><p>a</p></body></html>"),
    ("<p>\ud800孤</p>", "<html><body><p>\ufffd\ufffd\ufffd孤</p></body></html>".encode()),
])
def test_parse_html_reads_what_a_broken_site_sends(text, expected):
    parsed = parse_html(text)
    assert etree.tostring(parsed.root, encoding="utf-8") == expected and parsed.suspect is None


def test_elements_are_plain_html_elements_in_both_trees():
    page = "<html><body><form><input name=a><select><option>x</select></form><p class='a b'>t</p></body></html>"
    for root in (parse_html(page).root, browser_tree(page)):
        assert {type(element) for element in root.iter()} == {html.HtmlElement}
        assert root.cssselect("p.b")[0].text == "t"


# -- browser_tree -----------------------------------------------------------------------------------

def test_browser_tree_keeps_attributes_drops_comments_and_survives_what_lxml_refuses():
    page = ("<!DOCTYPE html><!-- top --><html lang=zh><head><title>标题</title></head><body>"
            "<p class='a  b' data-x=1>一<!-- c -->二</p><p\"x>三</p\"x>"
            "<div id=d a\x01=1 title='x\x01y'>四\x0c五\x01</div><svg><foreignObject><p>六</p></foreignObject></svg>"
            "</body></html>")
    root = browser_tree(page)
    assert root.tag == "html" and root.get("lang") == "zh"
    assert root.find("head/title").text == "标题"
    paragraph = root.find("body/p")
    assert paragraph.get("class") == "a  b" and paragraph.get("data-x") == "1" and paragraph.text == "一二"
    assert text_of(root.find("body")) == "一二三四五六"
    assert dict(root.get_element_by_id("d").attrib) == {"id": "d", "title": "xy"}
    assert not any(isinstance(node, etree._Comment) for node in root.iter())


def test_browser_tree_builds_what_a_browser_builds():
    # Misnested formatting (the adoption agency), a paragraph inside a table (foster parenting).
    root = browser_tree("<b>一<p>二</b>三</p><table><tr><td>格</td></tr><p>外</p></table>")
    body = root.find("body")
    assert etree.tostring(body, encoding=str) == (
        "<body><b>一</b><p><b>二</b>三</p><p>外</p><table><tbody><tr><td>格</td></tr></tbody></table></body>")


def test_browser_tree_of_empty_text():
    root = browser_tree("")
    assert etree.tostring(root) == b"<html><head/><body/></html>"


def test_browser_tree_refuses_long_text_at_once():
    started = time.perf_counter()
    assert browser_tree("<p>字</p>" * 1_000, max_chars=5_000) is None
    assert time.perf_counter() - started < 0.01


@pytest.mark.parametrize("pathological", [
    # Each paragraph reopens every earlier <font> (they differ, so none is dropped): a
    # number of elements that grows with the square of the lines, as in a browser.
    "".join(f"<p><font color=#{index:06x}>第{index}行</p>\n" for index in range(3_000)),
    "<div>" * 30_000 + "深" + "</div>" * 30_000,
    "<p>这是一个普通的段落。</p>\n" * 70_000,  # 1.3 million characters of an ordinary page
])
def test_browser_tree_gives_up_at_its_deadline(pathological):
    started = time.perf_counter()
    assert browser_tree(pathological, max_seconds=0.3) is None
    assert time.perf_counter() - started < 0.6
