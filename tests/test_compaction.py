"""``fanwen compact``: the archive rewritten in place with each table's pages together, nothing else changed."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections import namedtuple

import pytest

from archive import compaction
from archive.compaction import CompactionRefused, compact
from archive.database import Archive, TextToArchive
from archive.locks import site_lock
from records.texts import ExtractedText
from tests.conftest import REPO, fanwen_command, run_fanwen

# Far apart in the file: the next page of the texts table is not one the disk reads along with this one.
FAR = 16


def scattered_texts_archive(demo_archive, folder, texts: int = 120):
    """A copy of the demo archive whose new texts were written between other tables' pages, later freed."""
    path = folder / "archive.db"
    shutil.copy(demo_archive, path)
    connection = sqlite3.connect(path)
    connection.execute("create table filler (body blob)")
    connection.commit()
    with Archive(path) as archive:
        for number in range(texts):
            connection.execute("insert into filler values (zeroblob(40000))")
            connection.commit()
            body = "\n".join(f"第{number}篇第{line}段，同志们要把学习贯彻落到实处，联系实际、抓好落实。" for line in range(120))
            archive.save_texts([TextToArchive("huabo", "讲话稿", "2030-01-01T00:00:00+00:00", ExtractedText(
                url=f"http://127.0.0.1:9/compact/{number}.html", title=f"第{number}篇讲话", published="2030-01-01",
                text=body, truncated=False, genre="讲话稿"))])
    connection.execute("drop table filler")
    connection.commit()
    connection.close()
    return path


def far_jumps(path) -> int:
    """How often the texts table's next page (in the table's own order) lies far from the last one."""
    connection = sqlite3.connect(path)
    pages = [page for (page,) in connection.execute("select pageno from dbstat where name = 'texts'")]
    connection.close()
    return sum(1 for last, page in zip(pages, pages[1:]) if abs(page - last) > FAR)


def contents(path) -> dict:
    connection = sqlite3.connect(path)
    found = {
        "texts": connection.execute("select * from texts order by id").fetchall(),
        "captures": connection.execute("select count(*) from captures").fetchone(),
        "index": connection.execute("select rowid from texts_fts where texts_fts match '同志' order by rowid").fetchall(),
        "integrity": connection.execute("pragma integrity_check").fetchall(),
        "free pages": connection.execute("pragma freelist_count").fetchone()[0],
    }
    connection.close()
    return found


def test_compacting_lays_the_texts_out_in_order_and_changes_nothing_else(demo_archive, tmp_path):
    path = scattered_texts_archive(demo_archive, tmp_path)
    before, jumps_before, size_before = contents(path), far_jumps(path), path.stat().st_size
    assert before["free pages"] > 100 and jumps_before > 100  # the setup did scatter the texts

    result = run_fanwen("compact", "--archive", str(path))

    after = contents(path)
    assert "compacted" in result.stdout
    assert after["integrity"] == [("ok",)] and after["free pages"] == 0
    assert after["texts"] == before["texts"] and after["captures"] == before["captures"]
    assert after["index"] == before["index"] and after["index"]
    assert far_jumps(path) < jumps_before / 10
    assert path.stat().st_size < size_before
    assert not path.with_name(path.name + "-wal").exists() or path.with_name(path.name + "-wal").stat().st_size == 0
    with Archive(path) as archive:  # still an archive the crawler writes to
        assert archive.save_texts([TextToArchive("huabo", "讲话稿", "2030-01-02T00:00:00+00:00", ExtractedText(
            url="http://127.0.0.1:9/compact/after.html", title="压缩之后", published="2030-01-02",
            text="压缩之后写入的讲话。", truncated=False, genre="讲话稿"))]).new == 1


def test_a_crawl_writing_to_the_archive_stops_the_compaction(demo_archive, tmp_path):
    path = tmp_path / "archive.db"
    shutil.copy(demo_archive, path)
    size = path.stat().st_size
    with site_lock(path, "huabo"):
        with pytest.raises(CompactionRefused, match="huabo"):
            compact(path)
    assert path.stat().st_size == size
    compact(path)  # once the crawl has ended


def test_a_disk_without_room_for_the_rewrite_stops_it_before_it_starts(demo_archive, tmp_path, monkeypatch):
    path = tmp_path / "archive.db"
    shutil.copy(demo_archive, path)
    pages = sqlite3.connect(path)
    needed = compaction.live_bytes(pages)
    pages.close()
    usage = namedtuple("usage", "total used free")
    # Room for one copy of the pages, not for the temporary file and the log on the same disk.
    monkeypatch.setattr(compaction.shutil, "disk_usage", lambda folder: usage(10 * needed, 0, int(1.5 * needed)))
    monkeypatch.setenv("SQLITE_TMPDIR", str(tmp_path))
    with pytest.raises(CompactionRefused, match="GB free"):
        compact(path)
    monkeypatch.setattr(compaction.shutil, "disk_usage", lambda folder: usage(10 * needed, 0, 3 * needed))
    assert compact(path).bytes_after <= compact(path).bytes_before


def test_what_is_no_archive_is_refused_with_a_message_and_left_as_it_was(tmp_path):
    not_a_database = tmp_path / "notes.db"
    not_a_database.write_bytes("会议记录，不是数据库。".encode() * 400)
    content = not_a_database.read_bytes()
    for path, message in ((not_a_database, "is not an archive"), (tmp_path / "missing.db", "no archive at")):
        result = subprocess.run(fanwen_command("compact", "--archive", str(path)), cwd=REPO, capture_output=True,
                                text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
        assert result.returncode != 0 and message in result.stderr and "Traceback" not in result.stderr
    assert not_a_database.read_bytes() == content and not (tmp_path / "missing.db").exists()
