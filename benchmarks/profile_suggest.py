"""How well a profile written by ``fanwen profile suggest`` crawls each replica layout, against the shipped profile.

    python benchmarks/profile_suggest.py [--layouts huabo ruiwen xuexila liuxue86 diyifanwen]

For each replica layout: one article page and its category's first list page
are fetched from the running replica, ``fanwen profile suggest`` writes a
profile (no hand edits), ``fanwen crawl`` crawls the replica with it, and the
archived texts are scored against the replica's truth with the gold-corpus
scorer (char-bag F1, evaluation/gold_scoring.py; a text the crawl missed
scores 0).  The baseline, in the same run, is the shipped hand-written profile
of the same name crawling the same replica.

The replicas are built to the same descriptions as the cleaning core, so a
second table scores ``suggest``'s extraction rules on the gold corpus too: per
gold layout, rules suggested from the layout's first saved page (article page
only) extract every page of that layout; baseline: the shipped profiles' rules
and the generic rules on the same pages.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from evaluation.gold_scoring import (  # noqa: E402
    Output,
    evaluate,
    fanwen_extractor,
    load_gold,
    score_page,
    text_scores,
)
from replica.process import running_replicas  # noqa: E402
from replica.site import load_site  # noqa: E402

LAYOUTS = ["huabo", "ruiwen", "xuexila", "liuxue86", "diyifanwen"]


def fanwen(*args: str, cwd: Path) -> None:
    subprocess.run([sys.executable, "-m", "fanwen.cli", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=600)


def example_pages(site_name: str) -> tuple[str, str]:
    site = load_site(site_name)
    plain = [a for a in site.articles if not (a.shape and a.shape.parts)]
    article = ([a for a in plain if a.page_count > 1] or plain)[0]
    return article.path, site.list_url(article.category.slug)


def score(archive: Path, site_name: str, profile_name: str) -> tuple[float, float, int, int]:
    site = load_site(site_name)
    connection = sqlite3.connect(archive)
    archived = {("/" + url.split("/", 3)[3], part): text for url, part, text in
                connection.execute("select url, part, text from texts where site = ?", [profile_name])}
    connection.close()
    scores = [text_scores(archived[(a.path, part)], text)[2] if (a.path, part) in archived else 0.0
              for a in site.articles for part, text in enumerate(a.expected_texts, start=1)]
    return sum(scores) / len(scores), min(scores), len(scores), len(archived)


def crawl(name: str, origin: str, workdir: Path, profile_dir: Path | None) -> tuple[Path, float]:
    archive = workdir / f"{name}.db"
    extra = ["-s", f"FANWEN_PROFILE_DIRS={profile_dir}"] if profile_dir else []
    started = time.perf_counter()
    fanwen("crawl", name, "--archive", str(archive), "--base-url", origin + "/", "--delay", "0", "--concurrency", "8",
           "-s", "LOG_LEVEL=WARNING", *extra, cwd=workdir)
    return archive, time.perf_counter() - started


def gold_table() -> None:
    from fanwen.extract_command import extract_page
    from fanwen.profile_suggest import parse_page, suggest
    from pipelines.rules import ExtractionRules

    gold = load_gold()
    shipped = {s.name: s for s in evaluate("profiles", fanwen_extractor(generic=False), gold).pages}
    generic = {s.name: s for s in evaluate("generic", fanwen_extractor(generic=True), gold).pages}
    print("| gold layout | pages | suggested rules mean F1 (min) | shipped profile mean F1 | generic mean F1 | ratio to shipped |")
    print("|---|---|---|---|---|---|")
    for layout in sorted({page.layout for page in gold}):
        pages = [page for page in gold if page.layout == layout]
        first = pages[0]
        found = suggest(parse_page(first.body, first.url, first.content_type))
        rules = ExtractionRules(site_name=found.site_name, title=found.title, body=found.body, date=found.date,
                                next_page=found.next_page)
        f1s = []
        for page in pages:
            texts = extract_page(page.body, page.url, rules, page.content_type).texts
            output = Output([t.text for t in texts], texts[0].title if texts else None,
                            texts[0].published if texts else None, any(t.truncated for t in texts))
            f1s.append(score_page(page, output).f1)
        mean = sum(f1s) / len(f1s)
        base = sum(shipped[p.name].f1 for p in pages) / len(pages)
        plain = sum(generic[p.name].f1 for p in pages) / len(pages)
        print(f"| {layout} | {len(pages)} | {mean:.4f} ({min(f1s):.3f}) | {base:.4f} | {plain:.4f} | {mean / base:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layouts", nargs="+", default=LAYOUTS)
    parser.add_argument("--no-gold", action="store_true", help="skip the gold-corpus table")
    args = parser.parse_args()
    if not args.no_gold:
        gold_table()
        print()
    print("| layout | texts | suggested: archived | suggested mean F1 (min) | shipped mean F1 (min) | ratio | suggest crawl s | shipped crawl s |")
    print("|---|---|---|---|---|---|---|---|")
    for layout in args.layouts:
        with tempfile.TemporaryDirectory() as temp, running_replicas([layout]) as urls:
            workdir = Path(temp)
            profile_dir = workdir / "profiles"
            profile_dir.mkdir()
            origin = urls[layout].rstrip("/")
            article, listing = example_pages(layout)
            name = f"suggested_{layout}"
            fanwen("profile", "suggest", origin + article, origin + listing, "-o", str(profile_dir / f"{name}.toml"),
                   cwd=workdir)
            suggested_db, suggested_s = crawl(name, origin, workdir, profile_dir)
            shipped_db, shipped_s = crawl(layout, origin, workdir, None)
            s_mean, s_min, expected, s_archived = score(suggested_db, layout, name)
            b_mean, b_min, _, _ = score(shipped_db, layout, layout)
            print(f"| {layout} | {expected} | {s_archived} | {s_mean:.4f} ({s_min:.3f}) | {b_mean:.4f} ({b_min:.3f}) "
                  f"| {s_mean / b_mean:.3f} | {suggested_s:.1f} | {shipped_s:.1f} |")


if __name__ == "__main__":
    main()
