"""Selectors in lxml's tree and in a browser's: each way the trees differ, with its cause and fix.

The pages are written for the case they show, the markup old table-layout templates
send; what a browser does with each is the HTML5 parsing algorithm (html5lib here).
"""

from __future__ import annotations

import pytest

from pipelines.parsing import CONTENT_AFTER_HTML_END
from pipelines.selector_trees import (
    FOSTER_PARENTED,
    IMPLIED_TBODY,
    MISNESTED,
    agrees,
    compare_selector,
    page_trees,
)

# A table written without <tbody>, as most hand-written and CMS table layouts are.
NO_TBODY = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head><body>
<div class="content"><table>
<tr><td>第一段：读书使人明智。</td></tr>
<tr><td>第二段：坚持每天读书一小时。</td></tr>
</table></div></body></html>"""

# The same table with the <tbody> written out: both trees agree.
WITH_TBODY = NO_TBODY.replace("<table>", "<table><tbody>").replace("</table>", "</tbody></table>")

# A note between a table's rows, outside any cell: a browser moves it out, before the table.
FOSTERED = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head><body>
<div class="content"><table class="layout">
<tr><td class="info">发布时间：2024-03-01</td></tr>
<p class="note">本文由网友投稿，仅供参考。</p>
<tr><td class="text">正文：春天来了，校园里的花都开了。</td></tr>
</table></div></body></html>"""

# A paragraph inside <b>: a browser keeps it there; libxml2 closes the <b> at the <p>.
BOLD_PARAGRAPH = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head><body>
<div id="main"><b>导语<p class="para">各位领导、各位来宾：大家好！</p>结语</b></div></body></html>"""

# A <div> inside a <p>, then the </p>: both parsers close the <p> at the <div>, and a browser
# reads the stray </p> as an empty paragraph of its own.
PARAGRAPH_DIV = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head><body>
<div id="main"><p class="lead">引言<div class="text">正文内容：感恩父母。</div></p></div></body></html>"""

# A template that closes the page, then prints the rest of the article.
AFTER_HTML_END = """<html><head><meta charset="utf-8"><title>t</title></head><body>
<div class="content"><p>第一段。</p></div></body></html>
<div class="more"><p>后面还有一段很长的正文，写在页面的结束标签之后，浏览器照样显示。</p></div>"""


def finding(page: str, css: str):
    trees = page_trees(page)
    assert trees.browser_root is not None
    return compare_selector(css, trees.lxml_root, trees.browser_root, trees.suspect)


def test_a_devtools_selector_through_an_implied_tbody_matches_nothing_in_lxml():
    found = finding(NO_TBODY, "div.content > table > tbody > tr > td")
    assert found.lxml_texts == ()
    assert found.browser_texts == ("第一段：读书使人明智。", "第二段：坚持每天读书一小时。")
    assert found.missed_here and not found.agree
    assert found.cause == IMPLIED_TBODY
    assert found.fix == "div.content > table tr > td"
    assert agrees(found.fix, *_roots(NO_TBODY))


def test_a_selector_written_from_the_source_matches_nothing_in_a_browser():
    found = finding(NO_TBODY, "div.content > table > tr > td")
    assert len(found.lxml_texts) == 2 and found.browser_texts == ()
    assert not found.missed_here  # it works on the site; a warning, not an error
    assert found.cause == IMPLIED_TBODY
    assert found.fix == "div.content > table tr > td"


def test_an_explicit_tbody_is_in_both_trees():
    assert finding(WITH_TBODY, "div.content > table > tbody > tr > td").agree
    assert finding(WITH_TBODY, "div.content > table > tbody > tr > td").fix is None


def test_content_between_rows_is_moved_out_of_the_table_by_a_browser():
    devtools = finding(FOSTERED, "div.content > p.note")
    assert devtools.lxml_texts == () and devtools.browser_texts == ("本文由网友投稿，仅供参考。",)
    assert devtools.cause == FOSTER_PARENTED
    assert devtools.fix == "div.content p.note"

    source = finding(FOSTERED, "table.layout p.note")
    assert source.browser_texts == () and source.cause == FOSTER_PARENTED

    # The container matches in both, but the moved note comes first in a browser's text.
    container = finding(FOSTERED, "div.content")
    assert len(container.lxml_texts) == len(container.browser_texts) == 1
    assert not container.agree and container.cause == FOSTER_PARENTED
    assert container.browser_texts[0].startswith("本文由网友投稿")


def test_a_paragraph_inside_bold_is_repaired_differently():
    found = finding(BOLD_PARAGRAPH, "#main > b > p.para")
    assert found.missed_here
    assert found.cause == MISNESTED
    assert found.fix == "#main p.para"

    bold = finding(BOLD_PARAGRAPH, "#main > b")
    assert bold.lxml_texts == ("导语",) and bold.browser_texts == ("导语各位领导、各位来宾：大家好！结语",)


def test_a_div_inside_a_paragraph_leaves_an_empty_paragraph_in_a_browser():
    found = finding(PARAGRAPH_DIV, "#main > p")
    assert found.lxml_texts == ("引言",) and found.browser_texts == ("引言", "")
    assert found.cause == MISNESTED and not found.missed_here


def test_content_after_the_end_tag_names_the_parse_step_s_reason():
    found = finding(AFTER_HTML_END, "div.more p")
    assert found.missed_here
    assert found.cause == CONTENT_AFTER_HTML_END


@pytest.mark.parametrize("page,css", [
    (NO_TBODY, "div.content td"),
    (NO_TBODY, "table tr > td"),
    (FOSTERED, "td.text"),
    (FOSTERED, "p.note"),
    (BOLD_PARAGRAPH, "p.para"),
    (PARAGRAPH_DIV, "div.text"),
    (NO_TBODY, "div.nothing"),
])
def test_selectors_that_do_not_depend_on_the_repair_agree(page, css):
    found = finding(page, css)
    assert found.agree and found.cause is None and found.fix is None


def test_a_selector_list_is_compared_but_not_rewritten():
    found = finding(NO_TBODY, "table > tbody > tr > td, h1")
    assert found.missed_here and found.cause == IMPLIED_TBODY and found.fix is None


def test_attribute_values_are_not_split_as_combinators():
    page = NO_TBODY.replace("<td>第一段", '<td title="a > b">第一段')
    found = finding(page, 'div.content > table > tbody > tr > td[title="a > b"]')
    assert found.fix == 'div.content > table tr > td[title="a > b"]'


def _roots(page: str):
    trees = page_trees(page)
    return trees.lxml_root, trees.browser_root
