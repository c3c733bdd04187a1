"""The gold corpus (``tests/fixtures/gold``) and how an extractor's output is scored against it.

Text precision / recall / F1 over the bag of CJK characters and alphanumerics,
title and date matches, truncated and 合集 count accuracy, leaked boilerplate.
``benchmarks/extraction_quality.py`` prints the table; ``tests/test_gold.py`` pins the floors.
"""


from __future__ import annotations

import json
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fanwen.extract_command import extract_page, rules_for_url
from pipelines.rules import GENERIC_RULES

REPO = Path(__file__).resolve().parents[1]

GOLD = REPO / "tests" / "fixtures" / "gold"

# Boilerplate phrases of the catalogue (docs/site-families.md, "Boilerplate and traps") that no clean
# text of the gold corpus holds.
BOILERPLATE = (
    "预览阅读已结束", "联系老师", "代笔", "相关阅读", "最近更新", "热门推荐", "相关推荐", "猜你喜欢", "热门关注",
    "上一篇", "下一篇", "小编", "下载文档", "推荐度", "Word文档", "当前位置", "您的位置", "扫码关注", "版权所有",
    "版权说明", "来源于出国留学网", "还剩", "继续免费阅读", "全文预览", "未完", "x0dx0a", "本帖最后由", "#p#",
    "conten", "优秀文章", "文档简介", "上传人", "分享到", "敬请关注", "点击下载", "VIP",
)
_SCORED_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffffA-Za-z0-9]")


@dataclass(frozen=True)
class GoldPage:
    name: str
    layout: str
    body: bytes
    content_type: str | None
    url: str
    documents: list[dict]
    must_not_contain: list[str]


@dataclass(frozen=True)
class Output:
    """What an extractor returned for one page."""

    texts: list[str]
    title: str | None
    published: str | None
    truncated: bool


@dataclass
class PageScore:
    name: str
    precision: float
    recall: float
    f1: float
    title_ok: bool
    date_ok: bool
    truncated_ok: bool
    count_ok: bool
    is_collection: bool
    leaks: list[str] = field(default_factory=list)


def load_gold(directory: Path = GOLD) -> list[GoldPage]:
    pages = []
    for path in sorted(directory.glob("*.expected.json")):
        name = path.name.removesuffix(".expected.json")
        record = json.loads(path.read_text(encoding="utf-8"))
        documents = record["documents"]
        pages.append(GoldPage(name, record["layout"], (directory / f"{name}.html").read_bytes(),
                              record.get("content_type"), documents[0]["url"], documents,
                              record.get("must_not_contain", [])))
    return pages


def char_bag(text: str) -> Counter:
    return Counter(_SCORED_CHAR.findall(text))


def text_scores(predicted: str, expected: str) -> tuple[float, float, float]:
    got, want = char_bag(predicted), char_bag(expected)
    overlap = sum((got & want).values())
    precision = overlap / sum(got.values()) if got else (1.0 if not want else 0.0)
    recall = overlap / sum(want.values()) if want else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def leaked_phrases(output: str, page: GoldPage) -> list[str]:
    expected = "\n".join(doc["text"] for doc in page.documents)
    phrases = dict.fromkeys((*BOILERPLATE, *page.must_not_contain))
    return [phrase for phrase in phrases if phrase in output and phrase not in expected]


def score_page(page: GoldPage, output: Output) -> PageScore:
    joined = "\n".join(output.texts)
    expected = "\n".join(doc["text"] for doc in page.documents)
    precision, recall, f1 = text_scores(joined, expected)
    first = page.documents[0]
    return PageScore(
        name=page.name, precision=precision, recall=recall, f1=f1,
        title_ok=output.title == first["title"], date_ok=output.published == first["published"],
        truncated_ok=output.truncated == any(doc["truncated"] for doc in page.documents),
        count_ok=len(output.texts) == len(page.documents), is_collection=len(page.documents) > 1,
        leaks=leaked_phrases(joined, page),
    )


# -- the extractors ---------------------------------------------------------------------------

def fanwen_extractor(generic: bool) -> Callable[[GoldPage], Output]:
    def run(page: GoldPage) -> Output:
        rules = GENERIC_RULES if generic else rules_for_url(page.url)[0]
        texts = extract_page(page.body, page.url, rules, page.content_type).texts
        if not texts:
            return Output([], None, None, False)
        return Output([t.text for t in texts], texts[0].title, texts[0].published, any(t.truncated for t in texts))
    return run


def trafilatura_extractor(page: GoldPage) -> Output:
    import trafilatura

    # trafilatura reads the raw bytes and decodes them itself (no Content-Type header is passed).
    result = trafilatura.bare_extraction(page.body, url=page.url, with_metadata=True, include_comments=False)
    if result is None:
        return Output([], None, None, False)
    data = result.as_dict() if hasattr(result, "as_dict") else result
    text = data.get("text") or ""
    return Output([text] if text else [], data.get("title"), data.get("date"), False)


EXTRACTORS: dict[str, Callable[[GoldPage], Output]] = {
    "fanwen (profiles)": fanwen_extractor(generic=False),
    "fanwen (generic)": fanwen_extractor(generic=True),
    "trafilatura": trafilatura_extractor,
}


@dataclass
class Summary:
    name: str
    pages: list[PageScore]
    pages_per_second: float

    def mean(self, attribute: str) -> float:
        return statistics.fmean(getattr(p, attribute) for p in self.pages)

    def rate(self, attribute: str, only_collections: bool = False) -> float:
        chosen = [p for p in self.pages if p.is_collection or not only_collections]
        return sum(bool(getattr(p, attribute)) for p in chosen) / len(chosen) if chosen else 1.0

    @property
    def min_f1(self) -> float:
        return min(p.f1 for p in self.pages)

    @property
    def leaks(self) -> int:
        return sum(len(p.leaks) for p in self.pages)


def evaluate(name: str, extractor: Callable[[GoldPage], Output], gold: list[GoldPage], rounds: int = 1) -> Summary:
    outputs: list[Output] = []
    best = float("inf")
    for _ in range(max(1, rounds)):
        started = time.perf_counter()
        outputs = [extractor(page) for page in gold]
        best = min(best, time.perf_counter() - started)
    scores = [score_page(page, output) for page, output in zip(gold, outputs)]
    return Summary(name, scores, len(gold) / best if best > 0 else float("inf"))


def table(summaries: list[Summary], baseline: str = "trafilatura") -> str:
    base = next((s for s in summaries if s.name == baseline), None)
    rows = [
        "| extractor | text P | text R | text F1 (mean) | F1 (min) | title exact | date exact | truncated acc. "
        "| 合集 count acc. | count acc. (all) | leaked boilerplate | pages/s | × trafilatura |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summaries:
        ratio = s.pages_per_second / base.pages_per_second if base else float("nan")
        rows.append(
            f"| {s.name} | {s.mean('precision'):.3f} | {s.mean('recall'):.3f} | {s.mean('f1'):.3f} | {s.min_f1:.3f} "
            f"| {s.rate('title_ok'):.2f} | {s.rate('date_ok'):.2f} | {s.rate('truncated_ok'):.2f} "
            f"| {s.rate('count_ok', only_collections=True):.2f} | {s.rate('count_ok'):.2f} | {s.leaks} "
            f"| {s.pages_per_second:.0f} | {ratio:.1f} |"
        )
    return "\n".join(rows)
