"""Ranked search collapses duplicate clusters to one row; the texts table keeps every copy; canned queries hide their SQL."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import urllib.parse

import lxml.html
import pytest
import yaml

from archive import search_index
from archive.database import Archive, TextToArchive
from fanwen.serve import config_dir, datasette_instance
from records.texts import ExtractedText
from replica.corpus import generate_texts

CJK_RUN = re.compile(r"[\u4e00-\u9fff]{6,}")


@pytest.fixture(scope="module")
def datasette(demo_archive):
    return datasette_instance(demo_archive)


@pytest.fixture(scope="module")
def clusters(demo_archive) -> dict[int, dict]:
    """Each stored cluster of two or more texts: canonical id, members {id: site}, member texts."""
    connection = sqlite3.connect(demo_archive)
    found = {}
    for cluster_id, canonical in connection.execute("select cluster_id, canonical_text_id from duplicate_clusters"):
        members = connection.execute("select id, site, title || char(10) || text from texts where cluster_id = ?",
                                     [cluster_id]).fetchall()
        found[cluster_id] = {"canonical": canonical, "sites": {i: site for i, site, _ in members},
                             "texts": {i: text for i, _, text in members}}
    connection.close()
    assert len(found) >= 10, "the demo crawl archives copies across sites"
    return found


def get(datasette, path: str, params: dict | None = None):
    response = asyncio.run(datasette.client.get(path, params=params))
    assert response.status_code == 200, response.text[:300]
    return response


def ranked(datasette, query: str) -> list[dict]:
    return get(datasette, "/archive/search.json", {"q": query, "_shape": "objects"}).json()["rows"]


def copies_label(others: dict[int, str]) -> str:
    sites = sorted(set(others.values()))
    noun = "copy" if len(others) == 1 else "copies"
    return f"{len(others)} {noun} on {'sites' if len(sites) > 1 else 'site'} {', '.join(sites)}"


def test_a_cluster_matching_the_words_is_one_row_its_canonical_text(datasette, clusters):
    checked = 0
    for cluster_id, cluster in clusters.items():
        canonical_text = cluster["texts"][cluster["canonical"]]
        # Words in every copy: a run of the canonical text that each member also contains.
        words = next((run[:8] for run in CJK_RUN.findall(canonical_text)
                      if all(run[:8] in text for text in cluster["texts"].values())), None)
        if words is None:
            continue
        rows = ranked(datasette, words)
        mine = [row for row in rows if row["cluster_id"] == cluster_id]
        if not mine and len(rows) == 20:
            continue  # ranked below the first 20 clusters
        assert len(mine) == 1, (words, rows)
        assert mine[0]["id"] == cluster["canonical"]
        others = {i: site for i, site in cluster["sites"].items() if i != cluster["canonical"]}
        assert mine[0]["copies"] == copies_label(others)
        assert len({row["cluster_id"] for row in rows}) == len(rows)  # no cluster twice
        checked += 1
    assert checked >= 10


def test_the_texts_table_keeps_every_copy(datasette, clusters):
    cluster_id, cluster = next(iter(clusters.items()))
    words = next(run[:8] for run in CJK_RUN.findall(cluster["texts"][cluster["canonical"]])
                 if all(run[:8] in text for text in cluster["texts"].values()))
    table = get(datasette, "/archive/texts.json", {"_search": words, "_shape": "objects", "_size": "max"}).json()
    assert set(cluster["texts"]) <= {row["id"] for row in table["rows"]}
    assert sum(row["cluster_id"] == cluster_id for row in ranked(datasette, words)) == 1


def test_copies_cell_links_to_the_other_texts(datasette, clusters):
    cluster_id, cluster = next((c, v) for c, v in clusters.items() if len(v["texts"]) >= 2)
    title = cluster["texts"][cluster["canonical"]].split("\n", 1)[0]
    doc = lxml.html.fromstring(get(datasette, "/archive/search", {"q": title}).text)
    links = doc.xpath(f"//tr[td[contains(@class, 'col-cluster_id')][normalize-space(.)='{cluster_id}']]"
                      f"/td[contains(@class, 'col-copies')]/a")
    assert len(links) == 1
    others = {i: site for i, site in cluster["sites"].items() if i != cluster["canonical"]}
    assert links[0].text_content() == copies_label(others)
    href = urllib.parse.urlsplit(links[0].get("href"))
    listed = get(datasette, f"{href.path}.json", {**dict(urllib.parse.parse_qsl(href.query)), "_shape": "objects"}).json()
    assert {row["id"] for row in listed["rows"]} == set(others)


def test_a_copy_stands_for_its_cluster_when_the_canonical_lacks_the_words(datasette, clusters):
    # A copy with a paragraph of its own (the replica inserts one): searching for it must not show
    # the canonical text, which does not contain the words.
    for cluster_id, cluster in clusters.items():
        canonical_text = cluster["texts"][cluster["canonical"]]
        for text_id, text in cluster["texts"].items():
            words = next((run[:8] for run in CJK_RUN.findall(text) if run[:8] not in canonical_text), None)
            if text_id == cluster["canonical"] or words is None:
                continue
            rows = ranked(datasette, words)
            mine = [row for row in rows if row["cluster_id"] == cluster_id]
            if not mine and len(rows) == 20:
                continue  # common words: ranked below the first 20 clusters
            assert len(mine) == 1 and mine[0]["id"] != cluster["canonical"]
            assert words in cluster["texts"][mine[0]["id"]]
            assert mine[0]["copies"]  # the canonical is among the others it links to
            return
    pytest.skip("no copy in the demo archive has words its canonical lacks")


def test_texts_without_copies_have_no_copies_cell(datasette):
    rows = ranked(datasette, "文明")
    assert any(row["copies"] is None for row in rows)
    doc = lxml.html.fromstring(get(datasette, "/archive/search", {"q": "文明"}).text)
    assert len(doc.xpath("//td[contains(@class, 'col-copies')]/a")) == sum(1 for row in rows if row["copies"])


def normalised(sql: str) -> str:
    return " ".join(sql.split())


def test_canned_queries_hide_their_sql_behind_a_show_link(datasette):
    queries = datasette.metadata()["databases"]["archive"]["queries"]
    params = {"search": {"q": "文明"}, "texts_with_placeholder": {"placeholder": "X县"}}
    for name, query in queries.items():
        assert query.get("hide_sql") is True, name
        doc = lxml.html.fromstring(get(datasette, f"/archive/{name}", params.get(name, {})).text)
        assert not doc.xpath("//pre[@id='sql-query'] | //textarea[@id='sql-editor']"), name
        show = doc.xpath("//span[@class='show-hide-sql']/a")
        assert [a.text_content() for a in show] == ["show"], name
        shown = lxml.html.fromstring(get(datasette, show[0].get("href")).text)
        assert normalised(shown.xpath("string(//pre[@id='sql-query'])")) == normalised(query["sql"]), name


# -- which hits the ranked search looks up ------------------------------------------------------

SEARCH_SQL = yaml.safe_load((config_dir() / "metadata.yml").read_text(encoding="utf-8"))[
    "databases"]["archive"]["queries"]["search"]["sql"]
# A paragraph the crowded texts repeat: they rank best for its words.
CROWDING = "扎实推进乡村振兴示范带建设。" * 6


def archived(path, texts: list[tuple[str, str, str]]) -> None:
    """(url, title, text) rows archived, then duplicate clusters refreshed."""
    with Archive(path) as archive:
        archive.save_texts([
            TextToArchive("huabo" if i % 2 else "deyu", "讲话", "2026-01-01T00:00:00+00:00",
                          ExtractedText(url=url, title=title, published="2025-01-02", text=body, truncated=False,
                                        genre="讲话稿"))
            for i, (url, title, body) in enumerate(texts)
        ])
        archive.refresh_duplicates(full=True)


def search_connection(path) -> sqlite3.Connection:
    connection = sqlite3.connect(path)
    for name, arguments, function in (("cjk_fts_query", 1, search_index.fts_query),
                                      ("cjk_snippet", 2, search_index.snippet)):
        connection.create_function(name, arguments, function, deterministic=True)
    return connection


def expected_rows(connection: sqlite3.Connection, query: str) -> list[tuple[int, int, float]]:
    """(id, cluster_id, score) of the ranked search, from every hit (the archive is under 2,000 texts)."""
    cluster_of = dict(connection.execute("select id, cluster_id from texts"))
    hits = {row_id: rank for row_id, rank in connection.execute(
        "select rowid, rank from texts_fts where texts_fts match cjk_fts_query(?)", [query]) if row_id in cluster_of}
    canonical_of = dict(connection.execute("select cluster_id, canonical_text_id from duplicate_clusters"))
    best: dict[int, tuple[float, int]] = {}
    for row_id, rank in hits.items():
        best[cluster_of[row_id]] = min(best.get(cluster_of[row_id], (rank, row_id)), (rank, row_id))
    shown = sorted(best, key=lambda cluster: (best[cluster][0], cluster))[:20]
    rows = []
    for cluster in shown:
        canonical = canonical_of.get(cluster)
        row_id = canonical if canonical in hits and cluster_of[canonical] == cluster else best[cluster][1]
        rows.append((row_id, cluster, round(-best[cluster][0], 3)))
    return rows


@pytest.fixture(scope="module")
def crowded(tmp_path_factory):
    """40 speeches that rank best for 乡村振兴, each archived seven times (one cluster of seven), among 300 others."""
    path = tmp_path_factory.mktemp("crowded") / "archive.db"
    texts = []
    for number, sample in enumerate(generate_texts(340, seed=11, prefix="crowd")):
        body = "\n".join(sample.paragraphs)
        if number < 40:
            body = f"{body}\n{CROWDING}"
            texts += [(f"http://x/{number}-{copy}.html", sample.title, body) for copy in range(7)]
        else:
            texts.append((f"http://x/{number}.html", sample.title, body))
    archived(path, texts)
    return path


def test_ranked_search_widens_when_copies_crowd_its_best_hits(crowded):
    connection = search_connection(crowded)
    assert connection.execute("select count(*) from duplicate_clusters where size = 7").fetchone()[0] == 40
    for query in ("乡村振兴", "示范带", "振兴 示范", "发展", "同志"):
        found = [(row[0], row[8], row[6]) for row in connection.execute(SEARCH_SQL, {"q": query})]
        assert found == expected_rows(connection, query), query
    # The best 100 hits of 示范带 are copies of fewer than 20 speeches: the query looked further.
    best_clusters = connection.execute(
        "select count(distinct t.cluster_id) from (select rowid from texts_fts where texts_fts match "
        "cjk_fts_query('示范带') order by rank, rowid limit 100) b join texts t on t.id = b.rowid").fetchone()[0]
    assert best_clusters < 20 and len(expected_rows(connection, "示范带")) == 20
    # An index row without a text (none should exist) among the best hits: the best 100 hits with
    # a text are then 99, and still not every hit.
    connection.execute("insert into texts_fts (rowid, title, text) values (100000, ?, '')",
                       [search_index.index_text("示范带" * 50)])
    found = [(row[0], row[8], row[6]) for row in connection.execute(SEARCH_SQL, {"q": "示范带"})]
    assert found == expected_rows(connection, "示范带") and len(found) == 20
    connection.rollback()


def test_ranked_search_looks_up_the_clusters_of_its_best_hits_only(tmp_path):
    # A hit's cluster_id is read from its texts row, after the text (overflow pages): with as many
    # clusters as hits, the first 20 clusters are among the best 100 hits, and only those are read.
    # Every read of a texts row is counted through a temporary view that shadows the table.
    path = tmp_path / "archive.db"
    archived(path, [(f"http://x/{i}.html", sample.title, "\n".join(sample.paragraphs))
                    for i, sample in enumerate(generate_texts(600, seed=12, prefix="spread"))])
    connection = search_connection(path)
    query = "发展"
    expected = expected_rows(connection, query)
    assert connection.execute("select count(*) from texts_fts where texts_fts match cjk_fts_query(?)",
                              [query]).fetchone()[0] >= 500
    reads = []
    connection.create_function("counted", 1, lambda row_id: reads.append(row_id) or 1)
    connection.execute("create temp view texts as select * from main.texts where counted(id)")
    found = [(row[0], row[8], row[6]) for row in connection.execute(SEARCH_SQL, {"q": query})]
    assert found == expected
    assert len(reads) <= 200, len(reads)  # every hit (500 or more) before
