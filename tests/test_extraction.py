"""The cleaning core on saved pages: exact expected output, with a profile and in generic mode."""

from __future__ import annotations

import json

import pytest

from crawler.profiles import load_profile
from pipelines.extraction import extract_texts
from pipelines.rules import ExtractionRules
from records.texts import FetchedPage

from .conftest import FIXTURES

PAGES = FIXTURES / "pages"


def load_fixture(name: str) -> tuple[FetchedPage, dict]:
    expected = json.loads((PAGES / f"{name}.expected.json").read_text(encoding="utf-8"))
    page = FetchedPage(expected["url"], (PAGES / f"{name}.html").read_bytes(), "text/html; charset=utf-8")
    return page, expected


@pytest.mark.parametrize("rules", [load_profile("huabo").extract, ExtractionRules()], ids=["profile", "generic"])
def test_seed_page(rules):
    page, expected = load_fixture("huabo_seed")
    [text] = extract_texts([page], rules).texts
    for field in ("title", "published", "text", "truncated", "genre", "part"):
        assert getattr(text, field) == expected[field], field
    assert "X县" in text.placeholders and "202x年" in text.placeholders


def html_page(inner: str, head: str = "") -> FetchedPage:
    html = f"<html><head>{head}<title>标题_某网</title></head><body><h1>标题</h1><div class='c'>{inner}</div></body></html>"
    return FetchedPage("http://127.0.0.1/a.html", html.encode("utf-8"), "text/html; charset=utf-8")


RULES = ExtractionRules(site_name="某网", body=["div.c"], drop=["div.ad"])


def only_text(inner: str, rules: ExtractionRules = RULES) -> str:
    return extract_texts([html_page(inner)], rules).texts[0].text


def test_inline_ad_slot_removed_and_paragraph_order_kept():
    assert only_text("<p>第一段。</p><div class='ad'><a>代写</a></div><p>第二段。</p>") == "第一段。\n第二段。"


def test_hidden_inline_style_removed_keyword_link_words_kept():
    inner = "<p>健全<a href='/zhidu/'>制度</a>体系<span style='display: none'>abc123</span>。</p>"
    assert only_text(inner) == "健全制度体系。"


def test_br_separated_lines_and_fullwidth_indentation():
    assert only_text("<p>\u3000\u3000第一行<br>&nbsp;&nbsp;第二行</p>") == "第一行\n第二行"


def test_complete_text_is_not_truncated():
    [text] = extract_texts([html_page("<p>全文到此结束。</p><p>谢谢大家!</p>")], RULES).texts
    assert text.truncated is False and text.text.endswith("谢谢大家!")


def test_related_heading_inside_container_cuts_the_tail():
    assert only_text("<p>正文。</p><h3>相关阅读</h3><ul><li><a>另一篇讲话</a></li></ul>") == "正文。"


def test_date_line_parsed_only_when_whole_line_is_a_stamp():
    [text] = extract_texts([html_page("<p>2024-10-28 07:43:00 某网</p><p>正文。</p>")], RULES).texts
    assert text.published == "2024-10-28" and text.text == "正文。"
    kept = only_text("<p>2024年12月23日,全县召开动员大会。</p>")
    assert kept == "2024年12月23日,全县召开动员大会。"


def test_page_without_text_is_skipped_with_a_reason():
    result = extract_texts([html_page("<script>render()</script>")], RULES)
    assert result.texts == [] and result.skipped == "javascript_only"
    result = extract_texts([html_page("<div class=\"ad\">广告</div>")], RULES)
    assert result.texts == [] and result.skipped == "empty_after_cleaning"
    assert extract_texts([FetchedPage("http://127.0.0.1/e", b"")], RULES).skipped == "empty_body"


def test_continuation_pages_are_appended_in_order():
    rules = ExtractionRules(body=["div.c"], next_page=["a.next"])
    first = html_page("<p>第一页。</p><a class='next' href='/a_2.html'>下一页</a>")
    second = html_page("<p>第二页。</p>")
    [text] = extract_texts([first, second], rules).texts
    assert text.text == "第一页。\n第二页。"  # the pager link itself is not text
    assert text.next_pages == ("http://127.0.0.1/a_2.html",)
