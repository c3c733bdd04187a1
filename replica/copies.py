"""Texts one replica site copies from another, the way 范文 sites copy each other.

Real sites republish the same speech verbatim or lightly edited: a reworded
title or heading, different template placeholders, an extra paragraph.  The
replica plants such copies so duplicate detection is tested on real crawls;
each copy remembers its source, which is the ground truth.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Sequence

from .corpus import SampleText

COPY_KINDS = ("verbatim", "retitled", "placeholders", "inserted_paragraph")

# One placeholder style swapped for another, as sites re-template a text; one
# pass, so 202x年 → 20xx年 and 20xx年 → 202x年 do not undo each other.
_PLACEHOLDER_SWAPS = {
    "X县": "某县", "x县": "某县", "X市": "某市", "xx市": "某市", "xx乡": "某乡", "XX乡": "某乡", "xx镇": "某镇",
    "某某村": "XX村", "某某镇": "XX镇", "202x年": "20xx年", "20xx年": "202x年", "××同志": "XX同志",
    "×××": "XXX", "XX局": "某局", "xx局": "某局",
}
_PLACEHOLDER = re.compile("|".join(re.escape(old) for old in sorted(_PLACEHOLDER_SWAPS, key=len, reverse=True)))


def _swap_placeholders(text: str) -> str:
    return _PLACEHOLDER.sub(lambda match: _PLACEHOLDER_SWAPS[match.group(0)], text)


def _retitle(title: str) -> str:
    # A copy site rebrands the title: "…的讲话" → "…的讲话范文"; others add a year tag.
    return f"{title}范文" if not title.endswith("范文") else f"精选{title}"


def copy_text(source: SampleText, kind: str, filler: Sequence[str], rng: random.Random) -> SampleText:
    """The copy of ``source`` a copying site would publish, edited as ``kind`` says."""
    paragraphs = list(source.paragraphs)
    title = source.title
    if kind == "retitled":
        title = _retitle(title)
        for index, paragraph in enumerate(paragraphs):
            if paragraph[:2] in ("一、", "二、"):
                paragraphs[index] = paragraph[:2] + "着力" + paragraph[2:]
                break
    elif kind == "placeholders":
        title = _swap_placeholders(title)
        paragraphs = [_swap_placeholders(p) for p in paragraphs]
    elif kind == "inserted_paragraph":
        position = rng.randrange(2, max(3, len(paragraphs) - 1))
        paragraphs.insert(position, rng.choice(list(filler)))
    elif kind != "verbatim":
        raise ValueError(f"unknown copy kind {kind!r}")
    return dataclasses.replace(source, title=title, paragraphs=tuple(paragraphs))


def has_placeholders(sample: SampleText) -> bool:
    return any(_PLACEHOLDER.search(text) for text in (sample.title, *sample.paragraphs))
