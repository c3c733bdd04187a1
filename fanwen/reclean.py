"""Re-clean: re-extract every archived text from its stored captures with the current rules.

No network: pages are read back from the WARC files.  Unchanged texts are left
alone, changed ones get a new version, texts missing from the table (e.g. a
dropped ``texts`` table) are rebuilt with their first and last capture times,
so running it twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from archive.database import Archive, SaveCounts, TextToArchive, warc_directory
from archive.warc_store import read_page
from crawler.profiles import load_profile
from pipelines.extraction import extract_texts
from pipelines.rules import ExtractionRules


@dataclass
class RecleanReport:
    articles: int = 0
    without_text: int = 0
    counts: SaveCounts = field(default_factory=SaveCounts)


def reclean(archive: Archive, site: str | None = None, batch_size: int = 200) -> RecleanReport:
    archive.ensure_texts_table()
    directory = warc_directory(archive.path)
    rules_by_site: dict[str, ExtractionRules] = {}
    report = RecleanReport()
    batch: list[TextToArchive] = []
    for fetch in archive.latest_fetches(site):
        rules = rules_by_site.get(fetch.site)
        if rules is None:
            rules = rules_by_site[fetch.site] = load_profile(fetch.site).extract
        pages = [read_page(directory, page["warc_file"], page["warc_offset"]) for page in fetch.pages]
        result = extract_texts(pages, rules)
        report.articles += 1
        if not result.texts:
            report.without_text += 1
        batch.extend(
            TextToArchive(fetch.site, fetch.category, fetch.last_seen, text, fetch.pages[0]["id"], fetch.first_seen)
            for text in result.texts
        )
        if len(batch) >= batch_size:
            report.counts.add(archive.save_texts(batch))
            batch.clear()
    if batch:
        report.counts.add(archive.save_texts(batch))
    if report.counts.new or report.counts.changed:
        archive.refresh_duplicates()
    return report
