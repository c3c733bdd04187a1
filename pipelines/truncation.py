"""Is a line the notice a site puts where it cuts a text short?

Sites word these notices in many ways ("预览阅读已结束", "试读结束，购买后阅读全文",
"剩余内容需登录后查看", "开通VIP会员免费下载全文", "展开全文", "还剩5页未读"), so
they are recognised by what they say (the text stops here; the rest is behind a
login, a payment, a download or a contact) rather than by one wording.  Words
alone decide nothing: the caller asks only about lines after the last paragraph
of prose, and a line that reads as a sentence to an audience ("请大家会后认真阅读
全文，抓好落实。") is not a notice unless it also names the site's machinery.
"""

from __future__ import annotations

import re

_MAX_NOTICE = 90

# The text stops here.
_CUT = (
    r"(?:预览|试读|免费阅读|阅读|浏览|免费部分|试看)(?:内容|部分)?(?:已|到此|就此)?(?:结束|完毕|为止)"
    r"|(?:还剩|剩余|剩下|余下|尚余)\s*(?:\d+\s*(?:页|%|％|字|章|节)|内容|部分|全文|的内容|文字|篇幅)"
    r"|未完待续|[(（【]\s*未完|未完[,，。]|全文共\s*\d+\s*字|文章共\s*\d+\s*字|当前显示\s*\d+"
    r"|仅(?:提供|显示|展示|供)(?:部分|预览|试读)|(?:部分|节选)内容(?:展示|预览)|以上为(?:部分|节选|预览)"
    r"|展开全文|展开阅读全文|点击展开|查看全部内容|查看完整|阅读全文|继续阅读|全文阅读|余下全文|完整版"
    r"|(?:已经|已)?(?:看完|读完)(?:啦|了)|解锁(?:剩余|全文|完整|后续)|试看|(?:阅读|查看|浏览|获取)完整(?:文章|内容|稿件|文档)?"
    r"|(?:内容|部分|段落)?已(?:被)?(?:隐藏|折叠)|隐藏\s*\d+\s*字|已阅读\s*\d+\s*[%％页]|还有\s*\d+\s*(?:页|字|段|章)"
    r"|(?:剩余|还剩|余下)\s*\d+\s*段|会员专享|仅(?:可|能)?(?:浏览|阅读|查看|预览|显示|展示)(?:前|第)|加载更多"
    r"|回复.{0,6}(?:才能|后|可)(?:浏览|查看|可见|下载)|全文共\s*\d+\s*[页頁]"
)
# The rest is behind something.
_GATE = (
    r"登录|登陆|注册|开通|充值|购买|付费|支付|解锁|VIP|vip|会员|积分|金币|下载|扫码|扫一扫|客服|老师|"
    r"微信|QQ|联系|点击|按钮|APP|App|app|获取|代笔|代写"
)
_NOTICE = re.compile(rf"(?:{_CUT})")
_GATE_WORD = re.compile(_GATE)
_DOWNLOAD_FOR_REST = re.compile(
    r"下载(?:全文|完整|原文|本文档|文档查看|后查看|后阅读)|(?:全文|完整版|完整内容).{0,8}(?:下载|获取)")
_SENTENCE_END = ("。", "！", "？", "!", "?")
# An audience addressed: the voice of a speech, not of a page.
_AUDIENCE = re.compile(r"同志们|大家|我们|各位|各(?:单位|部门|级|乡镇|地)|全体|要认真|必须")


def may_hold_a_notice(text: str) -> bool:
    """A cheap first look at a block of any length: could one of its lines be a notice?"""
    return bool(_NOTICE.search(text) or _DOWNLOAD_FOR_REST.search(text))


def is_truncation_notice(line: str) -> bool:
    if len(line) > _MAX_NOTICE:
        return False
    cut = _NOTICE.search(line) or _DOWNLOAD_FOR_REST.search(line)
    if not cut:
        return False
    if not line.endswith(_SENTENCE_END):
        return True
    # A sentence: a notice only if it opens with the cut or names the site's gate, and
    # speaks to nobody in particular.
    return (cut.start() <= 2 or bool(_GATE_WORD.search(line))) and not _AUDIENCE.search(line)


_STATED_PAGES = re.compile(r"共\s*(\d{1,4})\s*[页頁]")
_SHOWN_PAGE = re.compile(r"第\s*(\d{1,4})\s*[页頁]|^(\d{1,4})\s*/\s*共?\s*\d{1,4}\s*[页頁]?$")
_CAPTION_MAX = 24


def preview_pages(lines: list[str]) -> tuple[int, int]:
    """(pages the document states it has, highest page shown) from a 文库 preview's captions; 0 when unsaid."""
    stated = shown = 0
    for line in lines:
        if len(line) > _CAPTION_MAX or line.endswith(_SENTENCE_END):
            continue
        if "页" not in line and "頁" not in line and "/" not in line:
            continue  # neither pattern can match without one of these
        for match in _STATED_PAGES.finditer(line):
            stated = max(stated, int(match.group(1)))
        for match in _SHOWN_PAGE.finditer(line):
            shown = max(shown, int(match.group(1) or match.group(2)))
    return stated, shown
