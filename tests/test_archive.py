"""The archive module: schema via migrations, insert / unchanged / changed accounting."""

from __future__ import annotations

import sqlite3

from archive.database import Archive, TextToArchive, migrations
from records.texts import ExtractedText


def text(url="http://127.0.0.1/a/1.html", body="第一段。\n第二段。", truncated=False):
    return ExtractedText(url=url, title="在会议上的讲话", published="2024-12-23", text=body, truncated=truncated,
                         genre="讲话稿", placeholders=("X县",), encoding="utf-8")


def test_new_unchanged_changed(tmp_path):
    with Archive(tmp_path / "archive.db") as archive:
        first = archive.save_texts([TextToArchive("huabo", "讲话稿", "2026-01-01T00:00:00+00:00", text())])
        again = archive.save_texts([TextToArchive("huabo", "讲话稿", "2026-01-02T00:00:00+00:00", text())])
        edited = archive.save_texts(
            [TextToArchive("huabo", "讲话稿", "2026-01-03T00:00:00+00:00", text(body="第一段。\n改动的第二段。"))]
        )
        assert (first.new, again.unchanged, edited.changed) == (1, 1, 1)
        [row] = archive.iter_texts()
    assert row["first_seen"].startswith("2026-01-01") and row["last_seen"].startswith("2026-01-03")
    assert row["text"] == "第一段。\n改动的第二段。" and row["placeholders"] == '["X县"]'


def test_reopening_applies_no_migration_twice(tmp_path):
    path = tmp_path / "archive.db"
    Archive(path).close()
    Archive(path).close()
    connection = sqlite3.connect(path)
    applied = connection.execute("select name from _sqlite_migrations").fetchall()
    assert [name for (name,) in applied] == [m.name for m in migrations._migrations]
    assert connection.execute("pragma journal_mode").fetchone()[0] == "wal"
    indexes = {row[1] for row in connection.execute("pragma index_list(texts)")}
    assert any("url" in name for name in indexes)


def test_unique_url_and_part(tmp_path):
    with Archive(tmp_path / "archive.db") as archive:
        archive.save_texts([TextToArchive("s", None, "t", text(url="http://127.0.0.1/x"))] * 3)
        assert archive.count_texts() == 1


def _write_texts_concurrently(path: str, site: str, count: int) -> None:
    archive = Archive(path)
    for number in range(count):
        # Each save reads (is the URL known?) before it writes; the other process commits in between.
        archive.save_texts([TextToArchive(
            site, "讲话稿", "2026-01-01T00:00:00+00:00",
            text(url=f"http://127.0.0.1/{site}/{number}.html", body=f"{site}第{number}篇。\n同志们，今天我们召开会议。"),
        )])
    archive.close()


def test_two_processes_write_one_archive_without_database_is_locked(tmp_path):
    # Two crawls (the demo crawls six sites at once) write the same archive.  A
    # transaction that began by reading could not take the write lock after the
    # other process committed and failed at once with "database is locked".
    import multiprocessing

    path = str(tmp_path / "archive.db")
    Archive(path).close()
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_write_texts_concurrently, args=(path, site, 150)) for site in ("huabo", "deyu")]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
    assert [writer.exitcode for writer in writers] == [0, 0]
    with Archive(path) as archive:
        assert archive.count_texts() == 300
        # Ids chosen under the write lock never collided, and each new text is its own cluster.
        assert archive.db.execute("select count(*) from texts where cluster_id = id").fetchone()[0] == 300


def test_a_new_text_is_its_own_cluster_and_refresh_rewrites_only_copies(tmp_path):
    # Setting cluster_id after the insert rewrote every new row, text and all: half of
    # the refresh at the end of a crawl.  Only texts that join a cluster change.
    body = "同志们，今天我们召开全县文明城市创建工作推进会，主要任务是总结前一阶段工作，部署下一步任务。" * 4
    with Archive(tmp_path / "archive.db") as archive:
        archive.save_texts([
            TextToArchive("s", None, "2026-01-01T00:00:00+00:00", text(url=f"http://127.0.0.1/{n}.html", body=other))
            for n, other in enumerate(("春季学期开学典礼致辞。", "乡村振兴工作会议讲话。", "年度述职报告。"), start=1)
        ] + [TextToArchive("s", None, "2026-01-01T00:00:00+00:00", text(url="http://127.0.0.1/copy.html", body=body + "\n" + body))])
        archive.save_texts([TextToArchive("t", None, "2026-01-02T00:00:00+00:00", text(url="http://127.0.0.1/t/copy.html", body=body + "\n" + body))])
        clusters = dict(archive.db.execute("select id, cluster_id from texts"))
        assert clusters == {text_id: text_id for text_id in clusters} and len(clusters) == 5
        archive.db.execute("create temp table rewritten (text_id)")
        archive.db.execute("create temp trigger note_rewrite after update on texts begin "
                           "insert into rewritten values (new.id); end")
        assert archive.refresh_duplicates() == 1
        assert [row[0] for row in archive.db.execute("select text_id from rewritten")] == [5]
        assert dict(archive.db.execute("select id, cluster_id from texts"))[5] == 4


def test_processes_opening_a_new_archive_at_once_each_get_it_upgraded(tmp_path):
    """A scheduler recording a skipped run while its crawl created the archive: 'database is locked' in a migration."""
    import subprocess
    import sys

    from .conftest import REPO

    script = "import sys; from archive.database import Archive; Archive(sys.argv[1]).close()"
    for attempt in range(3):
        path = tmp_path / f"archive{attempt}.db"
        openers = [subprocess.Popen([sys.executable, "-c", script, str(path)], cwd=REPO, stderr=subprocess.PIPE, text=True)
                   for _ in range(6)]
        errors = [opener.communicate(timeout=120)[1] for opener in openers]
        assert all(opener.returncode == 0 for opener in openers), [error[-800:] for error in errors if error]
