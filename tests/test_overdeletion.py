"""Speech that uses boilerplate's words comes out of the cleaner whole.

The trap pages (replica/trap_pages.py) put every sentence of the phrase bank's
[traps] (版权, 代写, 联系, 下载, 公众号, 全文, 上一篇, 附件1 …) into speeches, at the first,
a middle and the last paragraph and right before a preview notice, on layouts unlike the
replica sites.  Each page is cleaned in generic mode, as a page of an unknown site is:
every speech paragraph must be in the clean text whole, no chrome string may be, and
the text is truncated exactly when the page cut it short.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from pipelines.extraction import extract_texts
from records.texts import FetchedPage
from replica.corpus import generate_texts
from replica.trap_pages import TrapPage, trap_pages, trap_sentences, truncation_notices

PAGES = trap_pages()
NAMES = [page.name for page in PAGES]
BANK = trap_sentences()
NOTICES = truncation_notices()

# What makes a sentence a trap: a word that site chrome also uses.
BOILERPLATE_WORD = re.compile(
    r"版权|知识产权|代写|代笔|联系|微信|公众号|扫码|二维码|下载|全文|全部内容|上一篇|下一篇|更多|附件|首页|相关阅读|推荐"
    r"|来源|转载|小编|网址|点击|登录|会员|预览|未完|还剩|阅读|[A-Za-z]{2,}|\d[A-Za-z]|@|123\d\d|1231\d"
)
# The notice wordings the first truncation rules knew (pipelines/text_rules.py before the redesign).
KNOWN_NOTICES = re.compile(r"预览阅读已结束|全文预览已结束|已阅读\d+页.{0,3}还剩\d+页未读|[（(]未完，全文共\d+字|【文章共\d+字")


class Cleaned:
    def __init__(self, page: TrapPage) -> None:
        fetched = FetchedPage(url=page.url, body=page.body, content_type=page.content_type)
        extraction = extract_texts([fetched])
        self.skipped = extraction.skipped
        self.text = "\n".join(text.text for text in extraction.texts)
        self.truncated = any(text.truncated for text in extraction.texts)

    def missing(self, page: TrapPage) -> list[str]:
        return [paragraph for paragraph in page.speech if paragraph not in self.text]


@pytest.fixture(scope="module")
def cleaned() -> dict[str, Cleaned]:
    return {page.name: Cleaned(page) for page in PAGES}


def _position(page: TrapPage, sentence: str) -> str:
    index = next(i for i, paragraph in enumerate(page.speech) if sentence in paragraph)
    if index == 0:
        return "first"
    if index == len(page.speech) - 1:
        return "before_notice" if page.truncated else "last"
    return "middle"


# -- the data ---------------------------------------------------------------------------------


def test_bank_sentences_use_boilerplate_words():
    assert len(BANK) >= 220 and len(set(BANK)) == len(BANK)
    assert [s for s in BANK if not BOILERPLATE_WORD.search(s)] == []


def test_notices_are_reworded():
    assert len(NOTICES) >= 24 and len(set(NOTICES)) == len(NOTICES)
    assert [notice for notice in NOTICES if KNOWN_NOTICES.search(notice)] == []


def test_pages_cover_the_bank_at_every_position():
    assert len(PAGES) >= 60 and len(set(NAMES)) == len(NAMES)
    layouts = Counter(page.layout for page in PAGES if page.layout != "issue17_plain")
    assert len(layouts) >= 8 and min(layouts.values()) >= 5
    positions: dict[str, set[str]] = {}
    for page in PAGES:
        assert page.trap_sentences and all(any(s in p for p in page.speech) for s in page.trap_sentences), page.name
        for sentence in page.trap_sentences:
            positions.setdefault(_position(page, sentence), set()).add(sentence)
    placed = set().union(*positions.values())
    assert [s for s in BANK if s not in placed] == []
    assert {name: len(found) >= 30 for name, found in positions.items()} == {
        "first": True, "middle": True, "last": True, "before_notice": True}
    assert sum(page.truncated for page in PAGES) >= len(NOTICES)


def test_pages_mix_encodings_and_contradicting_headers():
    gbk = [page for page in PAGES if not _is_utf8(page.body)]
    assert len(gbk) >= 10 and len(PAGES) - len(gbk) >= 10
    disagreeing = [page for page in PAGES if _charset(page.content_type or "") not in (None, _charset(page.body[:600]))]
    assert len(disagreeing) >= 6


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _charset(declaration: str | bytes) -> str | None:
    """The charset a header or a page's <meta> names, with the GB family as one."""
    text = declaration.decode("latin-1") if isinstance(declaration, bytes) else declaration
    found = re.search(r"charset=[\"']?([\w-]+)", text, re.I)
    if not found:
        return None
    name = found.group(1).lower()
    return "gb" if name.startswith("gb") else name


_DIGEST_SCRIPT = """
import hashlib
from replica.trap_pages import trap_pages
print(hashlib.sha256(repr(trap_pages()).encode("utf-8")).hexdigest())
"""


def test_pages_are_deterministic():
    """The same bytes in every process, whatever the hash seed; another seed, other pages."""
    root = Path(__file__).resolve().parents[1]
    digests = {hashlib.sha256(repr(PAGES).encode("utf-8")).hexdigest()}
    for hash_seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(root)}
        result = subprocess.run([sys.executable, "-c", _DIGEST_SCRIPT], capture_output=True, text=True, env=env,
                                cwd=root, check=True)
        digests.add(result.stdout.strip())
    assert len(digests) == 1
    assert [page.body for page in trap_pages(seed=18)] != [page.body for page in PAGES]


# -- the cleaner on them ----------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_speech_survives_whole(name, cleaned):
    page, result = _page(name), cleaned[name]
    missing = result.missing(page)
    assert missing == [], (f"{name} ({page.layout}, skipped={result.skipped}): {len(missing)} of "
                           f"{len(page.speech)} speech paragraphs lost or cut:\n" + "\n".join(missing))


@pytest.mark.parametrize("name", NAMES)
def test_no_boilerplate_in_clean_text(name, cleaned):
    page, result = _page(name), cleaned[name]
    assert [chrome for chrome in page.boilerplate if chrome in result.text] == [], name


@pytest.mark.parametrize("name", NAMES)
def test_truncated_exactly_when_cut(name, cleaned):
    page, result = _page(name), cleaned[name]
    assert result.truncated == page.truncated, f"{name}: expected truncated={page.truncated}"


def test_whole_bank_is_kept(cleaned):
    """The summary: every bank sentence kept on every page that shows it (a share of 1.000)."""
    kept, lost = set(BANK), []
    for page in PAGES:
        for sentence in page.trap_sentences:
            if sentence not in cleaned[page.name].text:
                kept.discard(sentence)
                lost.append(f"{page.name} [{_position(page, sentence)}] {sentence}")
    share = len(kept) / len(BANK)
    failing = sorted({line.split(" ")[0] for line in lost})
    assert share == 1.0, (f"kept {share:.3f} of {len(BANK)} trap sentences; {len(lost)} placements lost on "
                          f"{len(failing)} of {len(PAGES)} pages:\n" + "\n".join(lost))


def _page(name: str) -> TrapPage:
    return PAGES[NAMES.index(name)]


# -- notices ----------------------------------------------------------------------------------

_SPEECH = next(text for text in generate_texts(6, seed=1717, prefix="n") if "，" in text.paragraphs[2]).paragraphs[:6]


def _notice_page(notice: str) -> bytes:
    body = "".join(f"<p>{paragraph}</p>\n" for paragraph in _SPEECH[1:])
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>年度工作会议讲话_公文网</title></head><body>
<div class="nav"><a href="/">首页</a> <a href="/jh/">讲话稿</a> <a href="/fy/">发言稿</a> <a href="/zj/">工作总结</a></div>
<div class="main"><h1>年度工作会议讲话</h1><div class="info">2024-05-06 公文网</div>
<div class="content">
{body}<p>{notice}</p>
</div></div>
<div class="foot">公文网 版权所有</div></body></html>""".encode()


@pytest.mark.parametrize("notice", NOTICES, ids=[f"notice{i:02d}" for i in range(len(NOTICES))])
def test_reworded_notice_is_detected(notice):
    page = FetchedPage(url="http://127.0.0.1:8810/a/1.html", body=_notice_page(notice),
                       content_type="text/html; charset=utf-8")
    extraction = extract_texts([page])
    assert extraction.texts and all(text.truncated for text in extraction.texts), notice
    assert all(notice not in text.text for text in extraction.texts), notice
