"""Where the crawl's write path spends its time, per page, on the replica `huabo`.

    python benchmarks/write_path_profile.py

Extracts every page of the replica in memory, then hands the articles to the
``ArchiveWriter`` (WARC, captures, texts, full-text index) and closes it (the
duplicate-cluster refresh), timing each stage in the same process.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.items import ArticleItem  # noqa: E402
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
        item.texts = extract_texts(item.pages, rules).texts
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
    print(f"| WARC + captures + texts + full-text index | {(written - extracted) * per_page:.2f} |")
    print(f"| duplicate signatures of new texts + cluster refresh at close | {(closed - written) * per_page:.2f} |")


if __name__ == "__main__":
    main()
