"""The cleaner on layouts it was not written for: structure decides, words only at the edges.

Each test is a failure the previous cleaner had on such a page (it deleted any
line holding a keyword, titled texts with the site's name, split 附件 headings
as a 合集, kept one block of a 文库 preview, and knew notices by one wording).
"""

from __future__ import annotations

import json

import pytest

from pipelines.extraction import extract_texts
from records.texts import FetchedPage
from replica.trap_pages import trap_pages

# The seven paragraphs of the issue's plain page: every one holds a word boilerplate also uses.
SPEECH = list(next(page for page in trap_pages() if page.layout == "issue17_plain").speech)


def page(body: str, title: str = "在全县廉政工作会议上的讲话_范文网", head: str = "") -> FetchedPage:
    document = f"<html><head><meta charset='utf-8'><title>{title}</title>{head}</head><body>{body}</body></html>"
    return FetchedPage("http://127.0.0.1/a/1.html", document.encode("utf-8"), "text/html")


def paragraphs(lines: list[str]) -> str:
    return "".join(f"<p>{line}</p>" for line in lines)


ISSUE_PAGE = (
    "<div class='nav'><a href='/'>首页</a> <a href='/a/'>讲话稿</a></div>"
    "<div class='article'><h1>在全县廉政工作会议上的讲话</h1><div class='info'>2024-03-02 范文网</div>"
    f"<div class='content'>{paragraphs(SPEECH)}</div></div>"
    "<div class='related'><h3>相关阅读</h3><ul><li><a href='/1.html'>廉政讲话稿</a></li></ul></div>"
)


def test_plain_page_of_an_unknown_site_keeps_all_seven_paragraphs():
    [text] = extract_texts([page(ISSUE_PAGE)]).texts
    assert text.text.split("\n") == SPEECH
    assert text.truncated is False
    assert text.title == "在全县廉政工作会议上的讲话" and text.published == "2024-03-02"


def test_every_removal_from_the_main_block_is_recorded_with_its_reason():
    body = (f"<div class='content'><p>当前位置：首页 &gt; 讲话稿</p>{paragraphs(SPEECH[:4])}"
            "<div class='links'><a href='/x'>讲话稿大全</a> <a href='/y'>心得体会大全</a></div>"
            f"{paragraphs(SPEECH[4:])}<p>上一篇：在全县工作会议上的讲话</p></div>")
    [text] = extract_texts([page(body)]).texts
    report = text.cleaning.as_json()
    assert text.text.split("\n") == SPEECH
    reasons = {removal[0] for removal in report["removed"]}
    assert reasons == {"head:chrome", "link_list", "tail:chrome"}
    assert report["removed_by_reason"]["link_list"] == len("讲话稿大全心得体会大全")
    assert report["kept_chars"] == sum(len(line) for line in SPEECH)
    json.dumps(report, ensure_ascii=False)  # the archive stores it as JSON


def test_title_is_never_the_sites_name_repeated_in_a_header_h1():
    body = ("<div class='header'><h1>范文网</h1></div>"
            f"<div class='main'><h2>在全县廉政工作会议上的讲话</h2>{paragraphs(SPEECH)}</div>")
    [text] = extract_texts([page(body)]).texts
    assert text.title == "在全县廉政工作会议上的讲话"


def test_site_name_from_og_site_name_is_not_a_title_either():
    body = f"<h1>华文范文网</h1><div class='content'>{paragraphs(SPEECH)}</div>"
    head = "<meta property='og:site_name' content='华文范文网'>"
    [text] = extract_texts([page(body, title="在全县廉政工作会议上的讲话", head=head)]).texts
    assert text.title == "在全县廉政工作会议上的讲话"


@pytest.mark.parametrize("info, date", [
    ("时间：2024-03-02", "2024-03-02"),
    ("发布时间：2024-03-02 10:20 来源：县纪委 浏览：128次", "2024-03-02"),
    ("日期: 2024年3月2日", "2024-03-02"),
    ("2024年3月2日", "2024-03-02"),
    ("2024-03-02 10:20", "2024-03-02"),
    ("作者：李明 日期：2023/11/5", "2023-11-05"),
])
def test_dates_in_common_cms_info_lines(info, date):
    body = f"<div class='content'><h1>在全县廉政工作会议上的讲话</h1><p>{info}</p>{paragraphs(SPEECH)}</div>"
    [text] = extract_texts([page(body)]).texts
    assert text.published == date
    assert info not in text.text and text.text.split("\n") == SPEECH


def test_signature_date_at_the_end_of_a_notice_is_kept():
    body = f"<div class='content'>{paragraphs(SPEECH[:4])}<p>中共X县纪委</p><p>2024年3月2日</p></div>"
    [text] = extract_texts([page(body)]).texts
    assert text.text.split("\n")[-2:] == ["中共X县纪委", "2024年3月2日"]


def test_collection_parts_carry_their_own_heading_as_title():
    body = ("<div class='content'><p>下面是小编为大家整理的廉政讲话稿，希望对大家有所帮助。</p>"
            f"<h2>廉政讲话稿 1</h2>{paragraphs(SPEECH[:2])}<h2>篇二</h2>{paragraphs(SPEECH[2:4])}</div>")
    texts = extract_texts([page(body, title="廉政讲话稿(通用2篇)_范文网")]).texts
    assert [text.title for text in texts] == ["廉政讲话稿 1", "廉政讲话稿(通用2篇) 篇二"]
    assert {text.collection_title for text in texts} == {"廉政讲话稿(通用2篇)"}
    assert texts[0].text.split("\n") == SPEECH[:2] and texts[1].text.split("\n") == SPEECH[2:4]


def test_attachment_headings_do_not_make_a_collection():
    body = (f"<div class='content'>{paragraphs(SPEECH[:4])}<h3>附件1</h3><p>廉政风险点清单</p>"
            "<h3>附件2</h3><p>责任分工表</p></div>")
    [text] = extract_texts([page(body, title="关于开展廉政风险排查的通知")]).texts
    assert text.text.split("\n") == SPEECH[:4] + ["附件1", "廉政风险点清单", "附件2", "责任分工表"]
    assert text.collection_title is None


def test_document_library_preview_blocks_are_joined_and_marked_truncated():
    blocks = "".join(
        f"<div class='page'><p class='caption'>第{number}页</p>{paragraphs(SPEECH[number * 2 - 2:number * 2])}</div>"
        for number in (1, 2, 3)
    )
    body = (f"<div class='doc'><h1>廉政讲话</h1>{blocks}<div class='pager'>3 / 共8页</div>"
            "<div class='more'><a href='/down'>下载文档</a></div></div><div class='side'><a>热门文档</a></div>")
    [text] = extract_texts([page(body, title="廉政讲话_文库")]).texts
    assert text.text.split("\n") == SPEECH[:6]
    assert text.truncated is True


@pytest.mark.parametrize("notice", [
    "试读结束，购买后可阅读全文", "剩余内容需登录后查看", "开通VIP会员，免费下载全文", "——未完待续，点击下方按钮获取完整版——",
    "展开全文", "还剩5页未读，继续阅读", "以上为部分内容，完整版请扫码联系客服", "本文档仅提供预览，下载后查看完整内容",
])
def test_reworded_truncation_notices_cut_and_mark(notice):
    body = f"<div class='content'>{paragraphs(SPEECH[:4])}<p>{notice}</p><p>联系电话：400-000-0000</p></div>"
    [text] = extract_texts([page(body)]).texts
    assert text.text.split("\n") == SPEECH[:4] and text.truncated is True
    assert notice not in text.text


def test_a_gate_button_in_the_body_marks_the_text_truncated():
    body = f"<div class='content'>{paragraphs(SPEECH[:4])}<button class='unfold'>展开全文</button></div>"
    [text] = extract_texts([page(body)]).texts
    assert text.text.split("\n") == SPEECH[:4] and text.truncated is True


def test_speech_closing_on_a_notice_like_sentence_is_kept_and_complete():
    closing = "请大家会后认真阅读全文，抓好贯彻落实。"
    [text] = extract_texts([page(f"<div class='content'>{paragraphs(SPEECH[:4] + [closing])}</div>")]).texts
    assert text.text.split("\n")[-1] == closing and text.truncated is False


def test_comments_under_the_article_are_not_its_text():
    comments = ("<div id='comments'><h3>网友评论</h3>"
                + "".join(f"<div class='comment'><p>{line}</p></div>" for line in SPEECH * 2) + "</div>")
    body = f"<div id='main'><div class='post'>{paragraphs(SPEECH[:4])}</div>{comments}</div>"
    [text] = extract_texts([page(body)]).texts
    assert text.text.split("\n") == SPEECH[:4]


def test_white_text_on_a_dark_page_is_text():
    """White text hides only on a white page; an old page on a coloured background is written in white."""
    body = f"<font color='white'>{paragraphs(SPEECH)}</font>"
    dark = "<html><head><meta charset='utf-8'><title>讲话</title></head>" \
           f"<body bgcolor='#573665'>{body}</body></html>"
    [text] = extract_texts([FetchedPage("http://127.0.0.1/a/2.html", dark.encode("utf-8"), "text/html")]).texts
    assert text.text.split("\n") == SPEECH
    white = extract_texts([page(f"<div>{paragraphs(SPEECH[:2])}<font color='white'>{SPEECH[2]}</font></div>")]).texts
    assert SPEECH[2] not in white[0].text


def _unclosed_fonts(lines: int) -> bytes:
    """An old CMS page: an unclosed <font> per line, nesting one level deeper each time."""
    line = "同志们要认真贯彻落实会议精神，确保各项工作任务落到实处。"
    fonts = "".join(f"<font face='宋体'>第{number}行，{line}<br>" for number in range(lines))
    return (f"<html><head><meta charset='utf-8'><title>讲话</title></head><body><div class='content'>{fonts}"
            "<p>最后一段：以上是我今天讲话的全部内容。谢谢大家！</p></div></body></html>").encode()


def test_lines_past_libxml2s_old_depth_limit_are_kept():
    [text] = extract_texts([FetchedPage("http://127.0.0.1/a/3.html", _unclosed_fonts(400), "text/html")]).texts
    assert text.text.count("\n") == 400 and text.text.endswith("谢谢大家！") and not text.truncated


def test_a_page_too_deep_for_both_trees_is_marked_truncated_not_complete():
    [text] = extract_texts([FetchedPage("http://127.0.0.1/a/4.html", _unclosed_fonts(2300), "text/html")]).texts
    assert text.truncated and "parse_suspect:depth_limit" in text.cleaning.notes


def test_speech_after_a_premature_html_end_tag_is_kept_from_the_browsers_tree():
    page = ("<html><head><meta charset='utf-8'><title>讲话</title></head><body><div class='content'>"
            f"<p>{SPEECH[0]}</p></div></body></html><p>{SPEECH[1]}</p><p>{SPEECH[6]}</p>").encode()
    [text] = extract_texts([FetchedPage("http://127.0.0.1/a/5.html", page, "text/html")]).texts
    assert text.text.split("\n") == [SPEECH[0], SPEECH[1], SPEECH[6]]
    assert text.cleaning.parser == "html5lib" and "parse_suspect:content_after_html_end" in text.cleaning.notes
