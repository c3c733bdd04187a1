"""Raw captures in WARC, versions of changed texts, re-cleaning without refetching, schema upgrades."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlite_utils import Database

from archive.database import Archive, migrations, warc_directory
from replica.process import change_replica, running_replicas
from replica.site import load_site

from .conftest import run_fanwen

BIN = Path(sys.executable).parent


def rows(archive: Path, sql: str, params=()) -> list[tuple]:
    connection = sqlite3.connect(archive)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def test_warc_files_pass_warcio_check_and_index(demo_archive):
    files = sorted(warc_directory(demo_archive).glob("*.warc.gz"))
    assert files
    for path in files:
        check = subprocess.run([str(BIN / "warcio"), "check", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        index = subprocess.run([str(BIN / "warcio"), "index", str(path)], capture_output=True, text=True, check=True)
        assert '"warc-type": "response"' in index.stdout and '"warc-type": "request"' in index.stdout


def test_every_text_points_at_its_capture_and_the_capture_reads_back(demo_archive):
    from archive.warc_store import read_page

    texts = rows(demo_archive, "select count(*) from texts where capture_id is null")
    assert texts == [(0,)]
    sample = rows(
        demo_archive,
        "select t.url, c.warc_file, c.warc_offset, c.status, c.declared_encoding, c.detected_encoding, c.payload_digest "
        "from texts t join captures c on c.id = t.capture_id where t.site = 'huabo' order by t.id limit 5",
    )
    site = load_site("huabo")
    for url, warc_file, offset, status, declared, detected, digest in sample:
        page = read_page(warc_directory(demo_archive), warc_file, offset)
        path = "/" + url.split("/", 3)[3]
        assert page.url == url and status == 200 and declared == detected == "utf-8" and digest.startswith("sha1:")
        assert page.body == site.respond(path).body


@pytest.fixture()
def crawled(tmp_path):
    """An archive of a replica of our own (the test changes the replica)."""
    with running_replicas(["huabo"]) as urls:
        archive = tmp_path / "archive.db"
        run_fanwen("crawl", "huabo", "--archive", str(archive), "--base-url", urls["huabo"], "--delay", "0")
        yield archive, urls["huabo"]


def test_changed_pages_become_exactly_that_many_versions(crawled):
    archive, url = crawled
    before = dict(rows(archive, "select url, content_hash from texts"))
    edited = {url.rstrip("/") + path for path in change_replica(url, "edit", 10)}
    run_fanwen("crawl", "huabo", "--archive", str(archive), "--base-url", url, "--delay", "0", "--refresh")
    after = dict(rows(archive, "select url, content_hash from texts"))
    assert {u for u in after if after[u] != before[u]} == edited
    versions = rows(archive, "select t.url, v.content_hash from text_versions v join texts t on t.id = v.text_id")
    assert len(versions) == 10 and {u for u, _ in versions} == edited
    assert all(before[u] == old_hash for u, old_hash in versions)


def test_reclean_rebuilds_a_dropped_texts_table_exactly(crawled):
    archive, _ = crawled
    original = rows(archive, "select * from texts order by id")
    connection = sqlite3.connect(archive)
    connection.execute("drop table texts")
    connection.commit()
    connection.close()
    output = run_fanwen("reclean", "--archive", str(archive)).stdout
    assert f"{len(original)} new" in output
    assert rows(archive, "select * from texts order by id") == original
    again = run_fanwen("reclean", "--archive", str(archive)).stdout
    assert "0 texts changed, 0 new" in again


def test_reclean_reads_only_the_warc_files(tmp_path):
    archive = tmp_path / "archive.db"
    with running_replicas(["huabo"]) as urls:
        run_fanwen("crawl", "huabo", "--archive", str(archive), "--base-url", urls["huabo"], "--delay", "0",
                   "-s", "CLOSESPIDER_ITEMCOUNT=30")
    # the replica is gone: nothing can be fetched now
    with Archive(archive) as opened:
        opened.db.execute("update texts set text = '旧的规则得出的文本', content_hash = 'old rules'")
        opened.db.conn.commit()
    count = rows(archive, "select count(*) from texts")[0][0]
    output = run_fanwen("reclean", "--archive", str(archive)).stdout
    assert f"{count} texts changed" in output
    assert rows(archive, "select count(*) from texts where text = '旧的规则得出的文本'") == [(0,)]
    assert rows(archive, "select count(*) from text_versions") == [(count,)]


def test_older_archive_is_upgraded_in_place(tmp_path):
    path = tmp_path / "archive.db"
    db = Database(path)
    migrations.apply(db, stop_before="m003_captures_versions_duplicates")
    db["texts"].insert({
        "site": "huabo", "url": "http://127.0.0.1/article/1.html", "part": 1, "title": "在会议上的讲话",
        "text": "第一段。", "truncated": 0, "content_hash": "h", "first_seen": "2025-01-01T00:00:00+00:00",
        "last_seen": "2025-01-01T00:00:00+00:00",
    })
    db.close()
    with Archive(path) as archive:
        [row] = list(archive.iter_texts())
        assert row["title"] == "在会议上的讲话"
        assert {"captures", "text_versions", "duplicate_clusters"} <= set(archive.db.table_names())
        assert "capture_id" in archive.db["texts"].columns_dict


def test_create_texts_table_matches_the_migrated_schema(tmp_path):
    from archive.database import create_texts_table

    def indexes(db: Database) -> set[tuple]:
        return {(index.name, tuple(index.columns), index.unique) for index in db["texts"].indexes}

    with Archive(tmp_path / "migrated.db") as migrated:
        migrated_columns = migrated.db["texts"].columns_dict
        migrated_indexes = indexes(migrated.db)
    fresh = Database(tmp_path / "fresh.db")
    fresh["captures"].create({"id": int}, pk="id")
    create_texts_table(fresh)
    assert fresh["texts"].columns_dict == migrated_columns
    # A texts table rebuilt by re-cleaning lacked the truncated facet's index (m011) once.
    assert indexes(fresh) == migrated_indexes


def test_planted_copies_found_as_duplicates_across_sites(demo_archive):
    """deyu republishes 40 huabo texts (verbatim, retitled, re-templated, with an inserted paragraph)."""
    from itertools import combinations

    by_url = {(site, url.split("/", 3)[3]): (text_id, cluster) for text_id, site, url, cluster in rows(
        demo_archive, "select id, site, url, cluster_id from texts")}
    truth = set()
    for article in load_site("deyu").articles:
        if article.copied_from:
            source_site, source_id, _ = article.copied_from
            source = by_url[(source_site, f"article/{source_id}.html")][0]
            copy = by_url[("deyu", article.path.lstrip("/"))][0]
            truth.add(frozenset((source, copy)))
    clusters: dict[int, list[int]] = {}
    for text_id, cluster in by_url.values():
        clusters.setdefault(cluster, []).append(text_id)
    predicted = {frozenset(pair) for members in clusters.values() for pair in combinations(members, 2)}
    found = predicted & truth
    assert len(truth) == 40
    assert len(found) / len(predicted) >= 0.95  # precision
    assert len(found) / len(truth) >= 0.95  # recall
    canonical = rows(demo_archive, "select count(*), sum(size) from duplicate_clusters")
    assert canonical[0][0] >= 38


def test_captures_take_the_encodings_extraction_found_without_decoding_again(tmp_path, monkeypatch):
    # The writer once decoded every page a second time only to record its encodings.
    from archive import writer as archive_writer
    from archive.writer import ArchiveWriter
    from crawler.profiles import load_profile
    from pipelines.decoding import decode_html
    from pipelines.extraction import extract_texts
    from records.crawl_items import ArticleItem
    from records.item_codec import decode_item, encode_item
    from records.texts import FetchedPage

    site, rules = load_site("ruiwen"), load_profile("ruiwen").extract  # GBK pages
    article = site.articles[0]
    response = site.respond(article.path)
    page = FetchedPage(f"http://127.0.0.1:1{article.path}", response.body, response.content_type, 200,
                       (("Content-Type", response.content_type),), (), None, "2026-01-01T00:00:00+00:00")
    item = ArticleItem("ruiwen", article.category.name, [page], page.fetched_at)
    result = extract_texts(item.pages, rules)
    item.texts, item.encodings = result.texts, list(result.encodings)
    decoded = decode_html(page.body, page.content_type, rules.encoding)
    assert item.encodings == [(decoded.declared, decoded.encoding)] and item.texts
    assert decode_item(encode_item(item)).encodings == item.encodings  # distributed workers hand them over too

    def no_second_decoding(*args, **kwargs):
        raise AssertionError("the page was decoded again")

    monkeypatch.setattr(archive_writer, "decode_html", no_second_decoding)
    writer = ArchiveWriter(tmp_path / "archive.db")
    writer.add(item)
    writer.close()
    assert rows(tmp_path / "archive.db", "select declared_encoding, detected_encoding from captures") == [
        (decoded.declared, decoded.encoding)]


@pytest.mark.parametrize("encodings", [[["utf-8"]], [[None, 7]], "utf-8", [["gbk", "gb18030", "x"]], None])
def test_a_malformed_encodings_list_from_a_worker_is_dropped_and_the_page_decoded(tmp_path, encodings):
    # A distributed worker's item is input: its encodings are used only when well formed.
    import json

    from archive.writer import ArchiveWriter
    from records.crawl_items import ArticleItem
    from records.item_codec import decode_item, encode_item
    from records.texts import FetchedPage

    body = "<html><head><meta charset='gbk'></head><body><h1>讲话</h1><p>同志们，今天召开会议。</p></body></html>".encode("gbk")
    page = FetchedPage("http://127.0.0.1:1/a.html", body, "text/html", 200, (("Content-Type", "text/html"),), (), None,
                       "2026-01-01T00:00:00+00:00")
    payload = json.loads(encode_item(ArticleItem("huabo", None, [page], page.fetched_at)))
    payload["encodings"] = encodings
    item = decode_item(json.dumps(payload).encode())
    assert item.encodings == []
    writer = ArchiveWriter(tmp_path / "archive.db")
    writer.add(item)
    writer.close()
    assert rows(tmp_path / "archive.db", "select declared_encoding, detected_encoding from captures") == [("gb18030", "gb18030")]


def test_warc_digests_given_to_warcio_are_the_ones_it_computes_itself(tmp_path):
    """The store hands warcio each response's length and digests; a reader checking digests agrees with them."""
    import io

    from warcio.archiveiterator import ArchiveIterator
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from archive.warc_store import WarcStore
    from records.texts import FetchedPage

    body = "<html><meta charset=gbk><p>坚持以人民为中心的发展思想</p></html>".encode("gbk")
    page = FetchedPage(
        "http://127.0.0.1:1/a/1.html", body, "text/html", 200,
        (("Content-Type", "text/html"), ("Content-Encoding", "gzip"), ("X-Note", "a\tb")), (("User-Agent", "fanwen"),),
        None, "2026-01-01T00:00:00+00:00",
    )
    store = WarcStore(tmp_path)
    location = store.write_page(page)
    store.close()
    with open(tmp_path / location.file, "rb") as handle:
        records = [
            (record.rec_type, record.rec_headers.get_header("WARC-Payload-Digest"),
             record.rec_headers.get_header("WARC-Block-Digest"), record.content_stream().read())
            for record in ArchiveIterator(handle, check_digests="raise")
        ]
    [response] = [record for record in records if record[0] == "response"]
    assert response[3] == body and response[1] == location.payload_digest

    # The same response record as warcio builds it when it digests the body itself.
    own = WARCWriter(io.BytesIO(), gzip=False)
    headers = [("Content-Type", "text/html"), ("X-Note", "a\tb"), ("Content-Length", str(len(body)))]
    record = own.create_warc_record(page.url, "response", payload=io.BytesIO(body),
                                    http_headers=StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1"))
    own.write_record(record)
    assert (response[1], response[2]) == (
        record.rec_headers.get_header("WARC-Payload-Digest"), record.rec_headers.get_header("WARC-Block-Digest"))
