"""SIGKILL a crawl mid-way, twice: the archive stays whole, and the next crawl completes the site with nothing twice.

After each kill: SQLite's ``integrity_check`` is ok; every WARC file reads
cleanly with warcio up to its last complete record (a cut gzip member may only
be the file's tail, and no capture row points into it); every text's capture
reads back; a re-clean from the WARC files changes nothing (so no text row is
half-written or out of step with its capture).  Then an uninterrupted crawl
finishes the site and the archive's texts equal those of a reference crawl
that was never interrupted, each URL once.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
import zlib
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.database import content_hash, warc_directory
from archive.warc_store import read_page
from records.texts import ExtractedText
from replica.process import running_replicas

from .conftest import REPO, fanwen_command, run_fanwen

TEXT_COLUMNS = "url, part, title, published, genre, truncated, chars, placeholders, text, content_hash"


def query(archive: Path, sql: str, params=()) -> list[tuple]:
    connection = sqlite3.connect(f"file:{archive}?mode=ro", uri=True, timeout=30)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def crawl_command(archive: Path, base_url: str, batch: int = 3) -> list[str]:
    # One request at a time with a small delay and small write batches: the
    # crawl is slow enough to be killed mid-way, and commits often.
    return fanwen_command("crawl", "huabo", "--archive", str(archive), "--base-url", base_url,
                          "--delay", "0.02", "--concurrency", "1", "-s", f"FANWEN_ARCHIVE_BATCH={batch}")


def kill_after(archive: Path, base_url: str, more_texts: int) -> int:
    """Start a crawl, SIGKILL it once ``more_texts`` texts were committed; return the texts then."""
    before = query(archive, "select count(*) from texts")[0][0] if archive.exists() else 0
    process = subprocess.Popen(crawl_command(archive, base_url), cwd=archive.parent,
                               env={**os.environ, "PYTHONPATH": str(REPO)}, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if archive.exists() and query(archive, "select count(*) from texts")[0][0] >= before + more_texts:
                    break
            except sqlite3.OperationalError:  # not created yet, or busy
                pass
            time.sleep(0.05)
        assert process.poll() is None, "the crawl ended before it could be killed"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # the crawl's own process group (start_new_session)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    return query(archive, "select count(*) from texts")[0][0]


def whole_gzip_member(data: bytes) -> bool:
    # warcio yields a record from a cut member too (with a short payload), so
    # completeness is the member's own: the gzip stream reaches its end marker.
    decompressor = zlib.decompressobj(wbits=31)
    decompressor.decompress(data)
    return decompressor.eof and not decompressor.unused_data


def complete_records(path: Path) -> tuple[dict[int, int], int]:
    """{offset: length} of the records warcio reads, up to the first incomplete one, and where they end."""
    records: dict[int, int] = {}
    end = 0
    data = path.read_bytes()
    with path.open("rb") as handle:
        iterator = ArchiveIterator(handle)
        try:
            for record in iterator:
                record.content_stream().read()
                offset, length = iterator.get_record_offset(), iterator.get_record_length()
                if offset != end or not whole_gzip_member(data[offset:offset + length]):
                    break
                records[offset] = length
                end = offset + length
        except Exception:  # a gzip member cut by the kill: acceptable only as the tail (checked below)
            pass
    return records, end


def assert_archive_whole(archive: Path) -> int:
    """Check the archive after a crash; return how many WARC files end in a cut record."""
    assert query(archive, "pragma integrity_check") == [("ok",)]
    assert query(archive, "pragma foreign_key_check") == []
    directory = warc_directory(archive)
    readable: dict[str, dict[int, int]] = {}
    cut = 0
    for path in sorted(directory.glob("*.warc.gz")):
        records, end = complete_records(path)
        tail = path.read_bytes()[end:]
        cut += bool(tail)
        # Whatever follows the last complete record is one cut gzip member, nothing else.
        assert tail == b"" or (tail.startswith(b"\x1f\x8b\x08") and not whole_gzip_member(tail)), path.name
        readable[path.name] = records
    captures = query(archive, "select warc_file, warc_offset, warc_length from captures where warc_file is not null")
    assert captures
    for warc_file, offset, length in captures:
        assert readable[warc_file].get(offset) == length, f"capture points past the readable part of {warc_file}"
    for url, part, title, published, text, truncated, chars, stored_hash, warc_file, offset in query(
        archive,
        "select t.url, t.part, t.title, t.published, t.text, t.truncated, t.chars, t.content_hash, c.warc_file, c.warc_offset "
        "from texts t join captures c on c.id = t.capture_id",
    ):
        assert text and chars == len(text)
        recomputed = content_hash(ExtractedText(url=url, title=title, published=published, text=text,
                                                truncated=bool(truncated), genre="", part=part))
        assert recomputed == stored_hash
        assert read_page(directory, warc_file, offset).url == url
    assert query(archive, "select count(*) from texts where capture_id is null") == [(0,)]
    # Re-extracting every text from its WARC capture gives exactly the stored rows.
    # (On a copy in a scratch directory: the archive's own filesystem may be the full one.)
    with tempfile.TemporaryDirectory(prefix="fanwen-recheck-") as scratch:
        copy = Path(scratch) / "recheck.db"
        connection = sqlite3.connect(f"file:{archive}?mode=ro", uri=True)
        connection.execute(f"vacuum into '{copy}'")
        connection.close()
        shutil.copytree(directory, warc_directory(copy))
        assert "0 texts changed, 0 new" in run_fanwen("reclean", "--archive", str(copy)).stdout
    return cut


@pytest.fixture(scope="module")
def replica():
    with running_replicas(["huabo"]) as urls:
        yield urls["huabo"]


@pytest.fixture(scope="module")
def reference(replica, tmp_path_factory) -> list[tuple]:
    archive = tmp_path_factory.mktemp("reference") / "archive.db"
    run_fanwen("crawl", "huabo", "--archive", str(archive), "--base-url", replica, "--delay", "0")
    return query(archive, f"select {TEXT_COLUMNS} from texts order by url, part")


def test_sigkill_twice_then_the_next_crawl_completes_the_site(replica, reference, tmp_path):
    archive = tmp_path / "archive.db"
    first = kill_after(archive, replica, 15)
    assert 15 <= first < len(reference)
    assert_archive_whole(archive)
    second = kill_after(archive, replica, 15)
    assert first + 15 <= second < len(reference)
    assert_archive_whole(archive)
    # A kill lands between two whole gzip members almost always (a record is written in
    # microseconds); the rarer kill inside a write leaves a cut member at the tail of the
    # newest file.  Leave exactly that: the first half of a real record's member.
    newest = max(warc_directory(archive).glob("*.warc.gz"), key=lambda path: path.stat().st_mtime)
    records, end = complete_records(newest)
    offset, length = max(records.items())
    with newest.open("r+b") as handle:
        handle.seek(offset)
        member = handle.read(length)
        handle.seek(0, os.SEEK_END)
        handle.write(member[: length // 2])
    assert complete_records(newest) == (records, end)
    assert assert_archive_whole(archive) >= 1

    run_fanwen("crawl", "huabo", "--archive", str(archive), "--base-url", replica, "--delay", "0")
    assert_archive_whole(archive)
    assert query(archive, f"select {TEXT_COLUMNS} from texts order by url, part") == reference
    assert query(archive, "select count(*) from (select url, part from texts group by url, part having count(*) > 1)") == [(0,)]
    # Each article fetched with a body is indexed once: none was stored again by the run after a kill.
    assert query(archive, "select article_url, page, count(*) from captures where status = 200 "
                          "group by article_url, page having count(*) > 1") == []
    runs = query(archive, "select finish_reason from crawl_runs order by id")
    assert len(runs) == 3 and runs[-1] == ("finished",)
