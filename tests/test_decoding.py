"""Decoding raw bytes: BOM, header, <meta> (also malformed), disagreement, detection."""

from __future__ import annotations

from pipelines.decoding import decode_html, normalise_encoding

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
