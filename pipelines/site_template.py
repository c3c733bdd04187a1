"""Lines a site repeats at the edges of its texts: its template, learned from pages already archived.

A line that stands first or last in most of a site's texts came from the
site's template, not from its authors.  Sentences are left out unless they
name the site: speeches share closings ("谢谢大家！") as often as a template
shares a banner, and only the template speaks of the site itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

EDGE_LINES = 3  # the lines at each end of a text where a template's leftovers stand
MIN_TEXTS = 20  # fewer texts say little about what the site repeats
MIN_SHARE = 0.5
_SENTENCE_END = ("。", "！", "？", "!", "?", "…")


def edge_lines(text: str) -> set[str]:
    lines = [line for line in text.split("\n") if line.strip()]
    return set(lines[:EDGE_LINES] + lines[-EDGE_LINES:])


def learn_template_lines(texts: Iterable[str], site_name: str | None = None,
                         min_texts: int = MIN_TEXTS, min_share: float = MIN_SHARE) -> list[tuple[str, int]]:
    """(line, number of texts) for each line at the edges of at least ``min_share`` of the texts."""
    counts: Counter[str] = Counter()
    total = 0
    for text in texts:
        total += 1
        counts.update(edge_lines(text))
    if total < min_texts:
        return []
    learned = []
    for line, count in counts.most_common():
        if count < min_share * total:
            break
        if line.endswith(_SENTENCE_END) and not (site_name and site_name in line):
            continue
        learned.append((line, count))
    return learned
