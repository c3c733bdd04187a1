"""Pages that catch a cleaner deleting speech: sentences with boilerplate's words on unfamiliar layouts.

A cleaner that deletes every line holding 版权, 代写, 联系, 下载, 公众号, 全文,
上一篇, 附件1 … deletes speech with the chrome, and test data written to avoid those
words never shows it.  These pages put every sentence of the phrase bank's [traps]
into speeches (filler paragraphs from ``replica.corpus``) at every position
a cleaner treats differently: the first paragraph, the middle, the last paragraph,
and the paragraph right before a preview-ended notice.  The speeches are shown on
nine layout families unlike the replica sites (``trap_layouts``), in GBK and UTF-8,
some with a Content-Type header that contradicts the page's ``<meta>``.

The truth is known by construction: every paragraph of ``speech`` must come out
whole, no string of ``boilerplate`` may come out at all, and ``truncated`` says
whether the page cut the text short.  Pure and deterministic: the same seed gives
the same bytes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

from .corpus import SampleText, generate_texts, load_phrasebank
from .trap_layouts import LAYOUTS, Layout, Notice, Sheet

__all__ = ["TrapPage", "trap_pages", "trap_sentences", "truncation_notices"]

PAGES_PER_LAYOUT = 8
# Paragraphs that stand only in some places of a real text: a section heading inside it,
# attachment lines and closing formulas at its end.
_INSIDE_ONLY = ("headings",)
_END_ONLY = ("attachment_lines", "closings")
_PROSE_END = ("。", "！", "？")


@dataclass(frozen=True)
class TrapPage:
    name: str  # unique, e.g. "table_layout_03"
    layout: str  # which layout family rendered it
    url: str
    body: bytes  # the raw page bytes as the server sends them
    content_type: str | None  # the Content-Type header value
    title: str  # the text's own title
    speech: tuple[str, ...]  # every paragraph of the speech, in order; each must survive whole
    trap_sentences: tuple[str, ...]  # the sentences in ``speech`` that use boilerplate's words
    boilerplate: tuple[str, ...]  # chrome and notice strings on the page that no clean text may contain
    truncated: bool  # the page cuts the text short with a preview or paywall notice


def trap_sentences() -> list[str]:
    """Every sentence and paragraph of the bank's [traps], in file order."""
    return [sentence for group in _groups().values() for sentence in group]


def truncation_notices() -> list[str]:
    """The preview/paywall notices of the bank's [traps], one line each."""
    return [notice.line for notice in _notices()]


def trap_pages(seed: int = 17) -> list[TrapPage]:
    """The issue's own page, then ``PAGES_PER_LAYOUT`` pages of every layout family."""
    return list(_build(seed))


def _groups() -> dict[str, list[str]]:
    return load_phrasebank()["traps"]["sentences"]


def _notices() -> list[Notice]:
    return [Notice(item["line"], item.get("button")) for item in load_phrasebank()["traps"]["notices"]]


class _Deck:
    """Deals items in shuffled rounds, so that every item comes once before any comes twice."""

    def __init__(self, items, rng: random.Random) -> None:
        self._items = list(items)
        self._rng = rng
        self._left: list = []

    def deal(self, avoid=()):
        for _ in range(2 * len(self._items)):
            if not self._left:
                self._left = list(self._items)
                self._rng.shuffle(self._left)
            item = self._left.pop()
            if item not in avoid:
                return item
            self._left.insert(0, item)  # dealt later in this round, on another page
        raise ValueError("every item is on this page already")


@lru_cache(maxsize=4)
def _build(seed: int) -> tuple[TrapPage, ...]:
    rng = random.Random(f"fanwen-trap-pages:{seed}")
    groups = _groups()
    general = _Deck([s for name, group in groups.items() if name not in _INSIDE_ONLY + _END_ONLY for s in group], rng)
    inside = _Deck([s for name in _INSIDE_ONLY for s in groups[name]], rng)
    ending = _Deck([s for name in _END_ONLY for s in groups[name]], rng)
    notices = _Deck(_notices(), rng)
    sources = _source_texts(seed)
    titles = [sample.title for sample in sources]
    bank = trap_sentences()
    standalone = {s for name in _INSIDE_ONLY + _END_ONLY for s in groups[name]}

    pages = [_issue17_page()]
    for family, layout in enumerate(LAYOUTS):
        for index in range(PAGES_PER_LAYOUT):
            k = family * PAGES_PER_LAYOUT + index
            sample = sources[k]
            on_page: list[str] = []

            def deal(deck: _Deck, on_page: list[str] = on_page) -> str:
                item = deck.deal(on_page)
                on_page.append(item)
                return item

            first = deal(general)
            middles = [deal(general) for _ in range(3 if k % 3 == 0 else 2)]
            if k % 2 == 0:
                middles.append(deal(inside))
            # Pages alternate cut and whole (by index); attachment lines and closings end one
            # page in two out of step with that, so both kinds of end meet both kinds of page.
            end = deal(ending) if k % 4 in (1, 2) else deal(general)
            speech = _speech(_body(sample, rng), first, middles, end, rng, standalone)
            truncated = layout.always_truncated or index % 2 == 1
            related = tuple(rng.sample([t for t in titles if t != sample.title], 8))
            pages.append(_page(layout, index, 5000 + 37 * k, sample, tuple(speech),
                               notices.deal() if truncated else None, related, bank, rng))
    return tuple(pages)


def _source_texts(seed: int) -> list[SampleText]:
    """Generated texts for the filler paragraphs, those written with full-width punctuation."""
    texts = generate_texts(len(LAYOUTS) * PAGES_PER_LAYOUT * 2, seed=seed, prefix="trap")
    return [text for text in texts if "，" in "".join(text.paragraphs)]


def _body(sample: SampleText, rng: random.Random) -> list[str]:
    """The opening paragraphs of a text, without its salutation (a trap sentence takes its place)."""
    paragraphs = list(sample.paragraphs)
    if paragraphs[0].endswith(("：", ":")) and len(paragraphs[0]) <= 30:
        paragraphs = paragraphs[1:]
    return paragraphs[: rng.randint(4, 8)]


def _speech(body: list[str], first: str, middles: list[str], end: str, rng: random.Random,
            fixed: set[str]) -> list[str]:
    """``body`` with the trap items placed: ``first`` in the first paragraph, ``end`` in the last.

    A sentence stands as a paragraph of its own or runs on with a filler paragraph;
    headings, attachment lines and closings (``fixed``) always stand alone.
    """
    speech = list(body)

    def alone(item: str, neighbour: str) -> bool:
        return item in fixed or not neighbour.endswith(_PROSE_END) or rng.random() < 0.5

    for item in middles:
        index = rng.randrange(1, len(speech))
        if alone(item, speech[index]):
            speech.insert(index, item)
        elif rng.random() < 0.5:
            speech[index] = item + speech[index]
        else:
            speech[index] = speech[index] + item
    if alone(first, speech[0]):
        speech.insert(0, first)
    else:
        speech[0] = first + speech[0]
    if alone(end, speech[-1]):
        speech.append(end)
    else:
        speech[-1] = speech[-1] + end
    return speech


def _page(layout: Layout, index: int, number: int, sample: SampleText, speech: tuple[str, ...],
          notice: Notice | None, related: tuple[str, ...], bank: list[str], rng: random.Random) -> TrapPage:
    encoding = layout.encodings[index % len(layout.encodings)]
    sheet = Sheet(number, sample.title, sample.published, speech, notice, related, encoding.meta)
    markup, chrome = layout.render(sheet, rng)
    # A chrome string the speech or title also says cannot tell a leak from the text.
    shown = (sample.title, *speech)
    boilerplate = tuple(dict.fromkeys(c for c in chrome if c and not any(c in text for text in shown)))
    return TrapPage(
        name=f"{layout.name}_{index:02d}",
        layout=layout.name,
        url=f"http://127.0.0.1:{layout.port}{layout.path.format(number)}",
        body=markup.encode(encoding.codec, errors="xmlcharrefreplace"),
        content_type=encoding.header,
        title=sample.title,
        speech=speech,
        trap_sentences=_found(bank, speech),
        boilerplate=boilerplate,
        truncated=notice is not None,
    )


def _found(bank: list[str], speech: tuple[str, ...]) -> tuple[str, ...]:
    """The bank's sentences in ``speech``, in reading order (filler texts may quote some too)."""
    places: dict[str, tuple[int, int]] = {}
    for sentence in bank:
        for number, paragraph in enumerate(speech):
            offset = paragraph.find(sentence)
            if offset >= 0:
                places.setdefault(sentence, (number, offset))
    return tuple(sorted(places, key=places.__getitem__))


# -- the page of the issue, as reported ---------------------------------------------------------

_ISSUE17_HTML = """<html><head><meta charset="utf-8"><title>在全县廉政工作会议上的讲话_范文网</title></head><body>
<div class="nav"><a href="/">首页</a> <a href="/a/">讲话稿</a></div>
<div class="article"><h1>在全县廉政工作会议上的讲话</h1><div class="info">2024-03-02 范文网</div>
<div class="content">
<p>同志们：今天我们召开全县廉政工作会议，主要任务是总结去年工作，部署今年任务。</p>
<p>第一，要严守纪律。各单位材料必须自己动手撰写，严禁找人代写，发现代写问题的，请联系纪检部门举报。</p>
<p>第二，要尊重知识产权。单位印发的资料要注明出处，版权所有人的合法权益必须得到保护。</p>
<p>第三，要加强宣传。各部门要用好政务新媒体，引导群众关注微信公众号“清风X县”，及时了解政策。</p>
<p>附件1：廉政风险点清单</p><p>附件2：责任分工表</p>
<p>以上是我今天发言的全部内容，讲得不对的地方，请大家批评指正。谢谢大家！</p>
</div></div>
<div class="related"><h3>相关阅读</h3><ul><li><a href="/1.html">廉政讲话稿</a></li></ul></div>
</body></html>
"""
_ISSUE17_SPEECH = (
    "同志们：今天我们召开全县廉政工作会议，主要任务是总结去年工作，部署今年任务。",
    "第一，要严守纪律。各单位材料必须自己动手撰写，严禁找人代写，发现代写问题的，请联系纪检部门举报。",
    "第二，要尊重知识产权。单位印发的资料要注明出处，版权所有人的合法权益必须得到保护。",
    "第三，要加强宣传。各部门要用好政务新媒体，引导群众关注微信公众号“清风X县”，及时了解政策。",
    "附件1：廉政风险点清单",
    "附件2：责任分工表",
    "以上是我今天发言的全部内容，讲得不对的地方，请大家批评指正。谢谢大家！",
)


def _issue17_page() -> TrapPage:
    return TrapPage(
        name="issue17_plain",
        layout="issue17_plain",
        url="http://127.0.0.1:8800/a/123.html",
        body=_ISSUE17_HTML.encode("utf-8"),
        content_type="text/html; charset=utf-8",
        title="在全县廉政工作会议上的讲话",
        speech=_ISSUE17_SPEECH,
        trap_sentences=_ISSUE17_SPEECH[1:],
        boilerplate=("范文网", "相关阅读", "廉政讲话稿", "首页"),
        truncated=False,
    )
