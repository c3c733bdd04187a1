"""The archive: the one module that owns the SQLite schema and performs every write.

Schema changes are numbered migrations (sqlite-utils ``Migrations``) applied
when an archive is opened, so an older ``archive.db`` is upgraded in place.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from archive import dedup, search_index
from archive.dedup import ArchivedText, TextForDedup, cluster_texts, exact_key, signature
from archive.locks import migration_lock
from archive.warc_store import WarcLocation
from records.texts import ExtractedText, FetchedPage

DEFAULT_ARCHIVE = Path("archive.db")
# How long a write waits for another process's write transaction (the duplicate
# refresh of a large archive holds one for seconds) before "database is locked".
BUSY_TIMEOUT_MS = 120_000
_READ_CHUNK = 500  # ids per "where id in (...)" read: well under SQLite's bound on parameters
_KEY_CHUNK = 5000  # band keys per lookup of their first texts (passed as one JSON array)
# A duplicate refresh with more texts new or changed than this share of the archive clusters
# every text again: a changed text's lookups cost about four times a text's share of a full
# pass (benchmarks/dedup_refresh.py), so past a quarter the full pass is cheaper.
FULL_REFRESH_SHARE = 0.25
SKIPPED_PREFIX = "skipped: "

migrations = Migrations("fanwen-archive")

# Columns written for each text, in export order.
TEXT_COLUMNS = (
    "id", "site", "category", "url", "part", "title", "published", "genre", "truncated",
    "chars", "placeholders", "text", "content_hash", "encoding", "first_seen", "last_seen",
)


@migrations()
def m001_texts_and_crawl_runs(db: Database) -> None:
    db.table("texts").create(
        {
            "id": int, "site": str, "category": str, "url": str, "part": int, "title": str,
            "published": str, "genre": str, "truncated": int, "chars": int, "placeholders": str,
            "text": str, "content_hash": str, "encoding": str, "first_seen": str, "last_seen": str,
        },
        pk="id",
        not_null={"site", "url", "part", "title", "text", "truncated", "content_hash", "first_seen", "last_seen"},
        defaults={"part": 1, "truncated": 0},
    )
    db.table("texts").create_index(["url", "part"], unique=True)
    for column in ("site", "genre", "published", "category"):
        db.table("texts").create_index([column])
    db.table("crawl_runs").create(
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
    runs = db.table("crawl_runs")
    runs.add_column("trigger", str)
    runs.add_column("pages_requested", int)
    runs.add_column("articles_skipped_known", int)
    runs.add_column("errors", str)  # JSON object: error kind -> count
    runs.create_index(["site", "started_at"])


@migrations()
def m003_captures_versions_duplicates(db: Database) -> None:
    """Raw captures (indexing WARC records), earlier versions of texts, and duplicate clusters."""
    db.table("captures").create(
        {
            "id": int, "site": str, "category": str, "article_url": str, "page": int, "fetch_key": str,
            "url": str, "requested_url": str, "status": int, "fetched_at": str, "headers": str,
            "declared_encoding": str, "detected_encoding": str, "payload_digest": str,
            "warc_file": str, "warc_offset": int, "warc_length": int, "warc_record_id": str,
        },
        pk="id",
        not_null={"site", "article_url", "page", "url", "status", "fetched_at"},
    )
    db.table("captures").create_index(["article_url", "page"])
    db.table("captures").create_index(["fetch_key"])
    db.table("captures").create_index(["site"])
    db.table("texts").add_column("capture_id", int, fk="captures", fk_col="id")
    db.table("texts").add_column("exact_key", str)
    db.table("texts").add_column("cluster_id", int)
    db.table("texts").create_index(["cluster_id"])
    db.table("texts").create_index(["exact_key"])
    db.table("text_versions").create(
        {
            "id": int, "text_id": int, "title": str, "published": str, "genre": str, "truncated": int,
            "chars": int, "placeholders": str, "text": str, "content_hash": str, "capture_id": int,
            "first_seen": str, "last_seen": str, "superseded_at": str,
        },
        pk="id",
        foreign_keys=[("text_id", "texts", "id"), ("capture_id", "captures", "id")],
    )
    db.table("text_versions").create_index(["text_id"])
    db.table("text_signatures").create(
        {"text_id": int, "content_hash": str, "signature": bytes}, pk="text_id",
        foreign_keys=[("text_id", "texts", "id")],
    )
    db.table("duplicate_clusters").create(
        {"cluster_id": int, "canonical_text_id": int, "size": int, "sites": str}, pk="cluster_id",
        foreign_keys=[("canonical_text_id", "texts", "id")],
    )


@migrations()
def m004_texts_full_text_index(db: Database) -> None:
    """Chinese full-text index over title and text (CJK bigrams, see archive.search_index); fills it for old archives."""
    db.execute(search_index.CREATE_INDEX_SQL)
    db.conn.executemany(
        f"insert into {search_index.FTS_TABLE} (rowid, title, text) values (?, ?, ?)",
        ((row[0], search_index.index_text(row[1]), search_index.index_text(row[2]))
         for row in db.execute("select id, title, text from texts")),
    )


@migrations()
def m005_rejected_and_gone_pages(db: Database) -> None:
    """Pages that yielded no text or no answer, with the reason; archived pages the site deleted since.

    Gone pages are a table of their own, not a column of texts: ``fanwen reclean``
    rebuilds texts, and a deletion seen on the live site must survive that.
    """
    db.table("rejected_pages").create(
        {"id": int, "site": str, "url": str, "reason": str, "detail": str, "rejected_at": str},
        pk="id",
        not_null={"site", "url", "reason", "rejected_at"},
    )
    db.table("rejected_pages").create_index(["site", "reason"])
    db.table("rejected_pages").create_index(["url"])
    db.table("gone_pages").create(
        {"url": str, "site": str, "status": int, "gone_at": str},
        pk="url",
        not_null={"site", "status", "gone_at"},
    )


@migrations()
def m006_full_text_index_merges_less_often(db: Database) -> None:
    """FTS5 merges index segments eight at a time (see search_index.AUTOMERGE); a setting kept in the index itself."""
    db.execute(search_index.SET_AUTOMERGE_SQL)


@migrations()
def m007_how_each_text_was_cleaned(db: Database) -> None:
    """What cleaning removed from each text's page and why (JSON), and a 合集 part's collection title."""
    db.table("texts").add_column("cleaning", str)
    db.table("texts").add_column("collection_title", str)


@migrations()
def m008_duplicate_band_index(db: Database) -> None:
    """The LSH band keys of every signature, indexed, so that a refresh looks up only the changed texts' candidates.

    ``dedup_bands`` files each text under its signature's band keys (``dedup.band_keys``),
    filled here from the stored signatures; ``dedup_pending`` lists texts new or changed
    since the last duplicate refresh; ``dedup_state`` records the schemes the band keys and
    the clusters were made under.  No clusters scheme yet: the first refresh is a full one.
    """
    db.execute(
        "create table dedup_bands (band_key integer not null, text_id integer not null, "
        "primary key (band_key, text_id)) without rowid"
    )
    db.execute("create table dedup_pending (text_id integer not null)")
    db.execute("create table dedup_state (name text primary key, value text not null)")
    _file_band_keys(db, db.execute("select text_id, signature from text_signatures"))
    db.execute("insert into dedup_state (name, value) values ('bands', ?)", [dedup.band_scheme()])


def _file_band_keys(db: Database, signatures: Iterable[tuple[int, bytes]]) -> None:
    """Insert the band keys of these (text id, signature) pairs, a chunk at a time, each chunk in key order.

    Keys in order fill the index's pages one after another instead of touching a random page per key.
    """
    rows: list[tuple[int, int]] = []
    for text_id, sig in signatures:
        rows.extend((key, text_id) for key in dedup.band_keys(sig))
        if len(rows) >= 200_000:
            db.conn.executemany("insert or ignore into dedup_bands (band_key, text_id) values (?, ?)", sorted(rows))
            rows.clear()
    db.conn.executemany("insert or ignore into dedup_bands (band_key, text_id) values (?, ?)", sorted(rows))


@migrations()
def m009_crawl_health(db: Database) -> None:
    """Each crawl's health ('ok' or 'alert'), the findings behind an alert (JSON), and how its texts'
    bodies were located (JSON: locator -> texts), which later crawls of the site are compared with."""
    runs = db.table("crawl_runs")
    runs.add_column("health", str)
    runs.add_column("health_findings", str)
    runs.add_column("texts_by_locator", str)


@migrations()
def m010_band_admission_changes_are_pending(db: Database) -> None:
    """A text that enters or leaves a band key's first ``dedup.BAND_CAP`` texts is pending, as a changed text is.

    The duplicate refresh proposes a pair through a key only when one of the two texts is among
    the key's first ``BAND_CAP`` (smallest ids).  A changed text keeps its id: leaving a key it
    was admitted to admits the next text, joining one ahead of its admitted texts pushes the last
    out, and those texts' candidates change although their contents did not.  New texts, with the
    largest ids, move no other text.
    """
    # dedup.BAND_CAP as this migration was written: another cap needs a migration that writes
    # the triggers again (tests/test_dedup_incremental.py compares them with dedup.BAND_CAP).
    cap = 4
    for event, row, offset in (("delete", "old", cap - 1), ("insert", "new", cap)):
        # After the delete, the text at offset cap - 1 was at cap before; after the insert, the
        # one at offset cap was at cap - 1 before.  Either moved only if it is after the row's text.
        moved = (
            f"select text_id from dedup_bands where band_key = {row}.band_key "
            f"order by text_id limit 1 offset {offset}"
        )
        db.execute(
            f"create trigger dedup_bands_admission_on_{event} after {event} on dedup_bands "
            f"when {row}.text_id < ({moved}) "
            f"begin insert into dedup_pending (text_id) {moved}; end"
        )


@migrations()
def m011_truncated_texts_indexed(db: Database) -> None:
    """An index on ``truncated``: its facet on the texts table page read every row without one."""
    db.table("texts").create_index(["truncated"], if_not_exists=True)


@migrations()
def m012_full_text_index_writes_a_batch_as_one_segment(db: Database) -> None:
    """FTS5 holds up to 16 MiB of new terms before writing a segment (see search_index.HASHSIZE); kept in the index."""
    db.execute(search_index.SET_HASHSIZE_SQL)


# The duplicate refresh checks each candidate's stored signature against the text's current
# content hash.  In a texts row that column comes after the text itself, which for most texts
# runs on over overflow pages, and SQLite follows that chain page by page to reach a later
# column: every candidate cost a few random page reads of the texts table, the largest part of
# the refresh once the table outgrew the page cache.  This index answers the check without
# touching the row (benchmarks/million_archive.py --refresh-again).
ID_CONTENT_HASH_INDEX = "idx_texts_id_content_hash"
_CREATE_ID_CONTENT_HASH_INDEX = f"create index if not exists {ID_CONTENT_HASH_INDEX} on texts (id, content_hash)"


@migrations()
def m013_content_hash_readable_without_the_text(db: Database) -> None:
    """An index on ``texts(id, content_hash)`` (``ID_CONTENT_HASH_INDEX``) for the duplicate refresh's candidates."""
    db.execute(_CREATE_ID_CONTENT_HASH_INDEX)


@dataclass(frozen=True)
class RejectedPage:
    """A page that did not become a text: why (``reason``, a short key) and when."""

    site: str
    url: str
    reason: str
    rejected_at: str
    detail: str | None = None


@dataclass(frozen=True)
class GonePage:
    """An article URL that answered 404 or 410."""

    site: str
    url: str
    status: int
    gone_at: str


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
    fetched_at: str  # becomes last_seen (and first_seen of a new text unless given)
    text: ExtractedText
    capture_id: int | None = None  # the page-1 capture the text was extracted from
    first_seen: str | None = None  # when re-extracting from old captures: the first capture's time


@dataclass(frozen=True)
class PageToCapture:
    """One fetched page of an article, written to WARC already (``location``) or not stored (304)."""

    page: FetchedPage
    location: WarcLocation | None
    declared_encoding: str | None = None
    detected_encoding: str | None = None


@dataclass(frozen=True)
class ArticleToArchive:
    site: str
    category: str | None
    pages: list[PageToCapture]
    texts: list[ExtractedText]
    fetch_id: str  # unique per fetch of the article; a fetch already stored is skipped


def content_hash(text: ExtractedText) -> str:
    payload = json.dumps([text.title, text.published, text.text, text.truncated], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ArticleFetch:
    site: str
    category: str | None
    article_url: str
    pages: list[dict]  # capture rows of this fetch, page 1 first
    first_seen: str  # first successful capture of the article
    last_seen: str  # latest capture of the article (including 304s)


def create_texts_table(db: Database) -> None:
    """The texts table as the migrations leave it (test_archive checks the two never drift apart)."""
    db.table("texts").create(
        {
            "id": int, "site": str, "category": str, "url": str, "part": int, "title": str,
            "published": str, "genre": str, "truncated": int, "chars": int, "placeholders": str,
            "text": str, "content_hash": str, "encoding": str, "first_seen": str, "last_seen": str,
            "capture_id": int, "exact_key": str, "cluster_id": int, "cleaning": str, "collection_title": str,
        },
        pk="id",
        not_null={"site", "url", "part", "title", "text", "truncated", "content_hash", "first_seen", "last_seen"},
        defaults={"part": 1, "truncated": 0},
        foreign_keys=[("capture_id", "captures", "id")],
    )
    db.table("texts").create_index(["url", "part"], unique=True)
    for column in ("site", "genre", "published", "category", "cluster_id", "exact_key", "truncated"):
        db.table("texts").create_index([column])
    db.execute(_CREATE_ID_CONTENT_HASH_INDEX)


def last_runs_of(path: str | Path) -> dict[str, dict]:
    """Each site's most recent crawl run in the archive at ``path``; none if there is no archive yet."""
    if not Path(path).exists():
        return {}
    with Archive(path) as archive:
        return archive.last_runs()


def warc_directory(archive_path: str | Path) -> Path:
    """Where an archive's WARC files live: ``<archive name>.warc/`` beside the database."""
    path = Path(archive_path)
    return path.with_name(f"{path.stem}.warc")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Archive:
    """An open ``archive.db``.  Use as a context manager or call ``close()``."""

    def __init__(self, path: str | Path = DEFAULT_ARCHIVE) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = Database(self.path)
        self.db.enable_wal()
        # WAL with synchronous=NORMAL: a commit survives a process crash and the
        # database cannot corrupt; only an OS crash may lose the last commits,
        # pages (their WARC records were fsynced first) the next crawl fetches again.
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute("PRAGMA foreign_keys = ON")
        # Several crawls may write one archive at once (the demo, scheduled sites):
        # a writer waits for another's transaction instead of failing at once.
        self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if migrations.pending(self.db):
            # One transaction that takes the write lock at its start: begun deferred, as sqlite-utils
            # begins each migration, a transaction that read the schema before another connection
            # wrote is refused its first write at once ("database is locked"), without waiting.
            with migration_lock(self.path), self._writing():
                migrations.apply(self.db)  # what is still pending once this process holds the lock

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """A write transaction that takes the write lock at its start (``BEGIN IMMEDIATE``).

        sqlite-utils' ``atomic()`` begins deferred: a transaction that reads first
        holds a snapshot, and when another writer commits before its first write,
        SQLite cannot upgrade it and answers "database is locked" at once, without
        waiting.  Nested, it is a savepoint like ``atomic()``.
        """
        if self.db.conn.in_transaction:
            with self.db.atomic():
                yield
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.conn.in_transaction:  # an error may have rolled it back already
                self.db.execute("ROLLBACK")
            raise

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def save_texts(self, batch: Iterable[TextToArchive]) -> SaveCounts:
        """Insert new texts, refresh ``last_seen`` of unchanged ones, overwrite changed ones; one transaction.

        New and changed texts are indexed for search and get their duplicate signature.
        """
        counts = SaveCounts()
        # Full-text rows are written once per batch, not per text: sqlite-utils
        # wraps each insert in a SAVEPOINT, and FTS5 flushes its pending terms
        # as a new index segment at every savepoint, which made per-text
        # indexing several times slower (benchmarks/search_export.py).
        to_index: dict[int, tuple[str, str]] = {}
        content_hash_of: dict[int, str] = {}
        next_id: int | None = None
        # Each new or changed text is signed here, from the text in hand: signing it later
        # meant reading it back (and a transaction of its own), and a crawl's end waited
        # for the texts not yet signed.
        with self._writing():
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
                    "last_seen": item.fetched_at, "capture_id": item.capture_id,
                    "exact_key": exact_key(record.text),
                    "cleaning": json.dumps(record.cleaning.as_json(), ensure_ascii=False) if record.cleaning else None,
                    "collection_title": record.collection_title,
                }
                if existing is None:
                    # A new text is its own cluster until refresh_duplicates finds it a copy: given
                    # with the insert, since setting cluster_id later rewrites the whole row, text
                    # and all, for every new text.  Under the write lock, max(id) + 1 is the id
                    # SQLite itself would choose.
                    if next_id is None:
                        next_id = self.db.execute("select coalesce(max(id), 0) + 1 from texts").fetchone()[0]
                    text_id = self._insert("texts", {
                        **row, "id": next_id, "cluster_id": next_id, "first_seen": item.first_seen or item.fetched_at,
                    })
                    next_id += 1
                    to_index[text_id] = (record.title, record.text)
                    content_hash_of[text_id] = digest
                    counts.new += 1
                elif existing[1] == digest:
                    self.db.execute("update texts set last_seen = max(last_seen, ?) where id = ?",
                                    [item.fetched_at, existing[0]])
                    counts.unchanged += 1
                else:
                    if row["category"] is None:
                        del row["category"]  # a page refetched from a sitemap keeps the category its list gave it
                    self._keep_version(existing[0], superseded_at=item.fetched_at)
                    if to_index.pop(existing[0], None) is None:  # not indexed yet if new in this batch
                        self._unindex_text(existing[0])
                    self._update("texts", existing[0], row)
                    to_index[existing[0]] = (record.title, record.text)
                    content_hash_of[existing[0]] = digest
                    counts.changed += 1
            self._index_texts(to_index)
            self._write_signatures(
                [(text_id, content_hash_of[text_id], signature(text)) for text_id, (_, text) in to_index.items()]
            )
            # The next duplicate refresh starts from these texts.
            self.db.conn.executemany("insert into dedup_pending (text_id) values (?)", [(text_id,) for text_id in to_index])
        return counts

    def _write_signatures(self, rows: Sequence[tuple[int, str, bytes]]) -> None:
        """Store (text id, content hash, signature) rows, each text filed under its new band keys only."""
        ids = [text_id for text_id, _, _ in rows]
        old_keys: list[tuple[int, int]] = []
        # The keys of the signatures being replaced: the index has no way to find a text's rows by its id.
        for start in range(0, len(ids), _READ_CHUNK):
            chunk = ids[start:start + _READ_CHUNK]
            marks = ", ".join("?" * len(chunk))
            query = f"select text_id, signature from text_signatures where text_id in ({marks})"
            for text_id, old in self.db.execute(query, chunk):
                old_keys.extend((key, text_id) for key in dedup.band_keys(old))
        self.db.conn.executemany("delete from dedup_bands where band_key = ? and text_id = ?", old_keys)
        self.db.conn.executemany(
            "insert or replace into text_signatures (text_id, content_hash, signature) values (?, ?, ?)", rows
        )
        _file_band_keys(self.db, ((text_id, sig) for text_id, _, sig in rows))

    # sqlite-utils' insert()/update() wrap every row in a SAVEPOINT of its own;
    # inside the batch's one transaction that bookkeeping was most of the cost
    # of a write (benchmarks/write_path_profile.py), so rows go in as plain
    # statements.  Column names come from this module, never from input.
    def _insert(self, table: str, row: dict) -> int:
        columns = ", ".join(f"[{column}]" for column in row)
        marks = ", ".join("?" * len(row))
        row_id = self.db.execute(f"insert into [{table}] ({columns}) values ({marks})", list(row.values())).lastrowid
        assert row_id is not None  # an insert of one row always makes one
        return row_id

    def _update(self, table: str, row_id: int, row: dict) -> None:
        assignments = ", ".join(f"[{column}] = ?" for column in row)
        self.db.execute(f"update [{table}] set {assignments} where id = ?", [*row.values(), row_id])

    def _index_texts(self, texts: dict[int, tuple[str, str]]) -> None:
        self.db.conn.executemany(
            f"insert into {search_index.FTS_TABLE} (rowid, title, text) values (?, ?, ?)",
            ((text_id, search_index.index_text(title), search_index.index_text(text))
             for text_id, (title, text) in texts.items()),
        )

    def _unindex_text(self, text_id: int) -> None:
        """Remove a text's current content from the full-text index (before it changes or goes).

        The index is contentless, and SQLite before 3.43 can only delete from
        such a table when given the very tokens that were indexed, so they are
        rebuilt from the row as it still stands.
        """
        old = self.db.execute("select title, text from texts where id = ?", [text_id]).fetchone()
        if old is not None:
            self.db.execute(
                f"insert into {search_index.FTS_TABLE} ({search_index.FTS_TABLE}, rowid, title, text) "
                "values ('delete', ?, ?, ?)",
                [text_id, search_index.index_text(old[0]), search_index.index_text(old[1])],
            )

    def _keep_version(self, text_id: int, superseded_at: str) -> None:
        """Copy a text's current content into text_versions before it is overwritten."""
        self.db.execute(
            "insert into text_versions (text_id, title, published, genre, truncated, chars, placeholders, text, "
            "content_hash, capture_id, first_seen, last_seen, superseded_at) "
            "select id, title, published, genre, truncated, chars, placeholders, text, content_hash, capture_id, "
            "first_seen, last_seen, ? from texts where id = ?",
            [superseded_at, text_id],
        )

    def save_articles(self, batch: Iterable[ArticleToArchive]) -> SaveCounts:
        """Index each article's captures and save its texts, pointing at the page-1 capture; one transaction."""
        texts: list[TextToArchive] = []
        with self._writing():
            for article in batch:
                if self.has_fetch(article.fetch_id):
                    continue  # delivered twice (a queue redelivery): stored once
                capture_ids = self._save_captures(article)
                texts.extend(
                    TextToArchive(article.site, article.category, article.pages[0].page.fetched_at, text, capture_ids[0])
                    for text in article.texts
                )
            # One save_texts call for the whole batch: each call is a savepoint,
            # and FTS5 writes a new index segment at every savepoint.
            return self.save_texts(texts) if texts else SaveCounts()

    def _save_captures(self, article: ArticleToArchive) -> list[int]:
        first = article.pages[0]
        fetch_key = article.fetch_id
        ids = []
        for number, capture in enumerate(article.pages, start=1):
            page, location = capture.page, capture.location
            ids.append(self._insert("captures", {
                "site": article.site, "category": article.category, "article_url": first.page.url,
                "page": number, "fetch_key": fetch_key, "url": page.url, "requested_url": page.requested_url,
                "status": page.status, "fetched_at": page.fetched_at,
                "headers": json.dumps(list(page.headers), ensure_ascii=False),
                "declared_encoding": capture.declared_encoding, "detected_encoding": capture.detected_encoding,
                "payload_digest": location.payload_digest if location else None,
                "warc_file": location.file if location else None,
                "warc_offset": location.offset if location else None,
                "warc_length": location.length if location else None,
                "warc_record_id": location.record_id if location else None,
            }))
        return ids

    def has_fetch(self, fetch_id: str) -> bool:
        return self.db.execute("select 1 from captures where fetch_key = ? limit 1", [fetch_id]).fetchone() is not None

    def archived_urls(self, site: str) -> set[str]:
        """Article URLs of the site with a stored capture (whether or not they yielded text)."""
        return {url for (url,) in self.db.execute("select distinct article_url from captures where site = ?", [site])}

    def record_not_modified(self, seen: Iterable[tuple[str, str, str]]) -> int:
        """Pages answered 304 to a conditional request: (site, url, fetched_at). Captured without payload."""
        touched = 0
        with self._writing():
            for site, url, fetched_at in seen:
                self.db.table("captures").insert({
                    "site": site, "article_url": url, "page": 1, "fetch_key": f"{url}@{fetched_at}", "url": url,
                    "status": 304, "fetched_at": fetched_at,
                })
                touched += self.db.execute(
                    "update texts set last_seen = max(last_seen, ?) where url = ?", [fetched_at, url]
                ).rowcount
        return touched

    def start_run(self, site: str, trigger: str = "manual") -> int:
        with self._writing():
            row = self.db.table("crawl_runs").insert({"site": site, "started_at": utc_now(), "trigger": trigger})
            return int(row.last_pk)  # type: ignore[arg-type]  # sqlite-utils types it Any | None; an insert sets it

    def finish_run(self, run_id: int, summary: CrawlRunSummary) -> None:
        with self._writing():
            self.db.table("crawl_runs").update(run_id, {
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
        with self._writing():
            self.db.table("crawl_runs").insert({
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
        columns = ("site", "started_at", "finished_at", "finish_reason", "texts_new", "health", "health_findings")
        rows = self.db.execute(
            f"select {', '.join(columns)} from crawl_runs where id in (select max(id) from crawl_runs group by site)"
        )
        return {row[0]: dict(zip(columns, row)) for row in rows}

    def crawl_run(self, run_id: int) -> dict | None:
        """One crawl_runs row, as a dict."""
        rows = list(self.db["crawl_runs"].rows_where("id = ?", [run_id]))
        return rows[0] if rows else None

    def recent_runs(self, site: str, before_id: int, limit: int) -> list[dict]:
        """The site's last ``limit`` crawl runs before run ``before_id`` that ran to an end (not skipped,
        not killed), newest first."""
        return list(self.db["crawl_runs"].rows_where(
            "site = ? and id < ? and finished_at is not null and coalesce(finish_reason, '') not like ?",
            [site, before_id, f"{SKIPPED_PREFIX}%"], order_by="id desc", limit=limit,
        ))

    def texts_by_locator(self, site: str, fetched_since: str) -> dict[str, int]:
        """How the body of each of the site's texts cleaned from pages fetched since ``fetched_since``
        (UTC ISO) was found: ``profile`` (a body selector matched), ``generic``, ``whole_page``.

        Unchanged texts keep the capture and cleaning record they were first stored with, so
        these are the texts a crawl added or changed.
        """
        rows = self.db.execute(
            "select coalesce(json_extract(t.cleaning, '$.locator'), 'unknown'), count(*) from texts t "
            "join captures c on c.id = t.capture_id where t.site = ? and c.fetched_at >= ? group by 1",
            # captures keep whole seconds: a page fetched in the run's first second still counts
            [site, fetched_since[:19]],
        )
        return dict(rows.fetchall())

    def record_health(self, run_id: int, health: str, findings: Sequence[dict], texts_by_locator: dict[str, int]) -> None:
        """A crawl's health judgement (``archive.crawl_health``): 'ok' or 'alert' and its findings."""
        with self._writing():
            self.db.table("crawl_runs").update(run_id, {
                "health": health, "health_findings": json.dumps(list(findings), ensure_ascii=False),
                "texts_by_locator": json.dumps(texts_by_locator, sort_keys=True),
            })

    def last_seen_by_url(self, site: str) -> dict[str, str]:
        """Article URLs of this site that already have a text in the archive → when last fetched (UTC ISO)."""
        rows = self.db.execute("select url, max(last_seen) from texts where site = ? group by url", [site])
        return dict(rows.fetchall())

    def latest_fetches(self, site: str | None = None) -> Iterator[ArticleFetch]:
        """Each captured article's most recent stored fetch (all its pages), oldest article first."""
        where, params = ("and site = ?", [site]) if site else ("", [])
        heads = self.db.execute(
            "select article_url, min(id), max(id), min(fetched_at) from captures "
            f"where page = 1 and status = 200 and warc_file is not null {where} group by article_url order by min(id)",
            params,
        ).fetchall()
        for article_url, _, latest_id, first_seen in heads:
            fetch_key = self.db.execute("select fetch_key from captures where id = ?", [latest_id]).fetchone()[0]
            pages = [
                dict(zip(("id", "site", "category", "url", "warc_file", "warc_offset", "fetched_at"), row))
                for row in self.db.execute(
                    "select id, site, category, url, warc_file, warc_offset, fetched_at from captures "
                    "where fetch_key = ? order by page", [fetch_key],
                )
            ]
            last_seen = self.db.execute(
                "select max(fetched_at) from captures where article_url = ? and page = 1", [article_url]
            ).fetchone()[0]
            yield ArticleFetch(pages[0]["site"], pages[0]["category"], article_url, pages, first_seen, last_seen)

    def refresh_duplicates(self, *, full: bool | None = None) -> int:
        """Bring the duplicate clusters up to date with the texts; returns the number of clusters of two or more.

        Every text has a ``cluster_id`` (its own id when it has no copy);
        ``duplicate_clusters`` lists clusters of two or more texts with their canonical
        text.  ``full=False`` looks only at the texts new or changed since the last
        refresh and the clusters they reach (``dedup.update_clusters``); ``full=True``
        clusters every text again, as does any refresh of clusters made under another
        scheme (an upgraded archive, changed parameters).  By default, the full refresh
        is chosen also when more than ``FULL_REFRESH_SHARE`` of the texts changed.
        """
        state = dict(self.db.execute("select name, value from dedup_state"))
        if state.get("clusters") != dedup.clustering_scheme() or state.get("bands") != dedup.band_scheme():
            full = True
        elif full is None:
            pending = self.db.execute("select count(distinct text_id) from dedup_pending").fetchone()[0]
            full = pending > FULL_REFRESH_SHARE * self.count_texts()
        if full:
            self._refresh_all(rebuild_bands=state.get("bands") != dedup.band_scheme())
        else:
            self._refresh_changed()
        return self.db.execute("select count(*) from duplicate_clusters").fetchone()[0]

    def duplicates_pending(self) -> bool:
        """Are there texts new or changed since the last duplicate refresh?"""
        return self.db.execute("select 1 from dedup_pending limit 1").fetchone() is not None

    def _refresh_changed(self) -> None:
        # One write transaction: the clusters read and those written are the same state,
        # and a concurrent crawl's new texts wait for the next refresh.  It is short.
        with self._writing():
            pending = [text_id for (text_id,) in self.db.execute("select distinct text_id from dedup_pending")]
            if not pending:
                return
            update = dedup.update_clusters(_ArchiveDuplicateIndex(self), pending)
            self._store_clusters(update.members, update.canonical_of, replaced=update.replaced)
            self.db.execute("delete from dedup_pending")

    def _refresh_all(self, *, rebuild_bands: bool) -> None:
        """Cluster every text again (signatures and exact keys are computed only where missing or stale)."""
        # Texts saved after this mark (by a crawl running beside this refresh) may be missing
        # from the snapshot read below: they stay pending for the next refresh.
        pending_mark = self.db.execute("select coalesce(max(rowid), 0) from dedup_pending").fetchone()[0]
        # The texts themselves are read only where a signature or key must be computed (and by
        # cluster_texts for its candidate pairs), not all of them.
        texts: list[TextForDedup] = []
        signatures: dict[int, bytes] = {}
        unsigned: dict[int, str] = {}  # text id -> content hash, for texts without a current signature
        exact_keys: dict[int, str] = {}
        for text_id, chars, first_seen, truncated, site, digest, key, cached, cached_digest in self.db.execute(
            "select t.id, coalesce(t.chars, length(t.text)), t.first_seen, t.truncated, t.site, t.content_hash, t.exact_key, "
            "s.signature, s.content_hash from texts t left join text_signatures s on s.text_id = t.id order by t.id"
        ):
            texts.append(TextForDedup(text_id, None, first_seen, bool(truncated), site, chars))
            if key:
                exact_keys[text_id] = key
            if cached is not None and cached_digest == digest and dedup.signature_is_current(cached):
                signatures[text_id] = cached
            else:
                unsigned[text_id] = digest
        # Texts from before exact keys were stored get theirs: a later refresh looks texts up by key.
        keyless = [text.id for text in texts if text.id not in exact_keys]
        fresh: list[tuple[int, str, bytes]] = []
        for wanting, compute in ((list(unsigned), "signature"), (keyless, "key")):
            for start in range(0, len(wanting), _READ_CHUNK):
                for text_id, text in self._texts_by_id(wanting[start:start + _READ_CHUNK]).items():
                    if compute == "signature":
                        signatures[text_id] = signature(text)
                        fresh.append((text_id, unsigned[text_id], signatures[text_id]))
                    else:
                        exact_keys[text_id] = exact_key(text)
        clusters = cluster_texts(texts, signatures, exact_keys=exact_keys, load_texts=self._texts_by_id)
        members: dict[int, list[TextForDedup]] = {}
        for archived in texts:
            members.setdefault(clusters.cluster_of[archived.id], []).append(archived)
        with self._writing():
            if rebuild_bands:
                self.db.execute("delete from dedup_bands")
            self._write_signatures(fresh)
            if rebuild_bands:
                renewed = {text_id for text_id, _, _ in fresh}
                _file_band_keys(self.db, ((i, sig) for i, sig in signatures.items() if i not in renewed))
            self.db.conn.executemany("update texts set exact_key = ? where id = ?", [(exact_keys[i], i) for i in keyless])
            self.db.execute("delete from duplicate_clusters")
            self._store_clusters(members, clusters.canonical_of, replaced=None)
            self.db.execute("delete from dedup_pending where rowid <= ?", [pending_mark])
            self.db.conn.executemany(
                "insert or replace into dedup_state (name, value) values (?, ?)",
                [("bands", dedup.band_scheme()), ("clusters", dedup.clustering_scheme())],
            )

    def _store_clusters(
        self, members: dict[int, list[TextForDedup]], canonical_of: dict[int, int], *, replaced: Iterable[int] | None
    ) -> None:
        """Write these clusters (cluster id -> its texts) in place of the ``replaced`` ones (None: all are gone already).

        A text's row is written only when its cluster changes.
        """
        self.db.conn.executemany(
            "update texts set cluster_id = ? where id = ? and cluster_id is not ?",
            [(cluster_id, text.id, cluster_id) for cluster_id, group in members.items() for text in group],
        )
        stale = sorted({*replaced, *members}) if replaced is not None else []
        for start in range(0, len(stale), _READ_CHUNK):
            chunk = stale[start:start + _READ_CHUNK]
            self.db.execute(f"delete from duplicate_clusters where cluster_id in ({', '.join('?' * len(chunk))})", chunk)
        self.db.conn.executemany(
            "insert into duplicate_clusters (cluster_id, canonical_text_id, size, sites) values (?, ?, ?, ?)",
            [
                (cluster_id, canonical_of[cluster_id], len(group),
                 json.dumps(sorted({text.site for text in group}), ensure_ascii=False))
                for cluster_id, group in members.items() if len(group) > 1
            ],
        )

    def _texts_by_id(self, ids: Sequence[int]) -> dict[int, str]:
        marks = ", ".join("?" * len(ids))
        return dict(self.db.execute(f"select id, text from texts where id in ({marks})", list(ids)))

    def ensure_texts_table(self) -> None:
        """Recreate an empty texts table (current shape) if it was dropped, e.g. to rebuild it by re-cleaning."""
        if "texts" not in self.db.table_names():
            with self._writing():
                create_texts_table(self.db)
                # The index described the dropped rows; their ids will be reused.
                self.db.execute(f"insert into {search_index.FTS_TABLE} ({search_index.FTS_TABLE}) values ('delete-all')")
                # So did the stored clusters: the next duplicate refresh starts from scratch.
                self.db.execute("delete from dedup_state where name = 'clusters'")

    def iter_texts(self, columns: Iterable[str] = TEXT_COLUMNS) -> Iterator[dict]:
        selected = [c for c in columns if c in TEXT_COLUMNS]
        cursor = self.db.execute(f"select {', '.join(selected)} from texts order by id")
        for values in cursor:
            yield dict(zip(selected, values))

    def texts_of_site(self, site: str) -> Iterator[str]:
        for (text,) in self.db.execute("select text from texts where site = ? order by id", [site]):
            yield text

    def count_texts(self) -> int:
        return self.db["texts"].count

    def record_rejected(self, pages: Iterable[RejectedPage]) -> int:
        """Keep a row per rejected page: URL, reason, detail and time; returns how many were written."""
        rows = [dataclasses.asdict(page) for page in pages]
        with self._writing():
            self.db.table("rejected_pages").insert_all(rows)
        return len(rows)

    def mark_gone(self, pages: Iterable[GonePage]) -> int:
        """Mark URLs deleted on the site; their archived texts stay.  Returns how many archived texts are affected."""
        affected = 0
        with self._writing():
            for page in pages:
                self.db.table("gone_pages").upsert(dataclasses.asdict(page), pk="url")
                affected += self.db.execute("select count(*) from texts where url = ?", [page.url]).fetchone()[0]
        return affected

    def rejected(self, site: str | None = None) -> list[dict]:
        query = "select site, url, reason, detail, rejected_at from rejected_pages"
        rows = self.db.execute(query + (" where site = ?" if site else "") + " order by id", [site] if site else [])
        return [dict(zip(("site", "url", "reason", "detail", "rejected_at"), row)) for row in rows]

    def gone(self, site: str | None = None) -> dict[str, dict]:
        query = "select url, site, status, gone_at from gone_pages"
        rows = self.db.execute(query + (" where site = ?" if site else ""), [site] if site else [])
        return {row[0]: {"site": row[1], "status": row[2], "gone_at": row[3]} for row in rows}


class _ArchiveDuplicateIndex:
    """The archive as ``dedup.update_clusters`` reads it (``dedup.DuplicateIndex``), within the refresh's transaction."""

    def __init__(self, archive: Archive) -> None:
        self.db = archive.db
        self.load_texts = archive._texts_by_id

    def _rows(self, query: str, values: Collection, *, fixed: Sequence = ()) -> Iterator[tuple]:
        """``query``'s rows, its ``{marks}`` filled with the values a chunk at a time, its ``{fixed}`` with ``fixed``."""
        values = list(values)
        fixed_marks = ", ".join("?" * len(fixed))
        for start in range(0, len(values), _READ_CHUNK):
            chunk = values[start:start + _READ_CHUNK]
            yield from self.db.execute(query.format(marks=", ".join("?" * len(chunk)), fixed=fixed_marks), [*chunk, *fixed])

    _TEXT = (
        "select id, coalesce(chars, length(text)), first_seen, truncated, site, exact_key, cluster_id from texts "
        "where {column} in ({{marks}})"
    )

    def _texts_where(self, column: str, values: Collection) -> dict[int, ArchivedText]:
        return {
            text_id: ArchivedText(TextForDedup(text_id, None, first_seen, bool(truncated), site, chars), key, cluster_id)
            for text_id, chars, first_seen, truncated, site, key, cluster_id
            in self._rows(self._TEXT.format(column=column), values)
        }

    def texts(self, ids: Collection[int]) -> dict[int, ArchivedText]:
        return self._texts_where("id", ids)

    def cluster_members(self, cluster_ids: Collection[int]) -> dict[int, ArchivedText]:
        return self._texts_where("cluster_id", cluster_ids)

    def texts_with_keys(self, keys: Collection[str]) -> dict[int, ArchivedText]:
        return self._texts_where("exact_key", keys)

    def first_with_keys(self, keys: Collection[str]) -> dict[str, int]:
        return dict(self._rows("select exact_key, min(id) from texts where exact_key in ({marks}) group by exact_key", keys))

    def filed_under(self, keys: Collection[int], excluding: Collection[int] = ()) -> dict[int, list[int]]:
        filed: dict[int, list[int]] = {}
        # In key order: each chunk of lookups walks one stretch of the index instead of the whole of it.
        query = "select band_key, text_id from dedup_bands where band_key in ({marks}) and text_id not in ({fixed})"
        for key, text_id in self._rows(query, sorted(keys), fixed=list(excluding)):
            filed.setdefault(key, []).append(text_id)
        return filed

    def first_filed_under(self, keys: Collection[int], excluding: Collection[int], count: int) -> dict[int, list[int]]:
        # One index seek per key that stops after ``count`` rows, however many texts the key holds.
        query = (
            "select k.value, (select group_concat(text_id) from (select text_id from dedup_bands "
            "where band_key = k.value and text_id not in (select value from json_each(:excluding)) "
            "order by text_id limit :count)) from json_each(:keys) k"
        )
        excluded = json.dumps(sorted(excluding))
        keys = sorted(keys)
        filed: dict[int, list[int]] = {}
        for start in range(0, len(keys), _KEY_CHUNK):
            params = {"keys": json.dumps(keys[start:start + _KEY_CHUNK]), "excluding": excluded, "count": count}
            for key, ids in self.db.execute(query, params):
                if ids:
                    filed[key] = [int(text_id) for text_id in ids.split(",")]
        return filed

    # SQLite's planner would look the text up by its rowid and read the row; the index has
    # both columns (see ID_CONTENT_HASH_INDEX).
    SIGNATURES = (
        "select s.text_id, s.signature from text_signatures s "
        f"join texts t indexed by {ID_CONTENT_HASH_INDEX} on t.id = s.text_id and t.content_hash = s.content_hash "
        "where s.text_id in ({marks})"
    )

    def signatures(self, ids: Collection[int]) -> dict[int, bytes]:
        return dict(self._rows(self.SIGNATURES, ids))
