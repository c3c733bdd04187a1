"""Chinese full-text search: exact substring semantics through Datasette, and an index kept current by writes."""

from __future__ import annotations

import asyncio
import random
import re
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from archive import search_index
from archive.database import Archive, TextToArchive, migrations
from fanwen.serve import datasette_instance
from records.texts import ExtractedText

CJK_RUN = re.compile(f"[{search_index.CJK_CHARS}]+")


def generated_queries(texts: list[str], seed: int = 5) -> list[str]:
    """1–6 character terms drawn from the archive, common and rare, several words, and words that are nowhere."""
    rng = random.Random(seed)
    runs = [run for text in texts for run in CJK_RUN.findall(text) if len(run) >= 6]
    frequency: dict[str, int] = {}
    for text in texts:
        for char in set("".join(CJK_RUN.findall(text))):
            frequency[char] = frequency.get(char, 0) + 1
    ranked = sorted(frequency, key=lambda c: (-frequency[c], c))
    queries = ranked[:6] + ranked[-6:] + ["文明", "创建", "文明城市", "党"]
    for length in (2, 2, 2, 3, 4, 4, 5, 6) * 5:
        run = rng.choice(runs)
        start = rng.randrange(len(run) - length + 1)
        queries.append(run[start:start + length])
    words = [q for q in queries if len(q) in (2, 4)]
    queries += [f"{rng.choice(words)} {rng.choice(words)}" for _ in range(10)]
    queries += ["元宇宙链", "鲸落海底"]
    return list(dict.fromkeys(queries))


def like_truth(connection: sqlite3.Connection, query: str) -> set[int]:
    where = " and ".join("(title like ? or text like ?)" for _ in query.split())
    params = [p for term in query.split() for p in (f"%{term}%", f"%{term}%")]
    return {row[0] for row in connection.execute(f"select id from texts where {where}", params)}


def get(datasette, path: str, params: dict):
    """One request through Datasette's in-process client (the same app ``fanwen serve`` runs)."""
    return asyncio.run(datasette.client.get(path, params=params))


@pytest.fixture(scope="module")
def datasette(demo_archive):
    return datasette_instance(demo_archive)


@pytest.fixture(scope="module")
def queries_and_truth(demo_archive):
    connection = sqlite3.connect(demo_archive)
    texts = [row[0] for row in connection.execute("select title || '\n' || text from texts order by id")]
    queries = generated_queries(texts)
    truth = {q: like_truth(connection, q) for q in queries}
    connection.close()
    assert len(queries) >= 50
    assert sum(1 for q in queries if len(q.replace(" ", "")) == 1) >= 6
    assert any(len(ids) == 0 for ids in truth.values()) and any(len(ids) > 100 for ids in truth.values())
    return truth


def test_table_search_box_matches_substring_scan(datasette, queries_and_truth):
    """Datasette's own ?_search= (what the search box sends) finds exactly the texts LIKE finds."""
    found_total = expected_total = correct_total = 0
    wrong_zero = []
    for query, expected in queries_and_truth.items():
        response = get(datasette, "/archive/texts.json",
                       params={"_search": query, "_size": "max", "_col": "id", "_shape": "objects"})
        assert response.status_code == 200, (query, response.text[:300])
        page = response.json()
        found = {row["id"] for row in page["rows"]}
        assert page["filtered_table_rows_count"] == len(found), query  # all on one page
        if expected and not found:
            wrong_zero.append(query)
        found_total += len(found)
        expected_total += len(expected)
        correct_total += len(found & expected)
        assert expected <= found, f"{query}: missed {sorted(expected - found)[:5]}"
    assert wrong_zero == []
    assert correct_total == expected_total  # recall 1.0
    assert correct_total / found_total >= 0.999  # precision


def test_ranked_search_counts_and_ranks(datasette, demo_archive, queries_and_truth):
    connection = sqlite3.connect(demo_archive)
    cluster_of = dict(connection.execute("select id, cluster_id from texts"))
    connection.close()
    for query, expected in queries_and_truth.items():
        response = get(datasette, "/archive/search.json", params={"q": query, "_shape": "objects"})
        assert response.status_code == 200, (query, response.text[:300])
        rows = response.json()["rows"]
        # One row per duplicate cluster (tests/test_search_clusters.py); total counts every text.
        assert len(rows) == min(20, len({cluster_of[i] for i in expected})), query
        if rows:
            assert rows[0]["total"] == len(expected), query
            assert {row["id"] for row in rows} <= expected, query
            scores = [row["score"] for row in rows]
            assert scores == sorted(scores, reverse=True)
            # Each snippet is cut around the first hit of a term: some term shows in it (or in the title).
            assert all(any(term in row["snippet"] + row["title"] for term in query.split()) for row in rows), query


def test_ranked_search_puts_title_hits_and_dense_texts_first(datasette, demo_archive):
    connection = sqlite3.connect(demo_archive)
    title, = connection.execute("select title from texts where length(title) >= 8 order by id limit 1").fetchone()
    connection.close()
    response = get(datasette, "/archive/search.json", params={"q": title, "_shape": "objects"})
    assert response.json()["rows"][0]["title"] == title


def text(url: str, body: str, title: str = "关于创建全国文明城市的讲话") -> TextToArchive:
    return TextToArchive("huabo", "讲话", "2026-01-01T00:00:00+00:00",
                         ExtractedText(url=url, title=title, published="2025-01-02", text=body, truncated=False, genre="讲话稿"))


def search_ids(archive: Archive, query: str) -> set[int]:
    return {row[0] for row in archive.db.execute(
        f"select rowid from {search_index.FTS_TABLE} where {search_index.FTS_TABLE} match ?",
        [search_index.fts_query(query)])}


def test_index_follows_inserts_and_changed_texts(tmp_path):
    with Archive(tmp_path / "archive.db") as archive:
        archive.save_texts([text("http://x/1.html", "同志们：\n今年全县乡村振兴取得新进展。"),
                            text("http://x/2.html", "推进河长制落实落细。")])
        assert search_ids(archive, "乡村振兴") == {1}
        assert search_ids(archive, "河长") == {2}
        archive.save_texts([text("http://x/1.html", "同志们：\n今年全县生态环境持续改善。")])  # changed in place
        assert search_ids(archive, "乡村振兴") == set()  # the old words are gone from the index
        assert search_ids(archive, "生态环境") == {1}
        assert search_ids(archive, "讲话") == {1, 2}  # titles are indexed too
        # Deleting with the old tokens must have left the index consistent.
        archive.db.execute(f"insert into {search_index.FTS_TABLE} ({search_index.FTS_TABLE}, rank) values ('integrity-check', 0)")


def test_migration_indexes_texts_of_an_older_archive(tmp_path):
    path = tmp_path / "old.db"
    with Archive(path) as archive:
        archive.save_texts([text("http://x/1.html", "二〇三五年远景目标")])
    connection = sqlite3.connect(path)
    connection.execute(f"drop table {search_index.FTS_TABLE}")
    connection.execute("delete from _sqlite_migrations where name = 'm004_texts_full_text_index'")
    connection.commit()
    connection.close()
    with Archive(path) as archive:
        assert search_ids(archive, "〇三五") == {1}
        assert search_ids(archive, "远景") == {1}


def index_setting(path, key: str) -> int | None:
    """A setting FTS5 keeps in the index's config table (None: FTS5's default applies)."""
    connection = sqlite3.connect(path)
    try:
        row = connection.execute(f"select v from {search_index.FTS_TABLE}_config where k = ?", (key,)).fetchone()
    finally:
        connection.close()
    return row and row[0]


def automerge_of(path) -> int | None:
    return index_setting(path, "automerge")


def test_index_merges_segments_eight_at_a_time_in_new_and_upgraded_archives(tmp_path):
    with Archive(tmp_path / "new.db") as archive:
        archive.save_texts([text("http://x/1.html", "乡村振兴")])
    assert automerge_of(tmp_path / "new.db") == search_index.AUTOMERGE == 8

    old = Database(tmp_path / "old.db")
    migrations.apply(old, stop_before="m006_full_text_index_merges_less_often")
    old.close()
    assert automerge_of(tmp_path / "old.db") is None  # FTS5's default, 4
    with Archive(tmp_path / "old.db") as archive:
        archive.save_texts([text("http://x/1.html", "乡村振兴")])
        assert search_ids(archive, "振兴") == {1}
    assert automerge_of(tmp_path / "old.db") == 8


def index_segments(archive: Archive) -> int:
    """Segments of the full-text index: the count in FTS5's structure record (row 10 of its data table)."""
    block = archive.db.execute(f"select block from {search_index.FTS_TABLE}_data where id = 10").fetchone()[0]
    values, value = [], 0
    for byte in block[4:]:  # after the 4-byte cookie: varints nLevel, nSegment, ...
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            values.append(value)
            value = 0
            if len(values) == 2:
                return values[1]
    raise AssertionError("short structure record")


def hashsize_of(path) -> int | None:
    return index_setting(path, "hashsize")


def test_a_batch_of_texts_is_written_as_one_index_segment_in_new_and_upgraded_archives(tmp_path):
    # 200 texts of 3,000 characters hold some 4 MiB of terms: at FTS5's default of 1 MiB they were
    # written as several segments, each to be merged again.
    body = "".join(random.Random(3).choice("创建文明城市推进乡村振兴生态环境保护同志们") for _ in range(3000))
    batch = [text(f"http://x/{i}.html", f"{i}{body}") for i in range(200)]
    with Archive(tmp_path / "new.db") as archive:
        archive.save_texts(batch)
        assert index_segments(archive) == 1
    assert hashsize_of(tmp_path / "new.db") == search_index.HASHSIZE == 16 * 1024 * 1024

    old = Database(tmp_path / "old.db")
    migrations.apply(old, stop_before="m012_full_text_index_writes_a_batch_as_one_segment")
    old.close()
    assert hashsize_of(tmp_path / "old.db") is None  # FTS5's default, 1 MiB
    with Archive(tmp_path / "old.db") as archive:
        archive.save_texts(batch)
        assert index_segments(archive) == 1
        assert search_ids(archive, body[100:104]) == set(range(1, 201))
    assert hashsize_of(tmp_path / "old.db") == search_index.HASHSIZE


def test_dropped_texts_table_empties_the_index(tmp_path):
    with Archive(tmp_path / "archive.db") as archive:
        archive.save_texts([text("http://x/1.html", "乡村振兴")])
        # As a user drops it in the sqlite3 shell (foreign keys unenforced there): text_signatures
        # and text_versions refer to its rows.
        archive.db.execute("pragma foreign_keys = off")
        archive.db.execute("drop table texts")
        archive.db.execute("pragma foreign_keys = on")
        archive.ensure_texts_table()
        archive.save_texts([text("http://x/9.html", "河长制")])  # gets id 1 again
        assert search_ids(archive, "乡村振兴") == set()
        assert search_ids(archive, "河长制") == {1}


@pytest.mark.parametrize("query, expected", [
    ("文明", '"文明"'),
    ("党", '"党"*'),
    ("全国文明城市", '"全国 国文 文明 明城 城市"'),
    ("乡村振兴 产业", '"乡村 村振 振兴" "产业"'),
    ("2023年", '"2023 年"*'),
    ("××", '""'),
])
def test_query_rewriting(query, expected):
    assert search_index.fts_query(query) == expected


def test_index_and_query_agree_on_every_cjk_class():
    for sample in ("二〇三五年", "㐀㐁㐂", "𠀀𠀁𠀂", "々木々"):
        assert search_index.index_tokens(sample)[0] == sample[:2]



_INDEX_ALPHABET = "文明城市创建〇々㐀𠀀𠀁𝐀ab_9２Ｘ，。 \n\t\ue000\u0301-·😀"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(_INDEX_ALPHABET) | st.characters(), max_size=50))
def test_index_text_writes_exactly_the_index_tokens(text):
    # index_text is built with array operations for speed; the tokens it writes must be
    # index_tokens' (the query side and contentless deletes rely on them), in order.
    assert search_index.index_text(text).split() == search_index.index_tokens(text)


def test_ranked_search_counts_up_to_ten_thousand_and_says_more_beyond(tmp_path):
    # An exact total of a word nearly every text holds reads every hit's doclist entry (a
    # fifth of a second at a million texts): the canned query stops counting past 10,000.
    path = tmp_path / "archive.db"
    with Archive(path) as archive:
        for start in range(0, 10_002, 2_000):
            archive.save_texts([
                text(f"http://x/{i}.html", f"会议第{i}号纪要：同志们要抓好落实。" + ("另附专项清单。" if i < 10 else ""),
                     title=f"会议纪要{i}")
                for i in range(start, min(start + 2_000, 10_002))
            ])
    datasette = datasette_instance(path)
    for query, total in (("落实", "more than 10,000"), ("专项清单", 10), ("没有的词", None)):
        response = get(datasette, "/archive/search.json", params={"q": query, "_shape": "objects"})
        assert response.status_code == 200, response.text[:300]
        rows = response.json()["rows"]
        assert (rows[0]["total"] if rows else None) == total, query
