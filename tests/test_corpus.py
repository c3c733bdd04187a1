"""Tests for the replica sites' text generator (replica/corpus.py)."""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import statistics
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from replica.corpus import GENRE_TITLE_KEYWORDS, GENRES, SampleText, generate_texts

PHRASEBANK = Path(__file__).resolve().parents[1] / "replica" / "phrasebank.toml"

HAN = re.compile(r"[\u4e00-\u9fff]")
HEADING = re.compile(r"^([一二三四五六七八九十])、")
SENTENCE_END = re.compile(r"(?<=[。！？])")
# Template placeholders (docs/site-families.md, "Template placeholders"): X县, xx局, ××同志, ____%, 某某镇,
# 202x年 / 20__年.
PLACEHOLDER = re.compile(r"[Xx×]|_{2,}|某")
ASCII_FORMS = str.maketrans({"，": ",", "：": ":", "；": ";", "（": "(", "）": ")"})


def trap_bank() -> list[str]:
    """The [traps] sentences, also as a text written with ASCII punctuation quotes them."""
    groups = tomllib.loads(PHRASEBANK.read_text(encoding="utf-8"))["traps"]["sentences"]
    sentences = [sentence for group in groups.values() for sentence in group]
    return sentences + [sentence.translate(ASCII_FORMS) for sentence in sentences]


def body(text: SampleText) -> str:
    return "\n".join(text.paragraphs)


def han_count(text: SampleText) -> int:
    return len(HAN.findall(body(text)))


@pytest.fixture(scope="module")
def corpus() -> list[SampleText]:
    return generate_texts(5000, seed=2024)


# -- determinism ----------------------------------------------------------------------------


def test_same_arguments_give_identical_texts():
    first = generate_texts(120, seed=7, prefix="a")
    second = generate_texts(120, seed=7, prefix="a")
    assert first == second
    assert generate_texts(120, seed=8, prefix="a") != first


_DIGEST_SCRIPT = """
import hashlib, sys
from replica.corpus import generate_texts
texts = generate_texts(150, seed=99, genres=["讲话稿", "心得体会", "述职报告"])
print(hashlib.sha256(repr(texts).encode("utf-8")).hexdigest())
"""


def test_output_does_not_depend_on_string_hashing():
    # Different hash seeds change str hashing and set order; the texts must not change.
    root = Path(__file__).resolve().parents[1]
    digests = set()
    for hash_seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(root)}
        result = subprocess.run(
            [sys.executable, "-c", _DIGEST_SCRIPT], capture_output=True, text=True, env=env, cwd=root, check=True
        )
        digests.add(result.stdout.strip())
    texts = generate_texts(150, seed=99, genres=["讲话稿", "心得体会", "述职报告"])
    digests.add(hashlib.sha256(repr(texts).encode("utf-8")).hexdigest())
    assert len(digests) == 1


def test_keys_and_earlier_texts_are_stable():
    texts = generate_texts(30, seed=5, prefix="jianghua")
    assert [text.key for text in texts] == [f"jianghua{i:05d}" for i in range(30)]
    assert generate_texts(10, seed=5, prefix="jianghua") == texts[:10]


def test_count_validation():
    assert generate_texts(0, seed=1) == []
    with pytest.raises(ValueError):
        generate_texts(-1, seed=1)


# -- titles ---------------------------------------------------------------------------------


def test_titles_unique_for_5000(corpus):
    titles = [text.title for text in corpus]
    assert len(set(titles)) == len(titles) == 5000


@pytest.mark.parametrize("genre", ["述职报告", "演讲稿"])
def test_titles_unique_within_one_genre(genre):
    titles = [text.title for text in generate_texts(3000, seed=11, genres=[genre])]
    assert len(set(titles)) == len(titles)


def test_titles_carry_their_genre_keyword_and_no_other(corpus):
    for text in corpus:
        found = {genre for genre, keyword in GENRE_TITLE_KEYWORDS.items() if keyword in text.title}
        assert found == {text.genre}, text.title


def test_titles_look_like_real_titles(corpus):
    by_genre: dict[str, list[str]] = {}
    for text in corpus:
        by_genre.setdefault(text.genre, []).append(text.title)
    assert any(re.fullmatch(r"在.+上的讲话", title) for title in by_genre["讲话稿"])
    assert any(title.endswith("交流发言") for title in by_genre["发言稿"])
    assert any(title.endswith("表态发言") for title in by_genre["发言稿"])
    assert any(title.endswith("开幕式致辞") or "开幕式上的致辞" in title for title in by_genre["致辞"])
    assert any(title.endswith("主持词") for title in by_genre["主持词"])
    assert all(title.endswith("心得体会") for title in by_genre["心得体会"])
    assert any(re.fullmatch(r"20(\d\d|2x|xx|__)年.*工作总结", title) for title in by_genre["工作总结"])
    assert all(title.endswith("工作计划") for title in by_genre["工作计划"])
    assert any(title.endswith("述职报告") for title in by_genre["述职报告"])
    assert any(title.endswith("工作情况汇报") for title in by_genre["汇报材料"])
    assert any(title.endswith("主题演讲稿") for title in by_genre["演讲稿"])
    for text in corpus:
        assert text.title == text.title.strip() and len(text.title) <= 60, text.title


# -- body -----------------------------------------------------------------------------------


def test_lengths_within_bounds(corpus):
    totals = []
    for text in corpus:
        total = sum(len(paragraph) for paragraph in text.paragraphs)
        assert han_count(text) >= 1500, text.key
        assert total <= 5000, text.key
        assert 8 <= len(text.paragraphs) <= 30, text.key
        totals.append(total)
    assert 2500 <= statistics.median(totals) <= 3100
    assert max(totals) > 4500  # the long tail exists


def test_paragraphs_are_clean(corpus):
    for text in corpus:
        for paragraph in text.paragraphs:
            assert paragraph and paragraph == paragraph.strip(), text.key
            assert "\n" not in paragraph and "\u3000" not in paragraph
            assert "{" not in paragraph and "}" not in paragraph
            assert paragraph.count("“") == paragraph.count("”"), paragraph


def test_section_headings_are_own_paragraphs_numbered_in_order(corpus):
    with_headings = 0
    for text in corpus:
        numerals = [m.group(1) for p in text.paragraphs if (m := HEADING.match(p))]
        for paragraph in text.paragraphs:
            if HEADING.match(paragraph):
                assert len(paragraph) <= 40 and not paragraph.endswith("。"), paragraph
        if numerals:
            with_headings += 1
            assert "".join(numerals) == "一二三四五六七八九十"[: len(numerals)], text.key
    assert with_headings > len(corpus) * 0.6


def test_no_markup_and_letters_only_in_trap_sentences(corpus):
    bank = trap_bank()
    for text in corpus:
        assert not re.search(r"[A-WYZa-wyz<>&]", text.title), text.title
        for paragraph in text.paragraphs:
            assert not re.search(r"[<>&]", paragraph), (text.key, paragraph)
            for sentence in bank:
                paragraph = paragraph.replace(sentence, "")
            assert not re.search(r"[A-WYZa-wyz]", paragraph), (text.key, paragraph)


def test_trap_sentences_at_first_middle_and_last_paragraph(corpus):
    """Texts quote sentences with boilerplate's words, at the edges as in the middle."""
    bank = trap_bank()
    with_traps = 0
    positions = Counter()
    for text in corpus:
        found = [index for index, paragraph in enumerate(text.paragraphs) if any(s in paragraph for s in bank)]
        with_traps += bool(found)
        last = len(text.paragraphs) - 1
        positions.update("first" if i == 0 else "last" if i == last else "middle" for i in found)
    assert 0.25 <= with_traps / len(corpus) <= 0.42
    assert positions["first"] >= 50 and positions["last"] >= 200 and positions["middle"] >= 500, positions



def test_texts_encode_as_gb2312(corpus):
    # Replica site B declares GB2312; only its one deliberate page may need GBK-only characters.
    for text in corpus:
        (text.title + body(text)).encode("gb2312")


def test_published_range_and_time_of_day(corpus):
    earliest, latest = datetime.datetime(2019, 1, 1), datetime.datetime(2025, 12, 31, 23, 59, 59)
    assert all(earliest <= text.published <= latest for text in corpus)
    assert {text.published.year for text in corpus} == set(range(2019, 2026))
    assert len({text.published.time() for text in corpus}) > 4000


def test_sentences_do_not_repeat_within_a_text(corpus):
    repeats = 0
    for text in corpus[:1000]:
        sentences = Counter(s for p in text.paragraphs for s in SENTENCE_END.split(p) if len(s) > 12)
        repeats += sum(count - 1 for count in sentences.values())
    assert repeats / 1000 < 0.5


def test_texts_vary(corpus):
    headings, sentences = set(), set()
    for text in corpus[:300]:
        for paragraph in text.paragraphs:
            if HEADING.match(paragraph):
                headings.add(paragraph[2:])
            sentences.update(s for s in SENTENCE_END.split(paragraph) if s)
    assert len(headings) >= 40
    assert len(sentences) >= 3000
    openings = Counter(text.paragraphs[1] for text in corpus[:300])
    assert openings.most_common(1)[0][1] < 15


def test_phrasebank_is_big_enough():
    bank = tomllib.loads(PHRASEBANK.read_text(encoding="utf-8"))
    topic_headings = {h for topic in bank["topics"] for h in topic["headings"]}
    assert len(bank["topics"]) >= 14 and len(topic_headings) >= 40
    sentences = set()

    def collect(node):
        if isinstance(node, dict):
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)
        elif isinstance(node, str) and node.endswith(("。", "！", "：")):
            sentences.add(node)

    collect(bank)
    assert len(sentences) >= 300


# -- genres ---------------------------------------------------------------------------------


def test_all_genres_dealt_evenly(corpus):
    counts = Counter(text.genre for text in corpus)
    assert set(counts) == set(GENRES)
    assert max(counts.values()) - min(counts.values()) <= 1


def test_genres_restriction():
    chosen = ["致辞", "述职报告", "演讲稿"]
    texts = generate_texts(3, seed=3, genres=chosen)
    assert sorted(text.genre for text in texts) == sorted(chosen)
    texts = generate_texts(40, seed=3, genres=chosen)
    assert {text.genre for text in texts} == set(chosen)
    with pytest.raises(ValueError):
        generate_texts(5, seed=3, genres=["新闻稿"])
    with pytest.raises(ValueError):
        generate_texts(5, seed=3, genres=[])


def test_genre_shapes(corpus):
    def share(genre, check):
        texts = [text for text in corpus if text.genre == genre]
        return sum(1 for text in texts if check(text)) / len(texts)

    assert share("主持词", lambda t: any(p.startswith("下面") for p in t.paragraphs)) > 0.95
    assert share("主持词", lambda t: any("欢迎" in p for p in t.paragraphs)) > 0.9
    assert share("述职报告", lambda t: re.search("审议|评议|批评指正", t.paragraphs[-1]) is not None) == 1
    assert share("述职报告", lambda t: "我" in t.paragraphs[1]) == 1
    assert share("心得体会", lambda t: body(t).count("我") >= 10) > 0.95
    assert share("演讲稿", lambda t: t.paragraphs[1].startswith("大家好")) == 1
    assert share("致辞", lambda t: "谢谢" in t.paragraphs[-1] or "成功" in t.paragraphs[-1]) == 1
    assert share("讲话稿", lambda t: t.paragraphs[0].endswith(("：", ":"))) == 1
    assert share("发言稿", lambda t: "谢谢" in body(t)) > 0.9


# -- placeholders and punctuation -----------------------------------------------------------


def test_placeholder_share(corpus):
    share = sum(1 for text in corpus if PLACEHOLDER.search(body(text))) / len(corpus)
    assert 0.52 <= share <= 0.68
    everything = "\n".join(body(text) for text in corpus)
    for form in ("X县", "××", "202x年", "20xx年", "____%", "某某", "XX局"):
        assert form in everything, form


def test_some_texts_use_ascii_punctuation(corpus):
    ascii_texts = [text for text in corpus if "," in body(text)]
    assert 0.12 <= len(ascii_texts) / len(corpus) <= 0.28
    for text in ascii_texts:
        assert "，" not in body(text) and "：" not in body(text)
