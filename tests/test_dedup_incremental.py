"""The duplicate refresh from the changed texts only (issue 20, item 3).

The archive files every signature under its LSH band keys (``dedup_bands``) and lists the
texts new or changed since the last refresh (``dedup_pending``); the refresh at a crawl's
end looks up only those texts' candidates (``dedup.update_clusters``).  Its clusters must be
the ones a full refresh (``dedup.cluster_texts`` over every text) gives: same members, same
canonical text, same ``duplicate_clusters`` rows, after texts are added in several crawls and
after texts change (leaving a cluster, splitting one, joining one, taking an exact key over),
and after a change moves another text into or out of a band key's first texts (``dedup.BAND_CAP``).
"""

from __future__ import annotations

import itertools
import json
import random
import sqlite3

import pytest
from click.testing import CliRunner

from archive import dedup
from archive.database import Archive, TextToArchive
from archive.dedup import TextForDedup, band_keys, cluster_texts, signature
from records.texts import ExtractedText
from replica.copies import copy_text
from replica.corpus import generate_texts
from tests.test_dedup import planted_corpus


def _item(url: str, text: str, first_seen: str = "2024-01-01T00:00:00", truncated: bool = False,
          site: str = "s") -> TextToArchive:
    record = ExtractedText(url=url, title="标题", published=None, text=text, truncated=truncated, genre="讲话稿")
    return TextToArchive(site, None, first_seen, record, first_seen=first_seen)


def _full_result(archive: Archive) -> tuple[dict[int, int], set[tuple]]:
    """What a full refresh gives over the archive's texts as they stand: cluster per text, duplicate_clusters rows."""
    rows = archive.db.execute("select id, text, first_seen, truncated, site from texts").fetchall()
    texts = [TextForDedup(text_id, text, first_seen, bool(truncated), site) for text_id, text, first_seen, truncated, site in rows]
    clusters = cluster_texts(texts)
    members: dict[int, list[TextForDedup]] = {}
    for text in texts:
        members.setdefault(clusters.cluster_of[text.id], []).append(text)
    listed = {
        (cluster, clusters.canonical_of[cluster], len(group), json.dumps(sorted({t.site for t in group}), ensure_ascii=False))
        for cluster, group in members.items() if len(group) > 1
    }
    return clusters.cluster_of, listed


def _stored_result(archive: Archive) -> tuple[dict[int, int], set[tuple]]:
    return (
        dict(archive.db.execute("select id, cluster_id from texts")),
        set(archive.db.execute("select cluster_id, canonical_text_id, size, sites from duplicate_clusters")),
    )


@pytest.fixture
def refreshes(monkeypatch):
    """Records which kind of refresh each ``refresh_duplicates`` call made."""
    kinds: list[str] = []
    for name, kind in (("_refresh_all", "full"), ("_refresh_changed", "incremental")):
        original = getattr(Archive, name)

        def spy(self, *args, _original=original, _kind=kind, **kwargs):
            kinds.append(_kind)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Archive, name, spy)
    return kinds


def test_texts_added_in_several_crawls_cluster_as_a_full_refresh_would(tmp_path, refreshes):
    planted = planted_corpus(300, 60, seed=11)
    order = random.Random(3).sample(planted.texts, len(planted.texts))
    crawls = [order[:200], order[200:250], order[250:300], order[300:]]
    with Archive(tmp_path / "archive.db") as archive:
        for crawl in crawls:
            archive.save_texts([_item(f"http://127.0.0.1/{t.id}.html", t.text, t.first_seen, t.truncated, t.site) for t in crawl])
            clusters = archive.refresh_duplicates()
            expected = _full_result(archive)
            assert _stored_result(archive) == expected
            assert clusters == len(expected[1])
        assert refreshes == ["full", "incremental", "incremental", "incremental"]
        assert len(expected[1]) >= 50  # planted copies were found: the comparison is not about singletons
        assert archive.db.execute("select count(*) from dedup_pending").fetchone()[0] == 0


def test_texts_that_change_leave_split_join_and_take_over_clusters_as_a_full_refresh_would(tmp_path, refreshes):
    speeches = generate_texts(20, seed=21)
    paragraphs = list(speeches[0].paragraphs)
    full = "\n".join(paragraphs)
    preview = "\n".join(paragraphs[: len(paragraphs) // 2])
    reopened = "\n".join(list(speeches[4].paragraphs[:2]) + paragraphs[2:])  # the full text with another opening
    other = "\n".join(speeches[1].paragraphs)
    retypeset_other = "\n".join("\u3000\u3000" + p.replace("，", ",") for p in speeches[1].paragraphs)
    # The full text bridges its preview and its reopened copy, which are not alike themselves.
    apart = cluster_texts([TextForDedup(1, preview, "2024", True, "s"), TextForDedup(2, reopened, "2024", False, "s")])
    assert apart.cluster_of == {1: 1, 2: 2}

    url = "http://127.0.0.1/{}.html".format
    texts = {
        url("unrelated"): "\n".join(speeches[2].paragraphs),  # id 1: later becomes an exact copy of `other`
        url("preview"): preview,
        url("full"): full,
        url("reopened"): reopened,
        url("other"): other,
        url("other-copy"): "\n".join(copy_text(speeches[1], "inserted_paragraph", speeches[3].paragraphs, random.Random(1)).paragraphs),
        url("third"): "\n".join(speeches[3].paragraphs),
        # Texts no change reaches: the archive is larger than the changes (or they would make a refresh full).
        **{url(f"filler{n}"): "\n".join(speeches[n].paragraphs) for n in range(8, 20)},
    }
    steps = [
        {},  # the first crawl
        # The bridge changes into an unrelated text: its cluster splits in three.
        {url("full"): "\n".join(speeches[5].paragraphs)},
        # ... and back: the three join again; an unrelated text becomes a copy of another.
        {url("full"): full, url("third"): "\n".join(copy_text(speeches[1], "retitled", (), random.Random(2)).paragraphs)},
        # The first text becomes an exact copy of `other`, with a smaller id: it takes the exact key over.
        {url("unrelated"): retypeset_other},
        # The canonical copy (oldest, then longest) becomes a truncated preview: another member becomes canonical.
        {url("other-copy"): "\n".join(speeches[1].paragraphs[:8])},
        # Several changes in one crawl, and a new text that copies one that changed in it.
        {url("preview"): "\n".join(speeches[6].paragraphs), url("reopened"): full, url("late-copy"): retypeset_other},
    ]
    truncated = {url("preview")}
    with Archive(tmp_path / "archive.db") as archive:
        for number, step in enumerate(steps):
            texts.update(step)
            if number == 4:
                truncated.add(url("other-copy"))
            archive.save_texts([
                _item(address, text, f"2024-01-0{1 + i % 5}T00:00:00", address in truncated, f"site{i % 3}")
                for i, (address, text) in enumerate(texts.items()) if not number or address in step
            ])
            archive.refresh_duplicates()
            assert _stored_result(archive) == _full_result(archive), f"after step {number}"
            ids = dict(archive.db.execute("select url, id from texts"))
            cluster_of = _stored_result(archive)[0]
            canonical_of = dict(archive.db.execute("select cluster_id, canonical_text_id from duplicate_clusters"))
            if number == 1:  # the scenario does what it says
                assert len({cluster_of[ids[url(name)]] for name in ("preview", "full", "reopened")}) == 3
            if number in (3, 4):
                cluster = ids[url("unrelated")]  # the smallest id of the cluster it took over
                assert cluster_of[ids[url("other")]] == cluster_of[ids[url("other-copy")]] == cluster
                assert (canonical_of[cluster] == ids[url("other-copy")]) == (number == 3)
    assert refreshes == ["full"] + ["incremental"] * (len(steps) - 1)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_crawls_of_new_and_changed_texts_cluster_as_a_full_refresh_would(tmp_path, refreshes, seed):
    # Texts are drawn from a small pool rich in copies, so that changes keep moving texts between clusters.
    planted = planted_corpus(60, 30, seed=seed)
    pool = [(t.text, t.truncated) for t in planted.texts]
    rng = random.Random(f"incremental:{seed}")
    urls: list[str] = []
    with Archive(tmp_path / "archive.db") as archive:
        for crawl in range(8):
            batch = []
            for _ in range(100 if crawl == 0 else rng.randint(3, 12)):
                if urls and rng.random() < 0.4:
                    address = rng.choice(urls)  # a text that changes
                else:
                    address = f"http://127.0.0.1/{len(urls)}.html"
                    urls.append(address)
                text, truncated = rng.choice(pool)
                batch.append(_item(address, text, f"2024-0{1 + rng.randrange(9)}-01T00:00:00", truncated, f"site{rng.randrange(4)}"))
            archive.save_texts(batch)
            archive.refresh_duplicates()
            assert _stored_result(archive) == _full_result(archive), f"after crawl {crawl}"
    assert refreshes == ["full"] + ["incremental"] * 7


def test_a_refresh_looks_up_only_the_new_texts_and_their_candidates(tmp_path, monkeypatch):
    from archive import database as archive_module

    planted = planted_corpus(300, 60, seed=5)
    originals, copies = planted.texts[:300], planted.texts[300:310]
    asked: list[int] = []
    original = archive_module._ArchiveDuplicateIndex.signatures

    def signatures(self, ids):
        asked.extend(ids)
        return original(self, ids)

    monkeypatch.setattr(archive_module._ArchiveDuplicateIndex, "signatures", signatures)
    with Archive(tmp_path / "archive.db") as archive:
        archive.save_texts([_item(f"http://127.0.0.1/{t.id}.html", t.text, t.first_seen, t.truncated) for t in originals])
        archive.refresh_duplicates()
        archive.save_texts([_item(f"http://127.0.0.1/{t.id}.html", t.text, t.first_seen, t.truncated) for t in copies])
        archive.refresh_duplicates()
        assert _stored_result(archive) == _full_result(archive)
    # The new texts (but verbatim copies, which join their source by the exact key), their
    # sources and a few candidates; not the 300 others.
    assert len(set(range(301, 311)) & set(asked)) >= 8
    assert len(set(asked)) < 60, len(set(asked))


def test_a_new_text_reads_only_the_first_texts_of_each_band_key(tmp_path, monkeypatch):
    # Twenty versions of one speech share most band keys; a new version needs only each key's
    # first BAND_CAP texts (the admitted ones), however many the key holds.
    from archive import database as archive_module

    base = generate_texts(1, seed=11)[0]
    versions = [f"{chr(0x4e00 + n)}{chr(0x4e50 + n)}同志们，第{n}次会议开始。\n" + "\n".join(base.paragraphs) for n in range(21)]
    read: dict[str, list] = {"first": [], "whole": []}
    first, whole = archive_module._ArchiveDuplicateIndex.first_filed_under, archive_module._ArchiveDuplicateIndex.filed_under

    def first_filed_under(self, keys, excluding, count):
        filed = first(self, keys, excluding, count)
        read["first"].append(max(map(len, filed.values()), default=0))
        return filed

    def filed_under(self, keys, excluding=()):
        read["whole"].append(len(keys))
        return whole(self, keys, excluding)

    with Archive(tmp_path / "archive.db") as archive:
        archive.save_texts([_item(f"http://127.0.0.1/{n}.html", text) for n, text in enumerate(versions[:20])])
        archive.refresh_duplicates(full=True)
        busiest = archive.db.execute("select count(*) from dedup_bands group by band_key order by 1 desc limit 1").fetchone()[0]
        assert busiest > dedup.BAND_CAP * 3
        monkeypatch.setattr(archive_module._ArchiveDuplicateIndex, "first_filed_under", first_filed_under)
        monkeypatch.setattr(archive_module._ArchiveDuplicateIndex, "filed_under", filed_under)
        archive.save_texts([_item("http://127.0.0.1/20.html", versions[20])])
        archive.refresh_duplicates()
        assert _stored_result(archive) == _full_result(archive)
        assert len({cluster for (cluster,) in archive.db.execute("select cluster_id from texts")}) == 1
    assert read["first"] and max(read["first"]) <= dedup.BAND_CAP
    assert read["whole"] == []


def test_band_keys_file_every_pair_the_full_banding_proposes(tmp_path):
    planted = planted_corpus(200, 40, seed=6)
    sketches = {t.id: dedup._decode(signature(t.text))[1] for t in planted.texts}
    keys = {t.id: set(band_keys(signature(t.text))) for t in planted.texts}
    proposed = set().union(*(dedup._band_pairs(sketches, part, dedup.LSH_BANDS, dedup.NUM_PERM) for part in ("whole", "head")))
    sharing = {(a, b) for a, b in itertools.combinations(sorted(keys), 2) if keys[a] & keys[b]}
    assert proposed and proposed <= sharing
    # A key shared by chance (32 bits of a band's rows) is told apart by the rows themselves
    # (a threshold of 0 lets every banded pair through the screen).
    assert {(a, b) for a, b, _ in dedup._screened_pairs(sorted(sharing), sketches, 0.0)} == proposed
    assert all(len(k) == 2 * dedup.LSH_BANDS[0] for k in keys.values())
    assert band_keys(signature("会议到此结束。")) == []  # too short to be proposed: not filed
    assert band_keys(signature(planted.texts[0].text, shingle=5)) == []  # made with other parameters


def _band_rows(path) -> list[tuple[int, int]]:
    connection = sqlite3.connect(path)
    rows = connection.execute("select band_key, text_id from dedup_bands order by band_key, text_id").fetchall()
    connection.close()
    return rows


def test_band_keys_follow_each_text_that_changes(tmp_path):
    speeches = ["\n".join(s.paragraphs) for s in generate_texts(3, seed=8)]
    path = tmp_path / "archive.db"
    with Archive(path) as archive:
        archive.save_texts([_item("http://127.0.0.1/a.html", speeches[0]), _item("http://127.0.0.1/b.html", speeches[1])])
        archive.save_texts([_item("http://127.0.0.1/a.html", speeches[2])])
    expected = sorted((key, text_id) for text_id, text in ((1, speeches[2]), (2, speeches[1])) for key in band_keys(signature(text)))
    assert _band_rows(path) == expected


def _saved_and_refreshed(path, texts) -> None:
    with Archive(path) as archive:
        archive.save_texts([_item(f"http://127.0.0.1/{t.id}.html", t.text, t.first_seen, t.truncated) for t in texts])
        archive.refresh_duplicates()


def _as_before(path, migration: str, undo: str) -> None:
    """The archive at ``path`` as it was before ``migration``: ``undo`` run on it, the migration unrecorded."""
    connection = sqlite3.connect(path)
    connection.executescript(f"{undo}; delete from _sqlite_migrations where name = '{migration}';")
    connection.commit()
    connection.close()


def test_an_upgraded_archive_gets_its_band_keys_and_one_full_refresh(tmp_path, refreshes):
    planted = planted_corpus(80, 20, seed=7)
    path = tmp_path / "archive.db"
    _saved_and_refreshed(path, planted.texts[:90])
    filed = _band_rows(path)
    # The archive as m007 left it: no band index, no pending list, clusters of an older refresh.
    _as_before(path, "m008_duplicate_band_index", "drop table dedup_bands; drop table dedup_pending; drop table dedup_state")
    with Archive(path) as archive:
        assert _band_rows(path) == filed
        archive.save_texts([_item(f"http://127.0.0.1/{t.id}.html", t.text, t.first_seen, t.truncated) for t in planted.texts[90:95]])
        archive.refresh_duplicates()  # texts saved before the upgrade were never pending: all are clustered again
        assert _stored_result(archive) == _full_result(archive)
        archive.save_texts([_item(f"http://127.0.0.1/{t.id}.html", t.text, t.first_seen, t.truncated) for t in planted.texts[95:]])
        archive.refresh_duplicates()
        assert _stored_result(archive) == _full_result(archive)
    assert refreshes == ["full", "full", "incremental"]


def test_changed_parameters_or_a_large_change_make_the_refresh_full(tmp_path, refreshes, monkeypatch):
    speeches = ["\n".join(s.paragraphs) for s in generate_texts(6, seed=9)]
    with Archive(tmp_path / "archive.db") as archive:
        archive.save_texts([_item(f"http://127.0.0.1/{n}.html", text) for n, text in enumerate(speeches[:4])])
        archive.refresh_duplicates()
        archive.save_texts([_item("http://127.0.0.1/4.html", speeches[4])])
        archive.refresh_duplicates()
        archive.save_texts([_item("http://127.0.0.1/5.html", speeches[5])])
        archive.refresh_duplicates(full=True)
        # Much of the archive new or changed (FULL_REFRESH_SHARE): one pass over every text.
        archive.save_texts([_item(f"http://127.0.0.1/{n}.html", text + "\n补充一段。") for n, text in enumerate(speeches[:4])])
        archive.refresh_duplicates()
        with monkeypatch.context() as patched:
            patched.setattr(dedup, "clustering_scheme", lambda: "other parameters")
            archive.save_texts([_item("http://127.0.0.1/6.html", speeches[0])])
            archive.refresh_duplicates()
        assert _stored_result(archive) == _full_result(archive)
    assert refreshes == ["full", "incremental", "full", "full", "full"]


def test_fanwen_dedup_refreshes_and_full_reclusters_every_text(tmp_path, refreshes):
    from fanwen.cli import main

    speech = "\n".join(generate_texts(1, seed=10)[0].paragraphs)
    path = tmp_path / "archive.db"
    with Archive(path) as archive:
        archive.save_texts([_item("http://127.0.0.1/a.html", speech), _item("http://127.0.0.1/b.html", speech)])
    runner = CliRunner()
    result = runner.invoke(main, ["dedup", "--archive", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "duplicate clusters: 1"
    result = runner.invoke(main, ["dedup", "--archive", str(path), "--full"])
    assert result.exit_code == 0, result.output
    assert refreshes == ["full", "full"]
    assert runner.invoke(main, ["dedup", "--archive", str(tmp_path / "missing.db")]).exit_code != 0


def test_a_crawl_clusters_the_texts_a_killed_crawl_left_unclustered(tmp_path):
    # The killed crawl saved its texts but never reached its refresh; the next crawl's writer
    # refreshes at its end even when it saved nothing new itself.
    from archive.writer import ArchiveWriter

    speech = "\n".join(generate_texts(1, seed=12)[0].paragraphs)
    path = tmp_path / "archive.db"
    with Archive(path) as archive:
        archive.save_texts([_item("http://127.0.0.1/a.html", speech), _item("http://127.0.0.1/b.html", speech)])
    assert ArchiveWriter(path).close() == 1
    assert ArchiveWriter(path).close() is None  # nothing left to cluster
    with Archive(path) as archive:
        assert _stored_result(archive) == _full_result(archive)


def test_a_text_moved_into_or_out_of_a_band_keys_first_texts_is_refreshed_as_a_full_refresh_would(tmp_path, refreshes):
    # A band key admits its first BAND_CAP texts (dedup.BAND_CAP).  When a changed text leaves a
    # key, the next text moves into the first ones and meets texts it did not meet before; when it
    # comes back ahead of them, that text moves out again.  Its content never changed: the archive
    # lists it as pending (migration m010's triggers), and the refresh remakes its cluster.
    from tests.test_dedup import opening_shared_by

    cap = dedup.BAND_CAP
    opening, speeches = opening_shared_by(cap + 3, seed=34)
    moved = cap + 1  # the first text of the shared opening that the head band keys do not admit
    paragraphs = speeches[cap].split("\n")
    # A short preview of that text: it starts alike, but its whole sketch is far from the full text's.
    preview = "\n".join(paragraphs[: opening.count("\n") + 3])
    assert len(preview) < 0.35 * len(speeches[cap])
    url = "http://127.0.0.1/{}.html".format
    others = ["\n".join(s.paragraphs) for s in generate_texts(14, seed=35)]
    with Archive(tmp_path / "archive.db") as archive:
        archive.save_texts(
            [_item(url(i), speech) for i, speech in enumerate(speeches, start=1)]
            + [_item(url("preview"), preview, truncated=True)]
            + [_item(url(f"other{n}"), text) for n, text in enumerate(others[1:])]
        )
        preview_id = archive.db.execute("select id from texts where url = ?", [url("preview")]).fetchone()[0]

        def together() -> bool:
            cluster_of = _stored_result(archive)[0]
            return cluster_of[preview_id] == cluster_of[moved]

        archive.refresh_duplicates()
        assert not together()  # neither is admitted to the keys they share: never compared
        for text, joins in ((others[0], True), (speeches[0], False)):
            archive.save_texts([_item(url(1), text)])  # the first text leaves the shared opening, then comes back
            pending = {text_id for (text_id,) in archive.db.execute("select text_id from dedup_pending")}
            assert pending == {1, moved}
            archive.refresh_duplicates()
            assert _stored_result(archive) == _full_result(archive)
            assert together() == joins
    assert refreshes == ["full", "incremental", "incremental"]


def test_new_texts_move_no_other_text_in_or_out_of_a_band_keys_first_texts(tmp_path):
    from tests.test_dedup import opening_shared_by

    _, speeches = opening_shared_by(dedup.BAND_CAP + 3, seed=36)
    with Archive(tmp_path / "archive.db") as archive:
        for n, speech in enumerate(speeches):
            archive.save_texts([_item(f"http://127.0.0.1/{n}.html", speech)])
        assert [text_id for (text_id,) in archive.db.execute("select text_id from dedup_pending")] == list(range(1, len(speeches) + 1))


def test_the_archives_triggers_hold_the_band_cap(tmp_path):
    # Migration m010 wrote the cap into the triggers once: a new cap needs a migration of its own.
    with Archive(tmp_path / "archive.db") as archive:
        sql = dict(archive.db.execute("select name, sql from sqlite_master where type = 'trigger'"))
    assert f"offset {dedup.BAND_CAP - 1}" in sql["dedup_bands_admission_on_delete"]
    assert f"offset {dedup.BAND_CAP}" in sql["dedup_bands_admission_on_insert"]


def test_a_candidates_signature_is_checked_against_its_text_without_reading_the_texts_row(tmp_path):
    # The check reads texts.content_hash, which comes after the text in the row: read from the
    # row, it meant following the text's overflow pages for every candidate (issue 20).
    from archive import database as archive_module

    with Archive(tmp_path / "archive.db") as archive:
        query = archive_module._ArchiveDuplicateIndex.SIGNATURES.format(marks="?, ?")
        plan = " | ".join(row[3] for row in archive.db.execute(f"explain query plan {query}", [1, 2]))
    assert f"SEARCH t USING COVERING INDEX {archive_module.ID_CONTENT_HASH_INDEX}" in plan, plan


def test_an_archive_from_before_the_content_hash_index_gets_it_and_its_refresh_still_matches(tmp_path, refreshes):
    from archive import database as archive_module

    planted = planted_corpus(60, 15, seed=8)
    path = tmp_path / "archive.db"
    _saved_and_refreshed(path, planted.texts[:70])
    _as_before(path, "m013_content_hash_readable_without_the_text", f"drop index {archive_module.ID_CONTENT_HASH_INDEX}")
    with Archive(path) as archive:
        assert archive_module.ID_CONTENT_HASH_INDEX in {index.name for index in archive.db["texts"].indexes}
        archive.save_texts([_item(f"http://127.0.0.1/{t.id}.html", t.text, t.first_seen, t.truncated) for t in planted.texts[70:]])
        archive.refresh_duplicates()
        assert _stored_result(archive) == _full_result(archive)
    assert refreshes == ["full", "incremental"]
