"""Decoding raw bytes: BOM, header, <meta> (also malformed), disagreement, detection."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.decoding import TextCensus, decode_html, looks_like_binary, normalise_encoding

TEXT = "在全市更高水平建设全国文明城市工作推进会上的交流发言：朱镕基、王堃、张喆同志"


def page(charset_meta: str = "", body: str = TEXT) -> str:
    return f"<html><head>{charset_meta}<title>t</title></head><body><p>{body}</p></body></html>"


def test_utf8_header_and_meta_agree():
    decoded = decode_html(page('<meta charset="utf-8">').encode("utf-8"), "text/html; charset=utf-8")
    assert TEXT in decoded.text and decoded.source == "header" and not decoded.lossy


def test_meta_only_gb2312_with_gbk_only_characters_decodes_as_gb18030():
    body = page('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">').encode("gb18030")
    decoded = decode_html(body, "text/html")
    assert decoded.encoding == "gb18030" and TEXT in decoded.text and decoded.source == "meta"


def test_header_lies_meta_tells_the_truth():
    body = page('<meta charset="gbk">').encode("gbk")
    decoded = decode_html(body, "text/html; charset=utf-8")
    assert TEXT in decoded.text and decoded.source == "meta"


def test_malformed_meta_http_equiv():
    body = page('<meta httpequiv="ContentType" content="text/html; charset=gbk">').encode("gbk")
    assert TEXT in decode_html(body, None).text


def test_bom_beats_header():
    body = "\ufeff".encode("utf-8") + page().encode("utf-8")
    decoded = decode_html(body, "text/html; charset=gbk")
    assert decoded.source == "bom" and TEXT in decoded.text and not decoded.text.startswith("\ufeff")


def test_no_declaration_at_all_gbk():
    decoded = decode_html(page().encode("gbk"), None)
    assert TEXT in decoded.text and decoded.source == "detected"


def test_latin1_header_default_does_not_mangle_gbk():
    decoded = decode_html(page().encode("gbk"), "text/html; charset=ISO-8859-1")
    assert TEXT in decoded.text


def test_undecodable_bytes_are_flagged_lossy():
    decoded = decode_html(bytes(range(128, 256)) * 50, "text/html; charset=utf-8")
    assert decoded.lossy


def test_empty_body():
    assert decode_html(b"", None).text == ""


def test_normalise_encoding():
    assert normalise_encoding("GB2312") == normalise_encoding("gbk") == "gb18030"
    assert normalise_encoding("UTF8") == "utf-8"
    assert normalise_encoding("no-such-charset") is None


# -- the page checks as census of code points (issue 2) ----------------------------------------
# The regex passes they replaced, kept as the reference: the census must decide every text alike.

_REFERENCE_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")
_REFERENCE_C0 = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_REFERENCE_NOT_HAN = re.compile(r"[^\u4e00-\u9fff]+")
_REFERENCE_PRIVATE_USE = re.compile(r"[\ue000-\uf8ff\ufffd]")


def _reference_binary(text: str) -> bool:
    sample = text[:20_000]
    return bool(sample) and len(_REFERENCE_CONTROL.findall(sample)) > 0.01 * len(sample)


def _reference_mojibake(text: str) -> bool:
    sample = text[:20_000]
    if not sample or len(_REFERENCE_C0.findall(sample)) > 0.01 * len(sample):
        return False
    han = _REFERENCE_NOT_HAN.sub("", sample)
    if len(_REFERENCE_PRIVATE_USE.findall(sample)) > max(5, 0.01 * len(han)):
        return True
    if len(han) < 50:
        return False
    return len(han) - han.encode("gb2312", errors="replace").count(b"?") < 0.8 * len(han)


_PAGE_CHARS = (
    "的一是了我不在人有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可里后"  # common
    "镕堃喆犇淼鑫琎祎昇玥璟甡彧晅曌炜犇龘靐齉爩麤灪"  # outside GB2312
    "鍙戝竷鏃堕棿锛氾紱鈥滄枃鏄庘€濄€傘€佸湪"  # UTF-8 read as GBK
    "\ue000\ue5e5\uf8ff\ufffd\x00\x01\x08\x0b\x0c\x0e\x1f\x7f\t\n\r "
    "<p>abc，。“”\U00020001\U0002f800😀\ud800"
)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(_PAGE_CHARS) | st.characters(), max_size=300))
def test_page_checks_decide_as_the_regex_passes_they_replaced(text):
    assert looks_like_binary(text) == _reference_binary(text)
    assert TextCensus.of(text).mojibake == _reference_mojibake(text)


def test_page_checks_read_only_the_first_20000_characters():
    common, rare = "的" * 20_000, "鍙戝竷鏃" * 10_000
    assert TextCensus.of(rare).mojibake and not TextCensus.of(common + rare).mojibake
    assert looks_like_binary("\x00" * 300) and not looks_like_binary("的" * 20_000 + "\x00" * 300)
    for text in (common + rare, rare + common, "a" * 19_990 + "\ufffd" * 50):
        assert looks_like_binary(text) == _reference_binary(text)
        assert TextCensus.of(text).mojibake == _reference_mojibake(text)
