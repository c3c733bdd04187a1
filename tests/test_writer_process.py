"""The crawl's archive writer process: same archive as the in-process writer, failures reach the crawl."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from archive.database import warc_directory
from archive.writer import ArchiveWriter
from archive.writer_process import ArchiveWriteError, ArchiveWriterProcess
from replica.site import load_site

from .conftest import REPO, fanwen_command
from .replica_items import replica_items


def archived(path: Path) -> list[tuple]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(
            "select url, part, title, published, truncated, text, content_hash, exact_key, cluster_id from texts order by url, part"
        ).fetchall() + connection.execute(
            "select t.url, s.content_hash = t.content_hash from text_signatures s join texts t on t.id = s.text_id order by t.url"
        ).fetchall()
    finally:
        connection.close()


def test_writer_process_archives_what_the_inline_writer_does(tmp_path):
    items = replica_items(60)
    inline = ArchiveWriter(tmp_path / "inline.db", batch_size=25)
    for item in items:
        inline.add(item)
    inline_clusters = inline.close()
    process = ArchiveWriterProcess(tmp_path / "process.db", batch_size=25)
    for item in items:
        process.add(item)
    assert process.close() == inline_clusters
    assert process.counts == inline.counts and process.counts.new == sum(len(i.texts) for i in items)
    assert archived(tmp_path / "process.db") == archived(tmp_path / "inline.db")


def test_a_failing_writer_is_reported_to_the_caller(tmp_path):
    archive = tmp_path / "archive.db"
    warc_directory(archive).write_text("a file where the WARC directory should be")
    writer = ArchiveWriterProcess(archive, batch_size=5)
    with pytest.raises(ArchiveWriteError, match="FileExistsError|NotADirectoryError"):
        for item in replica_items(20):
            writer.add(item)
        writer.close()


def test_a_failure_read_while_asking_for_the_backlog_still_reaches_add_and_close(tmp_path):
    # The extraction pipeline asks for the backlog and ignores a failure there; the
    # failure must still stop the crawl with its own message when the next item comes.
    archive = tmp_path / "archive.db"
    warc_directory(archive).write_text("a file where the WARC directory should be")
    writer = ArchiveWriterProcess(archive, batch_size=5)
    writer.add(replica_items(1)[0])
    writer._send_batch()
    with pytest.raises(ArchiveWriteError, match="FileExistsError|NotADirectoryError"):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            writer.backlog()
            time.sleep(0.05)
    for call in (lambda: writer.add(replica_items(1)[0]), writer.close):
        with pytest.raises(ArchiveWriteError, match="FileExistsError|NotADirectoryError"):
            call()


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's exit may wait for a reaper that a container lacks)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def test_the_writer_stops_when_the_crawl_process_is_killed(tmp_path):
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(REPO)!r})
        from tests.replica_items import replica_items
        from archive.writer_process import ArchiveWriterProcess
        if __name__ == "__main__":
            items = replica_items(10)
            writer = ArchiveWriterProcess({str(tmp_path / 'archive.db')!r}, batch_size=1000)
            for item in items:
                writer.add(item)
            print(writer._process.pid, flush=True)
            time.sleep(60)
    """)
    (tmp_path / "crawl.py").write_text(script)
    crawl = subprocess.Popen([sys.executable, str(tmp_path / "crawl.py")], stdout=subprocess.PIPE, text=True)
    writer_pid = int(crawl.stdout.readline())
    crawl.send_signal(signal.SIGKILL)
    crawl.wait()
    # It notices within a poll interval once started; starting (imports) is slow on a loaded machine.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not running(writer_pid):
            break
        time.sleep(0.1)
    else:
        os.kill(writer_pid, signal.SIGKILL)
        pytest.fail("the writer process outlived the killed crawl")
    # It wrote nothing of its unflushed batch, as the crawl process itself would not have.
    connection = sqlite3.connect(tmp_path / "archive.db")
    try:
        assert connection.execute("select count(*) from texts").fetchone() == (0,)
        assert connection.execute("pragma integrity_check").fetchone() == ("ok",)
    finally:
        connection.close()


def test_a_crawl_whose_archive_cannot_be_written_fails_clearly(tmp_path, replica_urls):
    archive = tmp_path / "archive.db"
    warc_directory(archive).write_text("a file where the WARC directory should be")
    result = subprocess.run(
        fanwen_command("crawl", "huabo", "--base-url", replica_urls["huabo"], "--archive", str(archive)),
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode != 0
    assert "could not write the archive" in result.stderr
    connection = sqlite3.connect(archive)
    try:
        runs = connection.execute("select finish_reason, pages_fetched from crawl_runs").fetchall()
        assert connection.execute("select count(*) from texts").fetchone() == (0,)
    finally:
        connection.close()
    # The crawl stopped at the failure instead of fetching the whole site for nobody.
    assert [reason for reason, _ in runs] == ["archive_error"]
    assert runs[0][1] < len(load_site("huabo").articles)
