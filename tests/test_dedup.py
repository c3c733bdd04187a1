"""Tests for duplicate detection (archive/dedup.py).

The quality test plants copies of generated speeches with the edits copying sites make
(verbatim, retitled, swapped placeholders, an inserted paragraph, a truncated preview,
re-punctuated) among unrelated texts that share the corpus' phrase bank, and pins
precision and recall over the planted pairs.
"""

from __future__ import annotations

import datetime
import itertools
import random
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.dedup import (
    TextForDedup,
    cluster_texts,
    exact_key,
    normalised_for_hash,
    normalised_for_shingles,
    signature,
    signature_is_current,
    signature_params,
    similarity,
)
from replica.corpus import PLACEHOLDER_PATTERN, generate_texts

REPO = Path(__file__).resolve().parents[1]

# -- the planted corpus ----------------------------------------------------------------------

EDITS = ("verbatim", "retitled", "placeholders", "inserted", "truncated", "repunctuated", "preview_repunctuated")

_PLACEHOLDER_SWAPS = (
    (re.compile(r"X县"), "某县"), (re.compile(r"XX"), "××"), (re.compile(r"××"), "XX"),
    (re.compile(r"202x年"), "20xx年"), (re.compile(r"20__年"), "202x年"), (re.compile(r"某"), "X"),
    (re.compile(r"____"), "XX"), (re.compile(r"xx"), "XX"),
)
_TO_ASCII = str.maketrans({"，": ",", "：": ":", "；": ";", "（": "(", "）": ")", "！": "!"})
_TO_FULL_WIDTH = str.maketrans({",": "，", ":": "：", ";": "；", "(": "（", ")": "）", "!": "！"})
_SECTION_HEADING = re.compile(r"^[一二三四五六七八九十]、")


@dataclass(frozen=True)
class PlantedCorpus:
    texts: list[TextForDedup]
    groups: list[set[int]]  # each source text with its planted copies
    edit_of: dict[int, str]  # copy id -> the edit that made it


def _swap_placeholders(paragraphs: list[str], rng: random.Random) -> list[str]:
    swaps = [swap for swap in _PLACEHOLDER_SWAPS if any(swap[0].search(p) for p in paragraphs)]
    for pattern, replacement in rng.sample(swaps, min(3, len(swaps))):
        paragraphs = [pattern.sub(replacement, p) for p in paragraphs]
    return paragraphs


def _repunctuate(paragraphs: list[str], rng: random.Random) -> list[str]:
    table = _TO_ASCII if rng.random() < 0.5 else _TO_FULL_WIDTH
    indent = rng.choice(("\u3000\u3000", "  ", "\t"))
    return [indent + p.translate(table) + rng.choice(("", " ", "\u3000")) for p in paragraphs]


def _edited_copy(
    edit: str, source: list[str], title: str, donor: list[str], rng: random.Random
) -> tuple[list[str], bool]:
    """Paragraphs of a copy of ``source`` made with ``edit``, and whether it is truncated.

    ``donor`` is another text's paragraphs: material for a reworded heading or an inserted paragraph.
    """
    paragraphs = list(source)
    if edit == "retitled":
        # A copying site puts its own title line on top and rewords a section heading.
        headings = [i for i, p in enumerate(paragraphs) if _SECTION_HEADING.match(p)]
        if headings:
            i = rng.choice(headings)
            short_lines = [p for p in donor if len(p) < 40] or ["扎实推进各项工作"]
            paragraphs[i] = paragraphs[i][:2] + rng.choice(short_lines)
        paragraphs.insert(0, rng.choice((f"{title}（精选范文）", f"{title}范文3篇", f"最新{title}")))
    elif edit == "placeholders":
        paragraphs = _swap_placeholders(paragraphs, rng)
    elif edit == "inserted":
        position = rng.randrange(1, len(paragraphs))
        paragraphs.insert(position, max(donor, key=len))
    elif edit in ("truncated", "preview_repunctuated"):
        keep = max(2, round(len(paragraphs) * rng.uniform(0.4, 0.6)))
        paragraphs = paragraphs[:keep]
        if edit == "preview_repunctuated":
            paragraphs = _repunctuate(paragraphs, rng)
        return paragraphs, True
    elif edit == "repunctuated":
        paragraphs = _repunctuate(paragraphs, rng)
    return paragraphs, False


def planted_corpus(originals: int, sources: int, *, seed: int) -> PlantedCorpus:
    """``originals`` generated texts; ``sources`` of them get one or two edited copies."""
    rng = random.Random(f"dedup-planted:{seed}")
    samples = generate_texts(originals, seed=seed)
    texts = [
        TextForDedup(i + 1, "\n".join(s.paragraphs), s.published.isoformat(), False, f"site{i % 5}")
        for i, s in enumerate(samples)
    ]
    with_placeholders = {i for i, s in enumerate(samples) if any(PLACEHOLDER_PATTERN.search(p) for p in s.paragraphs)}
    order = rng.sample(range(originals), originals)
    groups, edit_of, used = [], {}, set()
    next_id = originals + 1
    for n in range(sources):
        edits = [EDITS[n % len(EDITS)]]
        if n % 3 == 0:  # some speeches are copied twice, differently
            edits.append(rng.choice(EDITS))
        # Swapping placeholders needs a text that has some.
        index = next(i for i in order if i not in used and ("placeholders" not in edits or i in with_placeholders))
        used.add(index)
        source = samples[index]
        group = {index + 1}
        for edit in edits:
            donor = samples[rng.randrange(originals)].paragraphs
            paragraphs, truncated = _edited_copy(edit, list(source.paragraphs), source.title, list(donor), rng)
            copied = (source.published + datetime.timedelta(days=30 + next_id % 300)).isoformat()
            texts.append(TextForDedup(next_id, "\n".join(paragraphs), copied, truncated, f"copier{next_id % 7}"))
            group.add(next_id)
            edit_of[next_id] = edit
            next_id += 1
        groups.append(group)
    return PlantedCorpus(texts, groups, edit_of)


def pairs_within(groups) -> set[tuple[int, int]]:
    return {pair for group in groups for pair in itertools.combinations(sorted(group), 2)}


def precision_recall(corpus: PlantedCorpus, cluster_of: dict[int, int]) -> tuple[float, float, set, set]:
    found_groups: dict[int, set[int]] = {}
    for text_id, cluster in cluster_of.items():
        found_groups.setdefault(cluster, set()).add(text_id)
    found = pairs_within(found_groups.values())
    truth = pairs_within(corpus.groups)
    hits = found & truth
    precision = len(hits) / len(found) if found else 1.0
    return precision, len(hits) / len(truth), found - truth, truth - found


@pytest.fixture(scope="module")
def planted() -> PlantedCorpus:
    return planted_corpus(400, 80, seed=4)


# -- normalisation and the exact key ---------------------------------------------------------


def test_normalised_for_hash_drops_layout_and_punctuation_but_keeps_content():
    text = "一、加强领导，\u3000落实责任；\r\n（一）２０２３年完成ＸＸ项目: 98.5%!"
    assert normalised_for_hash(text) == "一加强领导落实责任一2023年完成XX项目985"


def test_normalised_for_hash_keeps_cjk_characters_nfkc_would_rewrite():
    # U+F900 (a CJK compatibility ideograph) and U+2F00 (Kangxi radical one) fold under
    # NFKC; content characters must stay as they are.  × is a placeholder, not punctuation.
    assert normalised_for_hash("\uf900\u2f00××同志") == "\uf900\u2f00××同志"


def test_exact_key_ignores_typesetting_differences_only():
    original = "尊敬的各位领导：\n现将我县工作情况汇报如下，请予审议。"
    retypeset = "\u3000\u3000尊敬的各位领导:  \r\n\u3000\u3000现将我县工作情况汇报如下, 请予审议."
    assert exact_key(original) == exact_key(retypeset)
    assert exact_key(original) != exact_key(original.replace("我县", "我市"))
    assert re.fullmatch(r"[0-9a-f]{64}", exact_key(original))


def test_placeholder_spellings_are_one_for_shingling_but_not_for_the_exact_key():
    template = "X县20__年工作总结：××同志带领全县完成____%的任务。"
    swapped = "某县202x年工作总结：XX同志带领全县完成XX%的任务。"
    assert normalised_for_shingles(template) == normalised_for_shingles(swapped)
    assert normalised_for_shingles(template) != normalised_for_shingles(template.replace("全县", "全市"))
    assert exact_key(template) != exact_key(swapped)


# -- signatures ------------------------------------------------------------------------------


def test_signature_is_compact_deterministic_and_self_describing(planted):
    text = planted.texts[0].text
    sig = signature(text)
    assert sig == signature(text)
    assert len(sig) == 9 + 2 * 128 * 4  # header, then whole and head MinHash, uint32 each
    assert signature_params(sig) == (12, 128, 200)
    assert signature_params(signature(text, num_perm=64, shingle=5)) == (5, 64, 200)
    assert signature_is_current(sig) and not signature_is_current(signature(text, shingle=5))
    assert similarity(sig, sig) == 1.0
    with pytest.raises(ValueError):
        similarity(sig, signature(text, shingle=5))


def test_similarity_separates_copies_from_texts_on_the_same_topic(planted):
    by_id = {text.id: text for text in planted.texts}
    copy_id = next(i for i, edit in planted.edit_of.items() if edit == "inserted")
    source_id = min(next(group for group in planted.groups if copy_id in group))
    assert similarity(signature(by_id[source_id].text), signature(by_id[copy_id].text)) >= 0.8
    originals = [text for text in planted.texts if text.id <= 400][:150]
    signatures = [signature(text.text) for text in originals]
    closest_unrelated = max(similarity(a, b) for a, b in itertools.combinations(signatures, 2))
    assert 0.1 < closest_unrelated < 0.5  # they do share stock phrases, but far less than copies


# -- clustering ------------------------------------------------------------------------------


def _text(text_id: int, text: str, first_seen: str = "2024-01-01T00:00:00", truncated: bool = False) -> TextForDedup:
    return TextForDedup(text_id, text, first_seen, truncated, f"site{text_id}")


@pytest.fixture(scope="module")
def speeches() -> list[str]:
    return ["\n".join(sample.paragraphs) for sample in generate_texts(6, seed=21)]


def test_exact_copies_cluster_and_the_oldest_complete_copy_is_canonical(speeches):
    speech = speeches[0]
    retypeset = "\n".join("\u3000\u3000" + line.replace("，", ",") for line in speech.split("\n"))
    texts = [
        _text(7, speech, "2024-03-01T00:00:00"),
        _text(3, retypeset, "2024-05-01T00:00:00"),
        _text(5, speech, "2024-02-01T00:00:00"),
        _text(9, speeches[1]),
    ]
    clusters = cluster_texts(texts)
    assert clusters.cluster_of == {3: 3, 5: 3, 7: 3, 9: 9}
    assert clusters.canonical_of == {3: 5, 9: 9}


def test_canonical_prefers_complete_then_oldest_then_longest_then_smallest_id(speeches):
    speech = speeches[2]
    paragraphs = speech.split("\n")
    preview = "\n".join(paragraphs[: len(paragraphs) // 2])
    longer = speech + "\n" + speeches[3].split("\n")[3]
    # The preview is the oldest copy, but a complete copy is the better canonical.
    clusters = cluster_texts([_text(1, preview, "2020-01-01", truncated=True), _text(2, speech, "2022-01-01")])
    assert clusters.cluster_of == {1: 1, 2: 1} and clusters.canonical_of == {1: 2}
    # Same age: the longer complete copy wins; same age and length: the smallest id.
    same_age = [_text(4, speech, "2022-01-01"), _text(6, longer, "2022-01-01")]
    assert cluster_texts(same_age).canonical_of == {4: 6}
    assert cluster_texts([_text(8, speech, "2022-01-01"), _text(6, speech, "2022-01-01")]).canonical_of == {6: 6}


def test_a_half_preview_is_a_duplicate_of_its_full_text(speeches):
    for speech in speeches:
        paragraphs = speech.split("\n")
        preview = "\n".join(paragraphs[: len(paragraphs) // 2])
        assert cluster_texts([_text(1, speech), _text(2, preview, truncated=True)]).cluster_of == {1: 1, 2: 1}


def test_unrelated_texts_stay_apart_and_short_texts_join_only_when_equal(speeches):
    clusters = cluster_texts([_text(i, speech) for i, speech in enumerate(speeches)])
    assert clusters.cluster_of == {i: i for i in range(len(speeches))}
    assert clusters.canonical_of == {i: i for i in range(len(speeches))}
    short = [
        _text(1, "同志们：会议到此结束。"),
        _text(2, "同志们:会议到此结束."),
        _text(3, "同志们：会议到此结束，散会。"),
    ]
    assert cluster_texts(short).cluster_of == {1: 1, 2: 1, 3: 3}


def test_a_text_with_a_third_of_its_paragraphs_replaced_is_another_text(speeches):
    # Texts sharing two thirds of their paragraphs (Jaccard ≈ 0.5) are different
    # speeches built from the same material, not copies.
    texts = []
    for i, speech in enumerate(speeches):
        paragraphs = speech.split("\n")
        donor = speeches[(i + 1) % len(speeches)].split("\n")
        mixed = [donor[k % len(donor)] if k % 3 == 1 else p for k, p in enumerate(paragraphs)]
        texts += [_text(2 * i + 1, speech), _text(2 * i + 2, "\n".join(mixed))]
    clusters = cluster_texts(texts)
    assert clusters.cluster_of == {text.id: text.id for text in texts}


def test_result_does_not_depend_on_input_order_or_on_stored_signatures(planted):
    texts = planted.texts[:100] + planted.texts[400:]
    expected = cluster_texts(texts)
    shuffled = random.Random(5).sample(texts, len(texts))
    assert cluster_texts(shuffled) == expected
    stored = {text.id: signature(text.text) for text in texts[::2]}  # some stored, the rest computed
    assert cluster_texts(texts, stored) == expected
    stale = {text.id: signature(text.text, shingle=5) for text in texts}  # other parameters: recomputed
    keys = {text.id: exact_key(text.text) for text in texts[1::2]}
    assert cluster_texts(texts, stale, exact_keys=keys) == expected
    assert len(set(expected.cluster_of.values())) < len(texts)  # the comparison is not about singletons only


def test_duplicate_ids_are_rejected():
    with pytest.raises(ValueError):
        cluster_texts([_text(1, "甲"), _text(1, "乙")])


# -- quality on planted copies ---------------------------------------------------------------


def test_planted_copies_are_found_with_precision_and_recall_of_at_least_95_percent(planted):
    truth = pairs_within(planted.groups)
    assert len(planted.texts) >= 400 and len(truth) >= 60
    assert set(planted.edit_of.values()) == set(EDITS)
    clusters = cluster_texts(planted.texts)
    precision, recall, false_pairs, missed_pairs = precision_recall(planted, clusters.cluster_of)
    assert precision >= 0.95, f"false pairs: {sorted(false_pairs)[:10]}"
    assert recall >= 0.95, f"missed pairs: {sorted(missed_pairs)[:10]}"
    # Every kind of edit is caught: each copy is in its source's cluster.
    source_of = {copy: min(group) for group in planted.groups for copy in group if copy in planted.edit_of}
    missed_edits = {
        planted.edit_of[copy] for copy, source in source_of.items()
        if clusters.cluster_of[copy] != clusters.cluster_of[source]
    }
    assert not missed_edits
    # Canonical texts are complete copies.
    truncated = {text.id for text in planted.texts if text.truncated}
    assert not truncated & set(clusters.canonical_of.values())


def test_signature_values_are_the_ones_datasketch_itself_computes(planted):
    # Signatures are computed in numpy for speed but stored for years: they must stay
    # datasketch's affine32 MinHash of the same shingle hashes, or old and new ones differ.
    from datasketch import MinHash

    from archive.dedup import HEAD_CHARS, NUM_PERM, SHINGLE, _shingle_hashes, normalised_for_shingles

    for text in [planted.texts[0].text, planted.texts[1].text, "短", ""]:
        hashes = _shingle_hashes(normalised_for_shingles(text), SHINGLE)
        expected = []
        for part in (np.unique(hashes), np.unique(hashes[: max(1, HEAD_CHARS - SHINGLE + 1)])):
            reference = MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32", hashfunc=lambda value: value)
            reference.update_batch(part.tolist())
            expected.append(reference.hashvalues.astype("<u4"))
        sig = signature(text)
        assert np.frombuffer(sig, dtype="<u4", offset=9).tolist() == np.concatenate(expected).tolist()


_TRICKY = (
    "文明城市创建某县XxＸｘ×_＿０１２３2023年ＡＢａｂ,，。、；：“”‘’（）《》【】—…·\u3000 \t\r\n"
    "\u200b\ufeff\u00ad\x00\x7f!$+<=>^`|~\uf900\u2f00\u3007\u3005⒈①Ⅻ㎡％＄\U00020001\U0002f800😀\ud800\udfff\uffff"
)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(_TRICKY) | st.characters(), max_size=60))
def test_fast_normalisation_equals_the_character_table(text):
    # The regex fast paths must give exactly what the per-character decision gives:
    # stored exact keys are compared with new ones for as long as the archive lives.
    from archive.dedup import _HASH_TABLE, _PLACEHOLDER, normalised_for_hash

    assert normalised_for_hash(text) == text.translate(_HASH_TABLE)
    reference = re.compile(r"[0-9０-９]*(?:[XxＸｘ×]+|[_＿]{2,}|某+)[0-9０-９]*")
    assert _PLACEHOLDER.sub("□", text) == reference.sub("□", text)


@pytest.mark.parametrize("num_perm", [2, 64, 128, 300])
def test_permutations_are_the_ones_datasketch_draws(num_perm):
    # Drawn without importing datasketch (scipy comes with it); they must stay its affine32 ones.
    from datasketch import MinHash

    from archive.dedup import _permutations

    a, b = MinHash(num_perm=num_perm, seed=1, scheme="affine32").permutations
    ours = _permutations(num_perm)
    assert [part.dtype for part in ours] == [np.dtype(np.uint32)] * 2
    assert ours[0].tolist() == a.tolist() and ours[1].tolist() == b.tolist()


def test_writing_the_archive_does_not_import_datasketch(tmp_path):
    # datasketch imports scipy, most of an archive writer's start-up time.
    code = (
        "import sys; from archive.writer import ArchiveWriter; from archive import dedup; "
        "dedup.signature('十四五规划开局之年的工作报告' * 20); "
        f"ArchiveWriter({str(tmp_path / 'archive.db')!r}).close(); "
        "print('datasketch' in sys.modules, 'scipy' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert result.stdout.split() == ["False", "False"]


def test_band_pairs_are_the_candidates_datasketch_lsh_proposes(planted):
    # The banding is done in numpy; it must propose exactly what datasketch's MinHashLSH would.
    from datasketch import LeanMinHash, MinHashLSH

    from archive.dedup import LSH_BANDS, NUM_PERM, _band_pairs, _decode

    sketches = {text.id: _decode(signature(text.text))[1] for text in planted.texts}
    for part in ("whole", "head"):
        lsh = MinHashLSH(num_perm=NUM_PERM, params=LSH_BANDS)
        minhashes = {
            text_id: LeanMinHash(seed=1, hashvalues=getattr(sketch, part), scheme="affine32")
            for text_id, sketch in sketches.items()
        }
        for text_id, minhash in minhashes.items():
            lsh.insert(text_id, minhash)
        expected = {(text_id, other) for text_id, minhash in minhashes.items() for other in lsh.query(minhash) if other > text_id}
        assert expected and _band_pairs(sketches, part, LSH_BANDS, NUM_PERM) == expected


def test_band_pairs_survive_folded_keys_that_collide(planted, monkeypatch):
    # Every band's key folded to one value: all texts share a run, and only equal rows may pair.
    from archive import dedup

    sketches = {text.id: dedup._decode(signature(text.text))[1] for text in planted.texts}
    expected = dedup._band_pairs(sketches, "whole", dedup.LSH_BANDS, dedup.NUM_PERM)
    monkeypatch.setattr(dedup, "_folded_keys", lambda block: np.zeros(len(block), dtype=np.uint64))
    assert expected and dedup._band_pairs(sketches, "whole", dedup.LSH_BANDS, dedup.NUM_PERM) == expected


def test_signature_rows_read_a_block_as_each_signature_decodes(planted):
    # The refresh reads its candidates' signatures a block at a time; every row must be the
    # sketch _decode gives.  A signature of other parameters (no band key files one) is left
    # out, and the others keep their rows.
    from archive import dedup

    stored = {text.id: signature(text.text) for text in planted.texts[:50]}
    mixed = {-1: signature(planted.texts[0].text, num_perm=64), **stored, -2: signature(planted.texts[1].text, shingle=5)}
    for block in (dedup._SketchRows.decoded(stored), dedup._SketchRows.decoded(mixed)):
        assert block.row_of.keys() == stored.keys()
        for text_id, sig in stored.items():
            sketch = dedup._decode(sig)[1]
            row = block.row_of[text_id]
            assert np.array_equal(block.whole[row], sketch.whole) and np.array_equal(block.head[row], sketch.head)
            assert block.size[row] == sketch.size
    assert dedup._SketchRows.decoded({}).row_of == {}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=6), max_size=40))
def test_equal_key_runs_are_the_repeated_keys(values):
    from archive.dedup import _equal_key_runs

    keys = np.array(values, dtype=np.uint64)
    order, runs = _equal_key_runs(keys)
    found = sorted(sorted(order[start:stop].tolist()) for start, stop in runs)
    expected = sorted([i for i, v in enumerate(values) if v == key] for key in set(values) if values.count(key) > 1)
    assert found == expected


def test_clusters_from_stored_signatures_read_only_the_texts_of_candidate_pairs(planted):
    # The archive's refresh passes texts without their text (reading every text was
    # most of a refresh); the clusters must be the same, and few texts read.
    by_id = {text.id: text for text in planted.texts}
    signatures = {text.id: signature(text.text) for text in planted.texts}
    keys = {text.id: exact_key(text.text) for text in planted.texts}
    lazy = [TextForDedup(t.id, None, t.first_seen, t.truncated, t.site, len(t.text)) for t in planted.texts]
    loaded: list[int] = []

    def load_texts(ids):
        loaded.extend(ids)
        return {text_id: by_id[text_id].text for text_id in ids}

    assert cluster_texts(lazy, signatures, exact_keys=keys, load_texts=load_texts) == cluster_texts(planted.texts)
    assert 0 < len(set(loaded)) < len(planted.texts) / 2
    with pytest.raises(ValueError, match="without its text"):
        cluster_texts(lazy, {}, exact_keys=keys)


# -- band keys shared by many texts (BAND_CAP) ------------------------------------------------


def opening_shared_by(count: int, *, seed: int) -> tuple[str, list[str]]:
    """An opening of more than HEAD_CHARS characters, and ``count`` unrelated speeches that all start with it."""
    from archive.dedup import HEAD_CHARS

    donor, *speeches = generate_texts(count + 1, seed=seed)
    opening: list[str] = []
    for paragraph in donor.paragraphs:
        opening.append(paragraph)
        if len(normalised_for_shingles("".join(opening))) > HEAD_CHARS + 40:
            break
    return "\n".join(opening), ["\n".join(opening + list(s.paragraphs[2:])) for s in speeches]


def test_a_copy_among_texts_with_one_opening_still_meets_its_source_on_rarer_bands():
    # Many texts start with one long opening (a site's template): their heads are one sketch,
    # and their head band keys are held by all of them.  A text arriving after the keys' first
    # BAND_CAP texts is not admitted to them, nor is its copy; the copy still meets its source
    # on whole-text bands that only the two share, and the template's texts stay apart.
    from archive import dedup
    from archive.dedup import BAND_CAP, LSH_BANDS, NUM_PERM, _band_pairs, _decode

    count = 4 * BAND_CAP
    opening, speeches = opening_shared_by(count + 1, seed=33)
    source = speeches[-1]
    paragraphs = source.split("\n")
    copy = "\n".join(paragraphs[:6] + ["同时，我们也要清醒地看到，工作中还存在一些不容忽视的问题。"] + paragraphs[6:])
    texts = [_text(i + 1, speech) for i, speech in enumerate(speeches)] + [_text(count + 2, copy)]
    sketches = {text.id: _decode(signature(text.text))[1] for text in texts}
    head_keys = {tuple(dedup.band_keys(signature(text.text))[LSH_BANDS[0]:]) for text in texts}
    assert len(head_keys) == 1  # every text is filed under the same head keys

    heads = _band_pairs(sketches, "head", LSH_BANDS, NUM_PERM, BAND_CAP)
    assert len(_band_pairs(sketches, "head", LSH_BANDS, NUM_PERM)) == len(texts) * (len(texts) - 1) // 2
    # Capped: each text meets the first BAND_CAP texts only, not every text that shares the key.
    assert heads == {(a, b) for a in range(1, BAND_CAP + 1) for b in range(a + 1, len(texts) + 1)}
    assert (count + 1, count + 2) not in heads
    assert (count + 1, count + 2) in _band_pairs(sketches, "whole", LSH_BANDS, NUM_PERM, BAND_CAP)

    clusters = cluster_texts(texts)
    assert clusters.cluster_of == {**{i: i for i in range(1, count + 2)}, count + 2: count + 1}
