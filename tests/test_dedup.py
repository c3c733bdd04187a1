"""Tests for duplicate detection (fanwen/dedup.py, issue 4).

The quality test plants copies of generated speeches with the edits copying sites make
(verbatim, retitled, swapped placeholders, an inserted paragraph, a truncated preview,
re-punctuated) among unrelated texts that share the corpus' phrase bank, and pins
precision and recall over the planted pairs.
"""

from __future__ import annotations

import datetime
import itertools
import random
import re
from dataclasses import dataclass

import pytest

from fanwen.dedup import (
    TextForDedup,
    cluster_texts,
    exact_key,
    normalised_for_hash,
    signature,
    signature_params,
    similarity,
)
from fanwen.replica.corpus import PLACEHOLDER_PATTERN, generate_texts

# -- the planted corpus ----------------------------------------------------------------------

EDITS = ("verbatim", "retitled", "placeholders", "inserted", "truncated", "repunctuated", "preview_repunctuated")

_PLACEHOLDER_SWAPS = (
    (re.compile(r"X县"), "某县"), (re.compile(r"XX"), "××"), (re.compile(r"××"), "XX"),
    (re.compile(r"202x年"), "20xx年"), (re.compile(r"20__年"), "202x年"), (re.compile(r"某"), "X"),
    (re.compile(r"____"), "XX"), (re.compile(r"xx"), "XX"),
)
_TO_ASCII = str.maketrans({"，": ",", "：": ":", "；": ";", "（": "(", "）": ")", "！": "!"})
_TO_FULL_WIDTH = str.maketrans({",": "，", ":": "：", ";": "；", "(": "（", ")": "）", "!": "！"})
_SECTION_HEADING = re.compile(r"^[一二三四五六七八九十]、")


@dataclass(frozen=True)
class PlantedCorpus:
    texts: list[TextForDedup]
    groups: list[set[int]]  # each source text with its planted copies
    edit_of: dict[int, str]  # copy id -> the edit that made it


def _swap_placeholders(paragraphs: list[str], rng: random.Random) -> list[str]:
    swaps = [swap for swap in _PLACEHOLDER_SWAPS if any(swap[0].search(p) for p in paragraphs)]
    for pattern, replacement in rng.sample(swaps, min(3, len(swaps))):
        paragraphs = [pattern.sub(replacement, p) for p in paragraphs]
    return paragraphs


def _repunctuate(paragraphs: list[str], rng: random.Random) -> list[str]:
    table = _TO_ASCII if rng.random() < 0.5 else _TO_FULL_WIDTH
    indent = rng.choice(("\u3000\u3000", "  ", "\t"))
    return [indent + p.translate(table) + rng.choice(("", " ", "\u3000")) for p in paragraphs]


def _edited_copy(edit: str, source: list[str], title: str, donor: list[str], rng: random.Random) -> tuple[list[str], bool]:
    """Paragraphs of a copy of ``source`` made with ``edit``, and whether it is truncated."""
    paragraphs = list(source)
    if edit == "retitled":
        # A copying site puts its own title line on top and rewords a section heading.
        headings = [i for i, p in enumerate(paragraphs) if _SECTION_HEADING.match(p)]
        if headings:
            i = rng.choice(headings)
            paragraphs[i] = paragraphs[i][:2] + rng.choice([p for p in donor if len(p) < 40] or ["扎实推进各项工作"])
        paragraphs.insert(0, rng.choice((f"{title}（精选范文）", f"{title}范文3篇", f"最新{title}")))
    elif edit == "placeholders":
        paragraphs = _swap_placeholders(paragraphs, rng)
    elif edit == "inserted":
        position = rng.randrange(1, len(paragraphs))
        paragraphs.insert(position, max(donor, key=len))
    elif edit in ("truncated", "preview_repunctuated"):
        keep = max(2, round(len(paragraphs) * rng.uniform(0.4, 0.6)))
        paragraphs = paragraphs[:keep]
        if edit == "preview_repunctuated":
            paragraphs = _repunctuate(paragraphs, rng)
        return paragraphs, True
    elif edit == "repunctuated":
        paragraphs = _repunctuate(paragraphs, rng)
    return paragraphs, False


def planted_corpus(originals: int, sources: int, *, seed: int) -> PlantedCorpus:
    """``originals`` generated texts; ``sources`` of them get one or two edited copies."""
    rng = random.Random(f"dedup-planted:{seed}")
    samples = generate_texts(originals, seed=seed)
    texts = [
        TextForDedup(i + 1, "\n".join(s.paragraphs), s.published.isoformat(), False, f"site{i % 5}")
        for i, s in enumerate(samples)
    ]
    with_placeholders = {i for i, s in enumerate(samples) if any(PLACEHOLDER_PATTERN.search(p) for p in s.paragraphs)}
    order = rng.sample(range(originals), originals)
    groups, edit_of, used = [], {}, set()
    next_id = originals + 1
    for n in range(sources):
        edits = [EDITS[n % len(EDITS)]]
        if n % 3 == 0:  # some speeches are copied twice, differently
            edits.append(rng.choice(EDITS))
        # Swapping placeholders needs a text that has some.
        index = next(i for i in order if i not in used and ("placeholders" not in edits or i in with_placeholders))
        used.add(index)
        source = samples[index]
        group = {index + 1}
        for edit in edits:
            donor = samples[rng.randrange(originals)].paragraphs
            paragraphs, truncated = _edited_copy(edit, list(source.paragraphs), source.title, list(donor), rng)
            copied = (source.published + datetime.timedelta(days=30 + next_id % 300)).isoformat()
            texts.append(TextForDedup(next_id, "\n".join(paragraphs), copied, truncated, f"copier{next_id % 7}"))
            group.add(next_id)
            edit_of[next_id] = edit
            next_id += 1
        groups.append(group)
    return PlantedCorpus(texts, groups, edit_of)


def pairs_within(groups) -> set[tuple[int, int]]:
    return {pair for group in groups for pair in itertools.combinations(sorted(group), 2)}


def precision_recall(corpus: PlantedCorpus, cluster_of: dict[int, int]) -> tuple[float, float, set, set]:
    found_groups: dict[int, set[int]] = {}
    for text_id, cluster in cluster_of.items():
        found_groups.setdefault(cluster, set()).add(text_id)
    found = pairs_within(found_groups.values())
    truth = pairs_within(corpus.groups)
    hits = found & truth
    precision = len(hits) / len(found) if found else 1.0
    return precision, len(hits) / len(truth), found - truth, truth - found
