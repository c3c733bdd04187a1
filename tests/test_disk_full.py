"""A disk that fills up while the crawl writes: the crawl stops with a clear message and the archive stays whole.

Two real faults, not mocks:

* a file-size limit (``RLIMIT_FSIZE`` set in the crawl's process): each write
  past the limit fails with EFBIG, whichever file (WARC, SQLite database or
  its WAL) reaches it first.  Works for any user on any Linux, so it always runs
  in CI;
* a small tmpfs mounted for the archive: writes fail with ENOSPC, as on a full
  disk.  Mounting needs root (CAP_SYS_ADMIN); where it is not allowed the test is
  skipped and says so, and the size limit above still covers the fault.

Expected: ``fanwen crawl`` exits non-zero naming the problem; ``integrity_check``
is ok; WARC files read up to their last whole record and no capture points past
it; the texts are complete (a re-clean from the WARC files changes nothing); and
after room is made, the next crawl completes the site exactly like a crawl that
never failed.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
from pathlib import Path

import pytest

from archive.database import warc_directory

from .conftest import REPO, run_fanwen
from .test_crash_recovery import TEXT_COLUMNS, assert_archive_whole, crawl_command, query, reference, replica  # noqa: F401

DISK_MESSAGE = "no room to write the archive"


def crawl_until_no_room(archive: Path, base_url: str, preexec=None, batch: int = 3) -> subprocess.CompletedProcess:
    return subprocess.run(crawl_command(archive, base_url, batch), cwd=archive.parent, capture_output=True, text=True,
                          timeout=300, preexec_fn=preexec, env={**os.environ, "PYTHONPATH": str(REPO)})


def assert_failed_clearly(result: subprocess.CompletedProcess) -> None:
    assert result.returncode != 0, result.stdout
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("Error: huabo: " + DISK_MESSAGE), message
    assert "disk is full or a file size limit was reached" in message and "Traceback" not in message
    assert "(disk_full)" in result.stdout  # the finish reason in the summary line


def assert_next_crawl_completes(archive: Path, base_url: str, reference: list[tuple]) -> None:
    run_fanwen("crawl", "huabo", "--archive", str(archive), "--base-url", base_url, "--delay", "0")
    assert_archive_whole(archive)
    assert query(archive, f"select {TEXT_COLUMNS} from texts order by url, part") == reference
    assert query(archive, "select article_url, page, count(*) from captures where status = 200 "
                          "group by article_url, page having count(*) > 1") == []


# Which file meets the limit first depends on the write batch: with large batches the
# WARC file (written at once) grows past it before the index is written; with small
# ones the SQLite WAL does.  The warc-file case starts from an archive that already
# holds texts (an earlier crawl stopped by an item count), which must survive.
@pytest.mark.parametrize("limit, batch, error, prefill", [
    pytest.param(300_000, 200, "File too large", True, id="warc-file"),
    pytest.param(400_000, 3, "disk I/O error", False, id="sqlite-wal"),
])
def test_file_size_limit_stops_the_crawl_and_keeps_the_archive_whole(replica, reference, tmp_path, limit, batch, error, prefill):
    archive = tmp_path / "archive.db"
    if prefill:
        run_fanwen("crawl", "huabo", "--archive", str(archive), "--base-url", replica, "--delay", "0",
                   "-s", "CLOSESPIDER_ITEMCOUNT=20")
    before = query(archive, f"select {TEXT_COLUMNS} from texts order by url, part") if prefill else []

    def limit_file_size():  # runs in the crawl's process only
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = crawl_until_no_room(archive, replica, limit_file_size, batch)
    assert_failed_clearly(result)
    assert error in result.stderr.strip().splitlines()[-1]
    kept = query(archive, f"select {TEXT_COLUMNS} from texts order by url, part")
    assert 0 < len(kept) < len(reference)
    assert set(before) <= set(kept)
    assert_archive_whole(archive)
    assert_next_crawl_completes(archive, replica, reference)


def test_no_room_for_the_archive_itself_fails_before_fetching(replica, tmp_path):
    archive = tmp_path / "archive.db"
    result = crawl_until_no_room(archive, replica, lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000)))
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("Error: " + DISK_MESSAGE) and message.endswith("nothing was fetched"), message
    assert query(archive, "pragma integrity_check") == [("ok",)]


@pytest.fixture()
def small_filesystem(tmp_path):
    mountpoint = tmp_path / "small"
    mountpoint.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; the RLIMIT_FSIZE test covers the fault")
    # Too small for the replica's whole crawl, big enough for an empty archive's tables and
    # indexes and a first batch (at 512k, an index more left no batch room to commit).
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=768k,mode=0755", "tmpfs", str(mountpoint)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"this machine does not allow mounting a tmpfs ({mounted.stderr.strip()}); "
                    "the RLIMIT_FSIZE test covers the fault")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=True)


def test_full_filesystem_stops_the_crawl_and_keeps_the_archive_whole(replica, reference, small_filesystem, tmp_path):
    archive = small_filesystem / "archive.db"
    result = crawl_until_no_room(archive, replica)
    assert_failed_clearly(result)
    # Whichever write met the full disk first names it: the WARC file's (the OS) or the database's (SQLite).
    assert "No space left on device" in result.stderr or "database or disk is full" in result.stderr
    assert_archive_whole(archive)
    # Make room: move the archive (database, WAL, WARC files) to a filesystem with space.
    roomy = tmp_path / "roomy"
    roomy.mkdir()
    for path in small_filesystem.iterdir():
        if path.name.startswith("archive.db") or path == warc_directory(archive):
            (shutil.copytree if path.is_dir() else shutil.copy2)(path, roomy / path.name)
    assert_next_crawl_completes(roomy / "archive.db", replica, reference)
