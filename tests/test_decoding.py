"""Decoding raw bytes: BOM, header, <meta> (also malformed), disagreement, detection."""

from __future__ import annotations

import codecs
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.decoding import TextCensus, decode_html, looks_like_binary, normalise_encoding
from pipelines.extraction import extract_texts
from records.texts import FetchedPage
from replica.corpus import generate_texts

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


# -- the page checks as census of code points (one pass instead of several regexes) ------------
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
    return sum(map(_reference_common, han)) < 0.8 * len(han)


def _reference_common(char: str) -> bool:
    """In GB2312, or in Big5's level 1 (its frequent characters, lead bytes 0xA4–0xC6)."""
    try:
        char.encode("gb2312")
        return True
    except UnicodeEncodeError:
        pass
    try:
        return 0xA4 <= char.encode("big5")[0] <= 0xC6
    except UnicodeEncodeError:
        return False


_PAGE_CHARS = (
    "的一是了我不在人有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可里后"  # common
    "镕堃喆犇淼鑫琎祎昇玥璟甡彧晅曌炜犇龘靐齉爩麤灪"  # outside GB2312
    "們這裡會議總結過確實與當時樣鬱龜瞭"  # Traditional, in Big5's level 1
    "囍偊偋偍偑偓"  # in Big5's level 2 only
    "鍙戝竷鏃堕棿锛氾紱鈥滄枃鏄庘€濄€傘€佸湪"  # UTF-8 read as GBK
    "\ue000\ue5e5\uf8ff\ufffd\x00\x01\x08\x0b\x0c\x0e\x1f\x7f\t\n\r "
    "<p>abc，。“”\U00020001\U0002f800😀\ud800"
)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(_PAGE_CHARS) | st.characters(), max_size=300))
def test_page_checks_decide_as_the_regex_passes_they_replaced(text):
    assert looks_like_binary(text) == _reference_binary(text)
    assert TextCensus.of(text).mojibake == _reference_mojibake(text)


def _counts_by_table(text: str) -> TextCensus:
    sample = text[:20_000]
    ascii_part = sample.encode("ascii", "ignore")
    return TextCensus._by_table(sample, len(ascii_part) - len(ascii_part.translate(None, _C0_BYTES)))


_C0_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F])


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(_PAGE_CHARS) | st.characters(), max_size=300))
def test_the_census_counts_by_byte_tables_as_by_the_kind_table(text):
    """The census's shortcut (UTF-16 high bytes, GB2312 lead bytes) counts what the kind table counts."""
    assert TextCensus.of(text) == _counts_by_table(text)


def test_the_census_counts_every_bmp_character_as_the_kind_table():
    for block in range(0, 0x10000, 0x400):
        chars = "".join(map(chr, range(block, block + 0x400)))
        for text in (chars, "的" + chars, "的" * 60 + chars[::7]):
            assert TextCensus.of(text) == _counts_by_table(text), hex(block)
        for char in chars[::3]:
            assert TextCensus.of("的" + char) == _counts_by_table("的" + char), hex(ord(char))


def test_page_checks_read_only_the_first_20000_characters():
    common, rare = "的" * 20_000, "鍙戝竷鏃" * 10_000
    assert TextCensus.of(rare).mojibake and not TextCensus.of(common + rare).mojibake
    assert looks_like_binary("\x00" * 300) and not looks_like_binary("的" * 20_000 + "\x00" * 300)
    for text in (common + rare, rare + common, "a" * 19_990 + "\ufffd" * 50):
        assert looks_like_binary(text) == _reference_binary(text)
        assert TextCensus.of(text).mojibake == _reference_mojibake(text)


# -- stray control characters ------------------------------------------------------------------

_CONTROLS = "".join(map(chr, [*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F]))
SPEECH = ("同志们：今天我们召开全县安全生产工作会议，主要任务是总结去年工作，部署今年任务。"
          "去年全县安全生产形势总体平稳，事故起数和死亡人数实现双下降。")


def speech_page(paragraphs: list[str], head: str = "", title: str = "讲话稿") -> str:
    body = "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    return f"<html><head>{head}<title>{title}</title></head><body><h1>{title}</h1><div>{body}</div></body></html>"


def extract(body: bytes, content_type: str | None):
    return extract_texts([FetchedPage("http://127.0.0.1/a.html", body, content_type)])


def assert_clean(text: str) -> None:
    assert not set(text) & set(_CONTROLS + "\ufffd"), repr(text)


@pytest.mark.parametrize("encoding, content_type", [
    ("utf-8", "text/html; charset=utf-8"), ("gbk", "text/html; charset=gbk"), ("gbk", None), ("utf-8", None)])
def test_two_stray_nuls_in_a_paragraph_are_dropped_not_a_reason_to_reject(encoding, content_type):
    damaged = SPEECH[:20] + "\x00\x00" + SPEECH[20:]
    body = speech_page([damaged]).encode(encoding)
    decoded = decode_html(body, content_type)
    assert decoded.dropped_controls == 2 and SPEECH in decoded.text
    result = extract(body, content_type)
    assert result.skipped is None and [text.text for text in result.texts] == [SPEECH]


def test_a_longer_page_no_longer_carries_nuls_into_its_text_as_replacement_characters():
    # Below the census's 1 % the page was archived, with lxml's U+FFFD where each NUL was.
    paragraphs = [SPEECH] * 5
    paragraphs[2] = SPEECH[:30] + "\x00\x00" + SPEECH[30:]
    result = extract(speech_page(paragraphs).encode("utf-8"), "text/html; charset=utf-8")
    assert result.texts and result.texts[0].text == "\n".join([SPEECH] * 5)


TRADITIONAL = (
    "各位領導、同志們：今天，我們在這裡隆重召開全區經濟工作會議，主要任務是總結過去一年的工作，分析當前面臨的形勢，"
    "部署今年的經濟工作。剛才，區長作了很好的報告，我完全同意。下面，我再講幾點意見。"
    "一、認清形勢，堅定發展信心。過去一年，面對複雜嚴峻的外部環境，全區上下團結一心、攻堅克難，經濟社會發展取得了顯著成績。"
    "全年地區生產總值增長百分之六點五，財政收入穩步增長，城鄉居民收入持續提高，民生保障不斷加強。這些成績來之不易，"
    "是市委、市政府堅強領導的結果，是全區廣大幹部群眾奮力拼搏的結果。在肯定成績的同時，我們也要清醒地看到存在的問題和不足："
    "產業結構還不夠優化，創新能力還不夠強，項目建設後勁不足，部分幹部的思想觀念和工作作風還不適應新形勢新任務的要求。"
    "二、突出重點，狠抓工作落實。要堅持把發展作為第一要務，聚焦產業轉型升級，加快推進重大項目建設，持續優化營商環境，"
    "著力擴大有效投資和消費需求。要堅持以人民為中心的發展思想，辦好教育、醫療、養老、就業等民生實事。"
    "三、轉變作風，提升工作效能。各級幹部要發揚實幹精神，堅決反對形式主義、官僚主義，深入基層、深入群眾。"
    "同志們，新的一年任務艱巨、責任重大。讓我們開拓進取、真抓實幹，為實現全年目標任務而努力奮鬥！"
)
TRADITIONAL_PARAGRAPHS = [part + "。" for part in TRADITIONAL.rstrip("！").split("。") if part]


def test_traditional_mirror_page_with_a_few_control_bytes_is_kept():
    paragraphs = TRADITIONAL_PARAGRAPHS[:3]
    damaged = [paragraphs[0] + "\x05\x06", "\x07" + paragraphs[1], paragraphs[2] + "\x08"]
    body = speech_page(damaged, head='<meta charset="big5">', title="講話稿").encode("big5")
    assert decode_html(body, None).dropped_controls == 4
    result = extract(body, "text/html")
    assert result.skipped is None and result.texts[0].text == "\n".join(paragraphs)


def test_nul_padding_after_the_page_is_dropped():
    body = speech_page([SPEECH]).encode("gbk") + b"\x00" * 8000
    decoded = decode_html(body, "text/html; charset=gbk")
    assert decoded.dropped_controls == 8000 and decoded.text.endswith("</html>")
    assert [text.text for text in extract(body, "text/html; charset=gbk").texts] == [SPEECH]


def test_every_control_byte_and_only_those_is_dropped():
    for octet in range(0x80):
        body = b"<html><body><p>" + SPEECH.encode("utf-8") + bytes([octet]) + b"</p></body></html>"
        decoded = decode_html(body, "text/html; charset=utf-8")
        assert decoded.dropped_controls == (chr(octet) in _CONTROLS), hex(octet)
        assert_clean(decoded.text)


def test_controls_in_charsets_whose_bytes_are_not_ascii_are_found_in_the_text():
    page = speech_page([SPEECH[:10] + "\x00\x01" + SPEECH[10:]])
    decoded = decode_html(codecs.BOM_UTF16_LE + page.encode("utf-16-le"), None)
    assert decoded.encoding == "utf-16-le" and decoded.dropped_controls == 2 and SPEECH in decoded.text
    # ISO-2022-JP is made of escape sequences: none of them is a stray control character.
    japanese = "<html><body><p>本日は晴天なり。会議を始めます。</p></body></html>"
    decoded = decode_html(japanese.encode("iso2022_jp"), "text/html; charset=iso-2022-jp")
    assert decoded.text == japanese and decoded.dropped_controls == 0


@pytest.mark.parametrize("name, body", [
    ("png", b"\x89PNG\r\n\x1a\n" + random.Random(1).randbytes(6000)),
    ("zip", b"PK\x03\x04" + bytes(26) + random.Random(2).randbytes(6000)),
    ("zeros and text", (b"\x00" * 40 + b"abc") * 100),
    ("zeros", b"\x00" * 4096),
    ("tiny", random.Random(3).randbytes(60)),
])
def test_binary_data_is_still_rejected(name, body):
    for content_type in (None, "text/html; charset=utf-8", "text/html; charset=gbk", "text/html; charset=iso-8859-1"):
        decoded = decode_html(body, content_type)
        assert looks_like_binary(decoded.text), (name, content_type)
        assert extract(body, content_type).skipped in ("not_text", "mojibake", "empty_body"), (name, content_type)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(_CONTROLS), min_size=1, max_size=4),
    st.lists(st.integers(0, len(SPEECH)), min_size=4, max_size=4),
    st.sampled_from(["utf-8", "gb18030", "big5hkscs"]),
)
def test_a_page_with_a_few_controls_decodes_to_the_page_without_them(controls, positions, encoding):
    text, title = (SPEECH, "讲话稿") if encoding != "big5hkscs" else ("".join(TRADITIONAL_PARAGRAPHS[:2]), "講話稿")
    damaged = text
    for control, position in zip(controls, positions):
        damaged = damaged[:position] + control + damaged[position:]
    for content_type in (f"text/html; charset={encoding}", None):
        decoded = decode_html(speech_page([damaged], title=title).encode(encoding), content_type)
        assert decoded.text == speech_page([text], title=title) and decoded.dropped_controls == len(controls)


# -- Traditional script and Big5 (mirrors' text, not mojibake) ---------------------------------


def test_traditional_text_is_not_mojibake():
    census = TextCensus.of(TRADITIONAL)
    assert census.han > 300 and census.han_common == census.han and not census.mojibake
    page = speech_page(TRADITIONAL_PARAGRAPHS, title="講話稿").encode("utf-8")
    result = extract(page, "text/html; charset=utf-8")
    assert result.skipped is None and result.texts[0].text == "\n".join(TRADITIONAL_PARAGRAPHS)


CORPUS = ["".join(text.paragraphs) for text in generate_texts(30, seed=17)]


@pytest.mark.parametrize("name, garble", [
    ("UTF-8 read as GB18030", lambda text: text.encode("utf-8").decode("gb18030", errors="replace")),
    ("GBK read as UTF-8", lambda text: text.encode("gbk").decode("utf-8", errors="replace")),
    ("GBK read as Big5", lambda text: text.encode("gbk").decode("big5hkscs", errors="replace")),
    ("UTF-8 read as Big5", lambda text: text.encode("utf-8").decode("big5hkscs", errors="replace")),
])
def test_corpus_in_a_wrong_decoding_is_still_mojibake(name, garble):
    assert not any(TextCensus.of(text).mojibake for text in CORPUS)
    assert all(TextCensus.of(garble(text)).mojibake for text in CORPUS), name


@pytest.mark.parametrize("name, garble", [
    ("Big5 read as GB18030", lambda text: text.encode("big5").decode("gb18030", errors="replace")),
    ("UTF-8 read as GB18030", lambda text: text.encode("utf-8").decode("gb18030", errors="replace")),
    ("UTF-8 read as Big5", lambda text: text.encode("utf-8").decode("big5hkscs", errors="replace")),
])
def test_traditional_text_in_a_wrong_decoding_is_still_mojibake(name, garble):
    assert TextCensus.of(garble(TRADITIONAL)).mojibake, name


BIG5_PAGE = speech_page(TRADITIONAL_PARAGRAPHS, title="講話稿")


@pytest.mark.parametrize("head, content_type, source", [
    ("", "text/html; charset=big5", "header"),
    ('<meta http-equiv="Content-Type" content="text/html; charset=big5">', "text/html", "meta"),
    ('<meta charset="big5">', "text/html; charset=utf-8", "meta"),  # the header lies
])
def test_declared_big5(head, content_type, source):
    page = speech_page(TRADITIONAL_PARAGRAPHS, head=head, title="講話稿")
    decoded = decode_html(page.encode("big5"), content_type)
    assert decoded.text == page and decoded.source == source and decoded.encoding == "big5hkscs"


def test_undeclared_big5_is_told_from_gb18030():
    body = BIG5_PAGE.encode("big5")
    assert body.decode("gb18030") != BIG5_PAGE  # it decodes cleanly there too, into garbage
    decoded = decode_html(body, "text/html")
    assert decoded.text == BIG5_PAGE and decoded.source == "detected" and decoded.encoding == "big5hkscs"
    result = extract(body, "text/html")
    assert result.skipped is None and result.texts[0].text == "\n".join(TRADITIONAL_PARAGRAPHS)
    assert result.texts[0].encoding == "big5hkscs"


def test_big5_with_microsoft_codes_falls_to_cp950():
    page = speech_page([*TRADITIONAL_PARAGRAPHS, "經費合計五萬€。"], title="講話稿")
    for head in ("", '<meta charset="big5">'):  # the declared Big5 cannot read the euro sign either
        decoded = decode_html(page.replace("<head>", "<head>" + head).encode("cp950"), None)
        assert decoded.encoding == "cp950" and "五萬€" in decoded.text and decoded.source == "detected"


@pytest.mark.parametrize("encoding, expected", [("gbk", "gb18030"), ("gb18030", "gb18030"), ("utf-8", "utf-8")])
def test_undeclared_simplified_pages_keep_their_encoding(encoding, expected):
    page = speech_page(CORPUS[0].split("。")[:20])
    decoded = decode_html(page.encode(encoding), None)
    assert decoded.text == page and decoded.encoding == expected and decoded.source == "detected"


def test_short_undeclared_big5_and_gbk_pages():
    for text in TRADITIONAL_PARAGRAPHS:
        page = speech_page([text], title="講話稿")
        assert decode_html(page.encode("big5"), None).text == page
    for text in CORPUS[0].split("。")[:10]:
        page = speech_page([text])
        assert decode_html(page.encode("gbk"), None).text == page


def test_private_use_glyphs_beside_common_han_text_are_not_mojibake():
    """Old GBK pages draw symbols from the user-defined area (decoded as private-use code points);
    a real page of the development set with 126 of them beside 6,000 common characters was rejected."""
    text = "".join("".join(sample.paragraphs) for sample in generate_texts(3, seed=11))
    marked = "".join(char + ("\ue5e5" if index % 40 == 0 else "") for index, char in enumerate(text))
    assert not TextCensus.of(marked).mojibake
    garbled = text.encode("utf-8").decode("gb18030", errors="replace")
    assert TextCensus.of(garbled + "\ue5e5" * 50).mojibake


@pytest.mark.parametrize("declaration", ["", '<meta charset="gb2312">'])
def test_a_gbk_page_with_a_broken_byte_pair_stays_gbk(declaration):
    """A real forum page in GB2312 had one character cut in half (a title clipped by bytes): no
    candidate decoded it cleanly, and the general detector read all of it as a Cyrillic charset."""
    paragraphs = CORPUS[0].split("。")[:12]
    # Its stylesheet in the page, as on the real one: mostly ASCII bytes, which is what the
    # general detector weighed.
    style = "<style>" + "".join(f".nav{i} a:link {{ color: #ffffff; text-decoration: none }}\n" for i in range(100))
    page = speech_page(paragraphs).replace("<head>", f"<head>{declaration}{style}</style>")
    encoded = page.encode("gbk")
    cut = encoded.index(paragraphs[3].encode("gbk")) + 1  # the lead byte of the paragraph's first character
    body = encoded[:cut] + encoded[cut + 1:]
    decoded = decode_html(body, None)
    assert decoded.encoding == "gb18030" and decoded.lossy
    assert decoded.text.count("\ufffd") == 1
    for paragraph in paragraphs[4:]:
        assert paragraph in decoded.text
    result = extract(body, None)
    assert result.skipped is None and paragraphs[10] in result.texts[0].text


@pytest.mark.parametrize("encoding, text", [
    ("cp1251", "Председатель собрания открыл заседание и предоставил слово докладчику. " * 40),
    ("iso8859-7", "Ο πρόεδρος άνοιξε τη συνεδρίαση και έδωσε τον λόγο στον ομιλητή. " * 40),
])
def test_a_western_page_is_not_read_as_a_broken_cjk_page(encoding, text):
    body = f"<html><body><p>{text}</p></body></html>".encode(encoding)
    decoded = decode_html(body, None)
    assert decoded.encoding not in ("gb18030", "big5hkscs", "cp950")


def test_every_sequence_the_gbk_codec_accepts_reads_the_same_in_gb18030():
    """The decoder tries Python's faster GBK codec first for GB18030 pages; that is only sound
    while both codecs agree on every byte sequence GBK accepts."""
    accepted = 0
    for lead in range(0x81, 0xFF):
        for trail in (*range(0x40, 0x7F), *range(0x80, 0xFF)):
            pair = bytes((lead, trail))
            try:
                text = pair.decode("gbk")
            except UnicodeDecodeError:
                continue
            accepted += 1
            assert pair.decode("gb18030") == text, pair.hex()
    for byte in range(0x100):
        try:
            text = bytes((byte,)).decode("gbk")
        except UnicodeDecodeError:
            continue
        assert bytes((byte,)).decode("gb18030") == text
    assert accepted > 21_000


def test_an_undeclared_utf8_page_with_a_broken_byte_stays_utf8():
    """One lost byte made no charset decode the page cleanly; the detector then read the UTF-8
    as GB18030, and the page was archived as nothing (mojibake)."""
    paragraphs = CORPUS[0].split("。")[:12]
    page = speech_page(paragraphs)
    encoded = page.encode("utf-8")
    cut = encoded.index(paragraphs[3].encode("utf-8")) + 1
    body = encoded[:cut] + encoded[cut + 1:]
    decoded = decode_html(body, None)
    assert decoded.encoding == "utf-8" and decoded.lossy and decoded.text.count("\ufffd") == 1
    result = extract(body, None)
    assert result.skipped is None and paragraphs[5] in result.texts[0].text


@pytest.mark.parametrize("chinese", ["会议", "关于召开全县廉政工作会议的通知"])
def test_a_gbk_page_with_little_chinese_is_not_taken_for_broken_utf8(chinese):
    body = f"<html><head><title>t</title></head><body><p>Meeting {chinese} 2024-03-02</p></body></html>".encode("gbk")
    # (Two characters alone cannot tell GBK from Big5; the point here is that neither is UTF-8.)
    decoded = decode_html(body, None)
    assert decoded.encoding != "utf-8" and not decoded.lossy


def test_the_shipped_han_kinds_are_what_the_codecs_say():
    """pipelines/han_kinds.py is generated (scripts/generate_han_kinds.py); a Python whose
    GB2312 or Big5 codec changed would make the census count other characters as common."""
    from pipelines.decoding import han_block_kinds_from_codecs
    from pipelines.han_kinds import HAN_BLOCK_END, HAN_BLOCK_KINDS, HAN_BLOCK_START

    assert len(HAN_BLOCK_KINDS) == HAN_BLOCK_END - HAN_BLOCK_START
    assert HAN_BLOCK_KINDS == han_block_kinds_from_codecs()
    # The counts the docstrings give: GB2312's 6,763 Han characters and the 2,073 of Big5's level 1 not among them.
    assert HAN_BLOCK_KINDS.count("h") == 6_763 + 2_073
