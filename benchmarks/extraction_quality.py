"""Extraction quality on the gold corpus: fanwen (with profiles, generic) against trafilatura.

    python benchmarks/extraction_quality.py [--gold tests/fixtures/gold] [--rounds 3] [--pages]

Every page of ``tests/fixtures/gold`` is given to each extractor as the raw
bytes a site sent (plus the URL; fanwen also gets the Content-Type header, as
a crawler has it).  Reported per extractor:

* text precision / recall / F1 over the bag of CJK characters and
  alphanumerics (all texts of a page pooled), mean over pages, and the minimum;
* title and date exact-match rates, truncated accuracy, 合集 count accuracy
  (pages whose expected file holds several texts) and count accuracy on all pages;
* leaked boilerplate: occurrences in the output of catalogue phrases
  (docs/site-families.md, "Boilerplate and traps") and of the page's own
  ``must_not_contain`` strings that the
  expected text does not contain;
* pages/s (best of ``--rounds`` timed passes) and the ratio to trafilatura's.

The scorer is evaluation/gold_scoring.py (tests/test_gold.py pins its floors).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from evaluation.gold_scoring import EXTRACTORS, GOLD, evaluate, load_gold, table  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--rounds", type=int, default=3, help="timed passes per extractor; the best counts")
    parser.add_argument("--pages", action="store_true", help="also list every page below F1 0.99 or with a leak")
    parser.add_argument("--without-trafilatura", action="store_true")
    args = parser.parse_args()

    gold = load_gold(args.gold)
    layouts = Counter(page.layout for page in gold)
    print(f"gold corpus: {len(gold)} pages, {sum(len(p.documents) for p in gold)} texts, layouts: "
          + ", ".join(f"{name} {count}" for name, count in sorted(layouts.items())))
    summaries = []
    for name, extractor in EXTRACTORS.items():
        if name == "trafilatura" and args.without_trafilatura:
            continue
        summaries.append(evaluate(name, extractor, gold, args.rounds))
    print(table(summaries))
    by_layout = {s.name: {} for s in summaries}
    for s in summaries:
        for page_score, page in zip(s.pages, gold):
            by_layout[s.name].setdefault(page.layout, []).append(page_score.f1)
    print("\nmean text F1 by layout:")
    print("| layout | " + " | ".join(by_layout) + " |")
    print("|---|" + "---|" * len(by_layout))
    for layout in sorted(layouts):
        print(f"| {layout} ({layouts[layout]}) | "
              + " | ".join(f"{statistics.fmean(scores[layout]):.3f}" for scores in by_layout.values()) + " |")
    if args.pages:
        for s in summaries:
            for p in s.pages:
                if p.f1 < 0.99 or p.leaks or not (p.title_ok and p.date_ok and p.truncated_ok and p.count_ok):
                    print(f"{s.name:18} {p.name:32} F1 {p.f1:.3f} P {p.precision:.3f} R {p.recall:.3f} "
                          f"title {p.title_ok} date {p.date_ok} trunc {p.truncated_ok} count {p.count_ok} leaks {p.leaks}")


if __name__ == "__main__":
    main()
