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
class TextToArchive:
    site: str
    category: str | None
    fetched_at: str
    text: ExtractedText


def content_hash(text: ExtractedText) -> str:
    payload = json.dumps([text.title, text.published, text.text, text.truncated], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


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
                    self.db["texts"].update(existing[0], row)
                    counts.changed += 1
        return counts

    def start_run(self, site: str) -> int:
        with self.db.atomic():
            return self.db["crawl_runs"].insert({"site": site, "started_at": utc_now()}).last_pk

    def finish_run(self, run_id: int, *, finish_reason: str, pages_fetched: int, counts: SaveCounts,
                   articles_without_text: int) -> None:
        with self.db.atomic():
            self.db["crawl_runs"].update(run_id, {
                "finished_at": utc_now(), "finish_reason": finish_reason, "pages_fetched": pages_fetched,
                "texts_new": counts.new, "texts_changed": counts.changed, "texts_unchanged": counts.unchanged,
                "articles_without_text": articles_without_text,
            })

    def iter_texts(self, columns: Iterable[str] = TEXT_COLUMNS) -> Iterator[dict]:
        selected = [c for c in columns if c in TEXT_COLUMNS]
        cursor = self.db.execute(f"select {', '.join(selected)} from texts order by id")
        for values in cursor:
            yield dict(zip(selected, values))

    def count_texts(self) -> int:
        return self.db["texts"].count
