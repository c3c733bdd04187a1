"""The cleaning core never raises and stays under a second of CPU on any input."""

from __future__ import annotations

import os
import random
import time

import pytest

from crawler.profiles import load_profile
from pipelines.extraction import extract_texts
from pipelines.rules import ExtractionRules
from records.texts import FetchedPage

from .conftest import FIXTURES

GOLD = FIXTURES / "gold"
_PARAGRAPH = "<p>\u3000\u3000各级党组织要切实加强领导，认真落实各项工作任务，推动工作取得实效。</p>\n"


def _five_mb(unit: str, head: str = "<html><body><h1>标题</h1><div>", tail: str = "</div></body></html>") -> bytes:
    count = 5_000_000 // len(unit.encode("utf-8"))
    return (head + unit * count + tail).encode("utf-8")


def _inputs() -> dict[str, bytes]:
    gold = (GOLD / "diyifanwen_00.html").read_bytes()
    rng = random.Random(7)
    return {
        "empty": b"",
        "whitespace": b" \r\n\t ",
        "binary": bytes(rng.randrange(256) for _ in range(100_000)),
        "nul_bytes": b"\x00" * 4096,
        "png_header": b"\x89PNG\r\n\x1a\n" + os.urandom(5000),
        "truncated_mid_tag": gold[: len(gold) // 2] + b'<p class="x',
        "truncated_mid_character": gold[:-1] if gold[-1] >= 0x80 else gold[:1001],
        "unclosed_everything": "<html><body><div><p>正文第一段<p>正文第二段<div><span>".encode(),
        "deep_nesting": ("<div>" * 50_000 + "正文" + "</div>" * 50_000).encode(),
        "five_mb_paragraphs": _five_mb(_PARAGRAPH),
        "five_mb_br": _five_mb("一句话。<br>"),
        "five_mb_one_line": _five_mb("字", head="<html><body><p>", tail="</p></body></html>"),
        "five_mb_link_farm": _five_mb("<a href='/x'>链接</a>"),
        "five_mb_inline_script": ("<html><head><script>var a='" + "x" * 5_000_000 + "';</script></head><body>"
                                  + _PARAGRAPH * 20 + "</body></html>").encode(),
        "huge_style": ("<style>" + ".a{display:none}" * 300_000 + "</style>" + _PARAGRAPH).encode(),
        "bad_meta_charset": b'<meta charset="no-such-codec"><p>abc</p>',
        "xml_declaration": b"<?xml version='1.0' encoding='gbk'?><html><p>\xd5\xfd\xce\xc4</p></html>",
        "only_comment_start": b"<!--",
        "only_xml_declaration": b"<?xml",
        "lone_lt": b"<",
        "bad_character_references": "&#0;&#xd800;<p>正文</p>".encode(),
    }


INPUTS = _inputs()
RULES = {"generic": ExtractionRules(), "diyifanwen": load_profile("diyifanwen").extract,
         "ruiwen": load_profile("ruiwen").extract}


@pytest.mark.parametrize("rules", list(RULES))
@pytest.mark.parametrize("name", list(INPUTS))
def test_never_raises_and_under_a_second(name, rules):
    page = FetchedPage("https://www.diyifanwen.com/fanwen/a/1.html", INPUTS[name], "text/html")
    started = time.process_time()  # CPU time: the page's own cost, not the machine's load
    result = extract_texts([page], RULES[rules])
    assert time.process_time() - started < 1.0
    assert result.texts or result.skipped


def test_binary_input_yields_no_text():
    for name in ("binary", "nul_bytes", "png_header"):
        result = extract_texts([FetchedPage("http://x/a", INPUTS[name], None)], ExtractionRules())
        assert result.texts == [] and result.skipped == "not_text", name


def test_oversized_page_is_read_up_to_the_bound_and_marked_truncated():
    [text] = extract_texts([FetchedPage("http://x/a", INPUTS["five_mb_paragraphs"], "text/html")], ExtractionRules()).texts
    assert text.truncated is True and text.text.startswith("各级党组织要切实加强领导")
    assert len(text.text) > 10_000


def test_truncated_mid_tag_keeps_the_text_before_the_cut():
    [text] = extract_texts([FetchedPage("http://x/a", INPUTS["truncated_mid_tag"], "text/html")], RULES["diyifanwen"]).texts
    assert len(text.text) > 200


def test_mangled_gold_pages_never_raise():
    """Gold pages cut at random points and with random bytes overwritten (a seeded fuzz)."""
    rng = random.Random(2024)
    pages = sorted(GOLD.glob("*.html"))
    rules = list(RULES.values())
    for _ in range(150):
        body = bytearray(rng.choice(pages).read_bytes())
        body = body[: rng.randrange(len(body) + 1)]
        for _ in range(rng.randrange(20)):
            if body:
                body[rng.randrange(len(body))] = rng.randrange(256)
        result = extract_texts([FetchedPage("http://x.example/a.html", bytes(body), rng.choice(["text/html", None]))],
                               rng.choice(rules))
        assert result.texts or result.skipped
