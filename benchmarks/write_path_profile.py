"""Where the crawl's write path spends its time, per page, on the replica `huabo`.

    python benchmarks/write_path_profile.py

Extracts every page of the replica in memory, then hands the articles to the
``ArchiveWriter`` (WARC, captures, texts, full-text index, duplicate
signatures) and closes it (the duplicate-cluster refresh), timing each stage in
the same process.

A second table times the per-text functions the array-based implementations
replaced against the straightforward versions they must agree with (the tests
check they do): the bigram index text against joining ``index_tokens``, and a
text's MinHash sketches against datasketch's own ``MinHash.update_batch`` over
``np.unique`` of the same shingle hashes.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from datasketch import MinHash  # noqa: E402

from crawler.items import ArticleItem  # noqa: E402
from fanwen import dedup, search_index  # noqa: E402
from crawler.profiles import load_profile  # noqa: E402
from fanwen.archive_writer import ArchiveWriter  # noqa: E402
from fanwen.replica.site import load_site  # noqa: E402
from pipelines.extraction import extract_texts  # noqa: E402
from pipelines.records import FetchedPage  # noqa: E402


def main() -> None:
    site, rules = load_site("huabo"), load_profile("huabo").extract
    items = []
    for article in site.articles:
        response = site.respond(article.path)
        page = FetchedPage(f"http://127.0.0.1:1{article.path}", response.body, response.content_type, 200,
                           (("Content-Type", response.content_type),), (), None, "2026-01-01T00:00:00+00:00")
        items.append(ArticleItem("huabo", article.category.name, [page], page.fetched_at))
    started = time.perf_counter()
    for item in items:
        result = extract_texts(item.pages, rules)
        item.texts, item.encodings = result.texts, list(result.encodings)
    extracted = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        writer = ArchiveWriter(Path(workdir) / "archive.db")
        for item in items:
            writer.add(item)
        writer.flush()
        written = time.perf_counter()
        writer.close()
        closed = time.perf_counter()
    per_page = 1000 / len(items)
    print(f"{len(items)} pages of replica huabo, ms per page:")
    print(f"| extraction | {(extracted - started) * per_page:.2f} |")
    print(f"| WARC + captures + texts + full-text index + duplicate signatures | {(written - extracted) * per_page:.2f} |")
    print(f"| duplicate-cluster refresh at close | {(closed - written) * per_page:.2f} |")
    per_text_functions([text.text for item in items for text in item.texts])


def _datasketch_sketches(text: str) -> None:
    hashes = dedup._shingle_hashes(dedup.normalised_for_shingles(text), dedup.SHINGLE)
    for part in (np.unique(hashes), np.unique(hashes[: dedup.HEAD_CHARS - dedup.SHINGLE + 1])):
        minhash = MinHash(num_perm=dedup.NUM_PERM, seed=1, scheme="affine32", hashfunc=lambda value: value)
        minhash.update_batch(part.tolist())


def per_text_functions(texts: list[str], rounds: int = 3) -> None:
    def ms_per_text(function) -> float:
        best = float("inf")
        for _ in range(rounds):
            started = time.perf_counter()
            for text in texts:
                function(text)
            best = min(best, (time.perf_counter() - started) * 1000 / len(texts))
        return best

    rows = [
        ("full-text index text", lambda text: " ".join(search_index.index_tokens(text)), search_index.index_text),
        ("duplicate signature (normalise, shingle, two MinHashes)", _datasketch_sketches, dedup.signature),
    ]
    print(f"\n{len(texts)} texts, ms per text (best of {rounds}):")
    print("| function | straightforward version | shipped | ratio |")
    print("|---|---|---|---|")
    for name, baseline, shipped in rows:
        before, after = ms_per_text(baseline), ms_per_text(shipped)
        print(f"| {name} | {before:.3f} | {after:.3f} | {after / before:.2f} |")


if __name__ == "__main__":
    main()
