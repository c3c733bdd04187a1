"""The archive: the one module that owns the SQLite schema and performs every write.

Schema changes are numbered migrations (sqlite-utils ``Migrations``) applied
when an archive is opened, so an older ``archive.db`` is upgraded in place.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from pipelines.records import ExtractedText

DEFAULT_ARCHIVE = Path("archive.db")
SKIPPED_PREFIX = "skipped: "

migrations = Migrations("fanwen-archive")

# Columns written for each text, in export order.
TEXT_COLUMNS = (
    "id", "site", "category", "url", "part", "title", "published", "genre", "truncated",
    "chars", "placeholders", "text", "content_hash", "encoding", "first_seen", "last_seen",
)


@migrations()
def m001_texts_and_crawl_runs(db: Database) -> None:
    db["texts"].create(
        {
            "id": int, "site": str, "category": str, "url": str, "part": int, "title": str,
            "published": str, "genre": str, "truncated": int, "chars": int, "placeholders": str,
            "text": str, "content_hash": str, "encoding": str, "first_seen": str, "last_seen": str,
        },
        pk="id",
        not_null={"site", "url", "part", "title", "text", "truncated", "content_hash", "first_seen", "last_seen"},
        defaults={"part": 1, "truncated": 0},
    )
    db["texts"].create_index(["url", "part"], unique=True)
    for column in ("site", "genre", "published", "category"):
        db["texts"].create_index([column])
    db["crawl_runs"].create(
        {
            "id": int, "site": str, "started_at": str, "finished_at": str, "finish_reason": str,
            "pages_fetched": int, "texts_new": int, "texts_changed": int, "texts_unchanged": int,
            "articles_without_text": int,
        },
        pk="id",
        not_null={"site", "started_at"},
    )


@migrations()
def m002_crawl_run_details(db: Database) -> None:
    """Crawl runs record what started them, what they requested and skipped, and errors by kind."""
    runs = db["crawl_runs"]
    runs.add_column("trigger", str)
    runs.add_column("pages_requested", int)
    runs.add_column("articles_skipped_known", int)
    runs.add_column("errors", str)  # JSON object: error kind -> count
    runs.create_index(["site", "started_at"])


@dataclass
class SaveCounts:
    new: int = 0
    changed: int = 0
    unchanged: int = 0

    def add(self, other: SaveCounts) -> None:
        self.new += other.new
        self.changed += other.changed
        self.unchanged += other.unchanged


@dataclass(frozen=True)
class CrawlRunSummary:
    finish_reason: str
    pages_requested: int
    pages_fetched: int
    counts: SaveCounts
    articles_without_text: int
    articles_skipped_known: int
    errors: dict[str, int]


@dataclass(frozen=True)
class TextToArchive:
    site: str
    category: str | None
    fetched_at: str
    text: ExtractedText


def content_hash(text: ExtractedText) -> str:
    payload = json.dumps([text.title, text.published, text.text, text.truncated], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class Archive:
    """An open ``archive.db``.  Use as a context manager or call ``close()``."""

    def __init__(self, path: str | Path = DEFAULT_ARCHIVE) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = Database(self.path)
        self.db.enable_wal()
        self.db.execute("PRAGMA foreign_keys = ON")
        migrations.apply(self.db)

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def save_texts(self, batch: Iterable[TextToArchive]) -> SaveCounts:
        """Insert new texts, refresh ``last_seen`` of unchanged ones, overwrite changed ones; one transaction."""
        counts = SaveCounts()
        with self.db.atomic():
            for item in batch:
                record = item.text
                digest = content_hash(record)
                existing = self.db.execute(
                    "select id, content_hash from texts where url = ? and part = ?", [record.url, record.part]
                ).fetchone()
                row = {
                    "site": item.site, "category": item.category, "url": record.url, "part": record.part,
                    "title": record.title, "published": record.published, "genre": record.genre,
                    "truncated": int(record.truncated), "chars": record.chars,
                    "placeholders": json.dumps(list(record.placeholders), ensure_ascii=False),
                    "text": record.text, "content_hash": digest, "encoding": record.encoding,
                    "last_seen": item.fetched_at,
                }
                if existing is None:
                    self.db["texts"].insert({**row, "first_seen": item.fetched_at})
                    counts.new += 1
                elif existing[1] == digest:
                    self.db.execute("update texts set last_seen = ? where id = ?", [item.fetched_at, existing[0]])
                    counts.unchanged += 1
                else:
                    if row["category"] is None:
                        del row["category"]  # a page refetched from a sitemap keeps the category its list gave it
                    self.db["texts"].update(existing[0], row)
                    counts.changed += 1
        return counts

    def touch_texts(self, seen: Iterable[tuple[str, str]]) -> int:
        """Record that the texts of these (url, fetched_at) pages were found unchanged; returns texts touched."""
        touched = 0
        with self.db.atomic():
            for url, fetched_at in seen:
                touched += self.db.execute("update texts set last_seen = ? where url = ?", [fetched_at, url]).rowcount
        return touched

    def start_run(self, site: str, trigger: str = "manual") -> int:
        with self.db.atomic():
            return self.db["crawl_runs"].insert({"site": site, "started_at": utc_now(), "trigger": trigger}).last_pk

    def finish_run(self, run_id: int, summary: CrawlRunSummary) -> None:
        with self.db.atomic():
            self.db["crawl_runs"].update(run_id, {
                "finished_at": utc_now(), "finish_reason": summary.finish_reason,
                "pages_requested": summary.pages_requested, "pages_fetched": summary.pages_fetched,
                "texts_new": summary.counts.new, "texts_changed": summary.counts.changed,
                "texts_unchanged": summary.counts.unchanged,
                "articles_without_text": summary.articles_without_text,
                "articles_skipped_known": summary.articles_skipped_known,
                "errors": json.dumps(summary.errors, ensure_ascii=False, sort_keys=True),
            })

    def record_skipped_run(self, site: str, trigger: str, reason: str) -> None:
        """A crawl that was due but not started (e.g. the previous one still runs)."""
        now = utc_now()
        with self.db.atomic():
            self.db["crawl_runs"].insert({
                "site": site, "trigger": trigger, "started_at": now, "finished_at": now,
                "finish_reason": f"{SKIPPED_PREFIX}{reason}",
            })

    def last_run_completed(self, site: str) -> bool:
        """Whether the site's most recent crawl ran to its end (not interrupted, killed or crashed)."""
        row = self.db.execute(
            "select finish_reason from crawl_runs where site = ? and coalesce(finish_reason, '') not like ? "
            "order by id desc limit 1",
            [site, f"{SKIPPED_PREFIX}%"],
        ).fetchone()
        return row is not None and row[0] == "finished"

    def last_runs(self) -> dict[str, dict]:
        """Each site's most recent crawl run."""
        rows = self.db.execute(
            "select site, started_at, finished_at, finish_reason, texts_new from crawl_runs "
            "where id in (select max(id) from crawl_runs group by site)"
        )
        return {row[0]: dict(zip(("site", "started_at", "finished_at", "finish_reason", "texts_new"), row)) for row in rows}

    def last_seen_by_url(self, site: str) -> dict[str, str]:
        """Article URLs of this site that already have a text in the archive → when last fetched (UTC ISO)."""
        rows = self.db.execute("select url, max(last_seen) from texts where site = ? group by url", [site])
        return dict(rows.fetchall())

    def iter_texts(self, columns: Iterable[str] = TEXT_COLUMNS) -> Iterator[dict]:
        selected = [c for c in columns if c in TEXT_COLUMNS]
        cursor = self.db.execute(f"select {', '.join(selected)} from texts order by id")
        for values in cursor:
            yield dict(zip(selected, values))

    def count_texts(self) -> int:
        return self.db["texts"].count
