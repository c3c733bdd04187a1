"""Where the crawl's write path spends its time, per page, on the replicas `huabo_large` and `huabo`.

    python benchmarks/write_path_profile.py [--gzip-levels | --library-floor]

Extracts every article page of `huabo_large` (2,200 articles) in memory, then hands the articles to
the ``ArchiveWriter`` (WARC, captures, texts, full-text index, duplicate
signatures) and closes it (the duplicate-cluster refresh), timing each stage's CPU
in the same process, at both page weights (``light``, the templates alone, and
``real``, with the chrome real pages carry: replica/page_weight.py), in alternating
rounds.  A stage is timed by wrapping the function that does it, so the stage table
says where a page's cost goes as the weight grows; the crawl's own figures, with the
processes and their overlap, are benchmarks/crawl_throughput.py's.

A second table times the per-text functions the array-based implementations
replaced against the straightforward versions they must agree with (the tests
check they do): the bigram index text against joining ``index_tokens``, and a
text's MinHash sketches against datasketch's own ``MinHash.update_batch`` over
``np.unique`` of the same shingle hashes.

The last table indexes the 2,200 texts of replica ``huabo_large`` in a scratch
database as the writer does (batches of 200 per transaction), with FTS5's default
automerge and with the shipped ``search_index.AUTOMERGE``, in alternating runs.

``--gzip-levels`` prints only the table of ISA-L compression levels (time and bytes per
WARC member) on the replica's article pages at both page weights.

``--library-floor`` prints only the cost, per real-weight page of `huabo_large`, of the library
calls cleaning and archiving a page cannot do without (decoding it, libxml2's parse, the WARC
member's compression and digests, FTS5's insert), each alone with no code of this project around
it, and the MinHash sketches as shipped (this project's numpy code), against the whole per-page cost of the stage table in the same run:
how much of that cost a faster wrapping of those calls could remove at most.

The last one times the LSH banding of the duplicate-cluster refresh at 2,200, 20,000
and 100,000 texts: the first version (void keys, every bucket visited) against the
shipped one (folded 64-bit keys, repeated keys only), after checking they agree.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import itertools
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from datasketch import MinHash
from isal import isal_zlib
from lxml import html

from archive import database, dedup, search_index, warc_store
from archive.database import Archive
from archive.warc_store import WarcStore
from archive.writer import ArchiveWriter
from crawler.defaults import FANWEN_DEFAULTS
from crawler.profiles import load_profile
from pipelines.decoding import TextCensus, decode_html
from pipelines.extraction import extract_texts
from pipelines.parsing import LXML_PARSER
from records.crawl_items import ArticleItem
from records.texts import FetchedPage
from replica.site import load_site

_PAGES: dict[tuple[str, str], list[tuple[str, FetchedPage]]] = {}


def article_items(weight: str, replica: str = "huabo") -> list[ArticleItem]:
    """Every article page of ``replica`` at ``weight``, as the crawl hands it on (not yet cleaned)."""
    if (replica, weight) not in _PAGES:
        site = load_site(replica, weight)
        pages = []
        for article in site.articles:
            response = site.respond(article.path)
            pages.append((article.category.name, FetchedPage(
                f"http://127.0.0.1:1{article.path}", response.body, response.content_type, 200,
                (("Content-Type", response.content_type),), (), None, "2026-01-01T00:00:00+00:00",
            )))
        _PAGES[(replica, weight)] = pages
    return [ArticleItem("huabo", category, [page], page.fetched_at) for category, page in _PAGES[(replica, weight)]]


# What the archive writer spends its time on, each timed by wrapping the function that does it
# (CPU time, callee included); "captures, texts rows, transaction" is save_articles less the
# three inside it.
_WRITE_STAGES = (
    ("WARC records (gzip members, written)", WarcStore, "write_page"),
    ("WARC fsync before the index points at the records", WarcStore, "sync"),
    ("all of save_articles", Archive, "save_articles"),
    ("full-text index rows", Archive, "_index_texts"),
    ("duplicate signatures (normalise, shingle, two MinHashes)", database, "signature"),
    ("signature rows and band keys", Archive, "_write_signatures"),
)
# The crawl benchmark's replica: 2,200 articles of the seed family's layout, enough texts for the
# full-text index to merge segments as a crawl's does.
STAGE_REPLICA = "huabo_large"
_SAVE_ARTICLES_INSIDE = ("full-text index rows", "duplicate signatures (normalise, shingle, two MinHashes)",
                         "signature rows and band keys")


def stage_costs(weight: str, replica: str = STAGE_REPLICA) -> tuple[int, dict[str, float]]:
    """CPU seconds of each stage of cleaning and archiving ``replica``'s articles at ``weight``, in this process."""
    rules = load_profile("huabo").extract
    items = article_items(weight, replica)
    # The crawl's collector settings (crawler/gc_tuning.py), and the pages held here (a crawl
    # holds a few at a time) set aside from its walks: otherwise each collection walks every page
    # held and the stages measure this script's memory, not the work.
    threshold = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(max(FANWEN_DEFAULTS["FANWEN_GC_THRESHOLD"], threshold[0]), *threshold[1:])
    spent: dict[str, float] = {}
    originals = [(owner, attribute, getattr(owner, attribute)) for _, owner, attribute in _WRITE_STAGES]
    for (name, owner, attribute), (_, _, original) in zip(_WRITE_STAGES, originals):
        def timed(*args, _original=original, _name=name, **kwargs):
            started = time.process_time()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[_name] = spent.get(_name, 0.0) + time.process_time() - started
        setattr(owner, attribute, timed)
    try:
        started = time.process_time()
        for item in items:
            item.take_extraction(extract_texts(item.pages, rules))
        spent["extraction (decode, clean, extract)"] = time.process_time() - started
        with tempfile.TemporaryDirectory() as workdir:
            writer = ArchiveWriter(Path(workdir) / "archive.db")
            for item in items:
                writer.add(item)
            writer.flush()
            started = time.process_time()
            writer.close()
            spent["duplicate-cluster refresh at close"] = time.process_time() - started
    finally:
        for owner, attribute, original in originals:
            setattr(owner, attribute, original)
        gc.set_threshold(*threshold)
        gc.unfreeze()
    spent["captures, texts rows, transaction"] = spent.pop("all of save_articles") - sum(
        spent.get(name, 0.0) for name in _SAVE_ARTICLES_INSIDE)
    return len(items), spent


# The stage table's rows, in the order a page goes through them.
_STAGE_ORDER = (
    "extraction (decode, clean, extract)",
    "WARC records (gzip members, written)",
    "WARC fsync before the index points at the records",
    "captures, texts rows, transaction",
    "full-text index rows",
    "duplicate signatures (normalise, shingle, two MinHashes)",
    "signature rows and band keys",
    "duplicate-cluster refresh at close",
)


def stages_by_weight(rounds: int = 3) -> None:
    """The stage table at both page weights, medians of ``rounds`` alternating rounds."""
    by_weight: dict[str, list[dict[str, float]]] = {"light": [], "real": []}
    pages: dict[str, int] = {}
    stage_costs("light")  # untimed: the first pass pays for imports and first calls
    for number in range(rounds):
        for weight in by_weight if number % 2 == 0 else reversed(by_weight):
            pages[weight], spent = stage_costs(weight)
            by_weight[weight].append(spent)
    kb = {
        weight: statistics.mean(len(item.pages[0].body) for item in article_items(weight, STAGE_REPLICA)) / 1024
        for weight in by_weight
    }
    print(f"{pages['light']} article pages of replica {STAGE_REPLICA}, CPU ms per page, one process, "
          f"median of {rounds} alternating rounds:")
    print(f"| stage | light ({kb['light']:.1f} KB a page) | real ({kb['real']:.1f} KB a page) | real / light |")
    print("|---|---:|---:|---:|")
    totals = {weight: 0.0 for weight in by_weight}
    for name in _STAGE_ORDER:
        cells = {}
        for weight, runs in by_weight.items():
            cells[weight] = statistics.median(run.get(name, 0.0) for run in runs) * 1000 / pages[weight]
            totals[weight] += cells[weight]
        print(f"| {name} | {cells['light']:.3f} | {cells['real']:.3f} | {cells['real'] / cells['light']:.2f} |")
    print(f"| all stages | {totals['light']:.3f} | {totals['real']:.3f} | {totals['real'] / totals['light']:.2f} |")


def main() -> None:
    rules = load_profile("huabo").extract
    stages_by_weight()
    items = article_items("light")
    for item in items:
        item.take_extraction(extract_texts(item.pages, rules))
    per_text_functions([text.text for item in items for text in item.texts])
    per_page_functions([item.pages[0].body for item in items], [decode_html(item.pages[0].body).text for item in items])
    gzip_levels()


def gzip_levels(levels: tuple[int, ...] = (1, 2, 3), rounds: int = 3) -> None:
    """A WARC member's compression at each ISA-L level, on the article pages of replica huabo at both weights.

    The level's cost grows with the page while the other costs of archiving it hardly do
    (the text is the same at both weights), so it is weighed on pages as heavy as real ones.
    """
    print(f"\nISA-L levels, article pages of replica huabo, ms per page (best of {rounds}); bytes against zlib level 9")
    print("| weight | KB per page | " + " | ".join(f"level {level} ms | level {level} bytes" for level in levels) + " |")
    print("|---|---|" + "---|---|" * len(levels))
    for weight in ("light", "real"):
        site = load_site("huabo", weight)
        bodies = [site.respond(article.path).body for article in site.articles]
        zlib9 = sum(map(_gzip_member(zlib.compressobj, 9), bodies))
        cells = []
        for level in levels:
            member = _gzip_member(isal_zlib.compressobj, level)
            cells.append(f"{_best_ms_each(member, bodies, rounds):.3f} | {sum(map(member, bodies)) / zlib9:.3f}")
        print(f"| {weight} | {sum(map(len, bodies)) / len(bodies) / 1024:.1f} | " + " | ".join(cells) + " |")
    print(f"shipped: level {warc_store.GZIP_LEVEL}")


def _datasketch_sketches(text: str) -> None:
    hashes = dedup._shingle_hashes(dedup.normalised_for_shingles(text), dedup.SHINGLE)
    for part in (np.unique(hashes), np.unique(hashes[: dedup.HEAD_CHARS - dedup.SHINGLE + 1])):
        minhash = MinHash(num_perm=dedup.NUM_PERM, seed=1, scheme="affine32", hashfunc=lambda value: value)
        minhash.update_batch(part.tolist())


def _best_ms_each(function, inputs: list, rounds: int, clock=time.perf_counter) -> float:
    """Milliseconds per input of ``function`` over ``inputs`` by ``clock``, the best of ``rounds`` passes."""
    best = float("inf")
    for _ in range(rounds):
        started = clock()
        for value in inputs:
            function(value)
        best = min(best, (clock() - started) * 1000 / len(inputs))
    return best


def per_text_functions(texts: list[str], rounds: int = 3) -> None:
    def ms_per_text(function) -> float:
        return _best_ms_each(function, texts, rounds)

    rows = [
        ("full-text index text", lambda text: " ".join(search_index.index_tokens(text)), search_index.index_text),
        ("duplicate signature (normalise, shingle, two MinHashes)", _datasketch_sketches, dedup.signature),
    ]
    print(f"\n{len(texts)} texts, ms per text (best of {rounds}):")
    print("| function | straightforward version | shipped | ratio |")
    print("|---|---|---|---|")
    for name, baseline, shipped in rows:
        before, after = ms_per_text(baseline), ms_per_text(shipped)
        print(f"| {name} | {before:.3f} | {after:.3f} | {after / before:.2f} |")


# The regex passes the page checks' census replaced (tests/test_decoding.py keeps them as its reference).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")
_C0 = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_NOT_HAN = re.compile(r"[^\u4e00-\u9fff]+")
_PRIVATE_USE = re.compile(r"[\ue000-\uf8ff\ufffd]")


def _regex_page_checks(text: str) -> None:
    sample = text[:20_000]
    len(_CONTROL.findall(sample)), len(_C0.findall(sample)), len(_PRIVATE_USE.findall(sample))
    _NOT_HAN.sub("", sample).encode("gb2312", errors="replace").count(b"?")


def _gzip_member(compressobj, level: int):
    def compress(body: bytes) -> int:
        compressor = compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        return len(compressor.compress(body) + compressor.flush())
    return compress


def per_page_functions(bodies: list[bytes], texts: list[str], rounds: int = 3) -> None:
    def ms_per_page(function, inputs) -> float:
        return _best_ms_each(function, inputs, rounds)

    print(f"\n{len(bodies)} pages, ms per page (best of {rounds}):")
    print("| function | straightforward version | shipped | ratio |")
    print("|---|---|---|---|")
    before, after = ms_per_page(_regex_page_checks, texts), ms_per_page(lambda text: TextCensus.of(text).mojibake, texts)
    print(f"| mojibake + binary page checks (regex passes vs census) | {before:.3f} | {after:.3f} | {after / before:.2f} |")
    zlib9, isal = _gzip_member(zlib.compressobj, 9), _gzip_member(isal_zlib.compressobj, warc_store.GZIP_LEVEL)
    before, after = ms_per_page(zlib9, bodies), ms_per_page(isal, bodies)
    size = sum(map(isal, bodies)) / sum(map(zlib9, bodies))
    print(f"| page body as a gzip member (zlib 9, warcio's, vs ISA-L {warc_store.GZIP_LEVEL}; ISA-L bytes {size:.3f}× zlib's) "
          f"| {before:.3f} | {after:.3f} | {after / before:.2f} |")


def _fts_insert_ms(texts: list[str], batch: int = 200) -> float:
    """CPU ms per text of FTS5 indexing ``texts`` as the writer does (index text, batches of ``batch``, on disk, WAL)."""
    rows = [(number, "", search_index.index_text(text)) for number, text in enumerate(texts, 1)]
    with tempfile.TemporaryDirectory() as workdir, _scratch_index(Path(workdir), search_index.AUTOMERGE) as connection:
        connection.execute(search_index.SET_HASHSIZE_SQL)
        began = time.process_time()
        for start in range(0, len(rows), batch):
            _insert_batch(connection, rows[start:start + batch])
        spent = time.process_time() - began
    return spent * 1000 / len(rows)


@contextlib.contextmanager
def _scratch_index(workdir: Path, automerge: int) -> Iterator[sqlite3.Connection]:
    """An empty full-text index on disk, journalled as the archive's (WAL), merging at ``automerge``."""
    connection = sqlite3.connect(workdir / "index.db", isolation_level=None)
    try:
        connection.execute("pragma journal_mode = wal")
        connection.execute("pragma synchronous = normal")
        connection.execute(search_index.CREATE_INDEX_SQL)
        connection.execute(search_index.SET_AUTOMERGE_SQL.replace(str(search_index.AUTOMERGE), str(automerge)))
        yield connection
    finally:
        connection.close()


def _insert_batch(connection: sqlite3.Connection, rows: list[tuple]) -> None:
    """One transaction of index rows, as the writer commits a batch."""
    connection.execute("begin")
    connection.executemany(f"insert into {search_index.FTS_TABLE} (rowid, title, text) values (?, ?, ?)", rows)
    connection.execute("commit")


def library_floor(rounds: int = 3) -> None:
    """The library calls a real-weight page cannot do without, each alone, against the page's whole cost."""
    weight = "real"
    items = article_items(weight, STAGE_REPLICA)
    bodies = [item.pages[0].body for item in items]
    codecs = [decode_html(body, item.pages[0].content_type).encoding for body, item in zip(bodies, items)]
    texts = [body.decode(codec) for body, codec in zip(bodies, codecs)]
    utf8 = [text.encode("utf-8") for text in texts]
    rules = load_profile("huabo").extract
    clean = [text.text for item in article_items(weight, STAGE_REPLICA) for text in extract_texts(item.pages, rules).texts]
    compress = _gzip_member(isal_zlib.compressobj, warc_store.GZIP_LEVEL)

    def two_digests(body: bytes) -> None:
        hashlib.sha1(body).digest()
        hashlib.sha1(body).digest()

    per_page = len(clean) / len(bodies)  # texts a page

    def cpu_ms_each(function, inputs: list) -> float:
        return _best_ms_each(function, inputs, rounds, time.process_time)

    calls = (
        ("decode the body (bytes.decode, the page's codec)",
         lambda: cpu_ms_each(lambda pair: pair[0].decode(pair[1]), list(zip(bodies, codecs)))),
        ("encode to UTF-8 for libxml2 (str.encode)", lambda: cpu_ms_each(str.encode, texts)),
        ("parse (lxml.html.document_fromstring)",
         lambda: cpu_ms_each(lambda data: html.document_fromstring(data, parser=LXML_PARSER), utf8)),
        (f"WARC member: gzip (ISA-L level {warc_store.GZIP_LEVEL})", lambda: cpu_ms_each(compress, bodies)),
        ("WARC member: two SHA-1 digests of the body", lambda: cpu_ms_each(two_digests, bodies)),
        ("FTS5 insert of the index text (batches of 200, on disk, WAL)",
         lambda: min(_fts_insert_ms(clean) for _ in range(rounds)) * per_page),
        ("duplicate signature (the shipped numpy MinHash)",
         lambda: cpu_ms_each(dedup.signature, clean) * per_page),
    )
    stage_costs(weight)  # untimed: first calls
    whole = statistics.median(sum(stage_costs(weight)[1].values()) for _ in range(rounds)) * 1000 / len(bodies)
    print(f"\nLibrary calls alone, {len(bodies)} article pages of replica {STAGE_REPLICA} at weight {weight} "
          f"({statistics.mean(map(len, bodies)) / 1024:.1f} KB a page), CPU ms per page (best of {rounds}):")
    print("| call | CPU ms per page |")
    print("|---|---:|")
    floor = 0.0
    for name, measure in calls:
        spent = measure()
        floor += spent
        print(f"| {name} | {spent:.3f} |")
    print(f"| all of them | {floor:.3f} |")
    print(f"whole cost of cleaning and archiving a page in the same run (the stage table's stages, median of {rounds}): "
          f"{whole:.3f} ms; the library calls alone are {floor / whole:.2f} of it")


def index_merging(batch: int = 200, tail: int = 400) -> None:
    """Indexing the texts of the 2,200-article replica as a crawl does (batches of ``batch`` per
    transaction, on disk, WAL), with FTS5's default automerge and the shipped one, alternating."""
    site, rules = load_site("huabo_large"), load_profile("huabo").extract
    rows = []
    for article in site.articles:
        response = site.respond(article.path)
        page = FetchedPage(f"http://127.0.0.1:1{article.path}", response.body, response.content_type, 200,
                           (), (), None, "2026-01-01T00:00:00+00:00")
        rows.extend((len(rows) + 1, search_index.index_text(t.title), search_index.index_text(t.text))
                    for t in extract_texts([page], rules).texts)

    def per_batch_ms(automerge: int) -> list[float]:
        with tempfile.TemporaryDirectory() as workdir, _scratch_index(Path(workdir), automerge) as connection:
            costs = []
            for start in range(0, len(rows), batch):
                began = time.process_time()
                _insert_batch(connection, rows[start:start + batch])
                costs.append((time.process_time() - began) * 1000 / len(rows[start:start + batch]))
            return costs

    settings = (4, search_index.AUTOMERGE)
    runs: dict[int, list[list[float]]] = {setting: [] for setting in settings}
    for _ in range(3):
        for setting in settings:
            runs[setting].append(per_batch_ms(setting))
    last = tail // batch
    print(f"\nfull-text index, {len(rows)} texts of replica huabo_large in batches of {batch}, CPU ms per text (median of 3):")
    print(f"| automerge | all texts | first {tail} | last {tail} |")
    print("|---|---|---|---|")
    for setting in settings:
        def median_of(part, setting=setting):
            return statistics.median(statistics.fmean(part(costs)) for costs in runs[setting])
        label = f"{setting} (FTS5's default)" if setting == 4 else f"{setting} (shipped)"
        whole, first, latest = median_of(lambda c: c), median_of(lambda c: c[:last]), median_of(lambda c: c[-last:])
        print(f"| {label} | {whole:.3f} | {first:.3f} | {latest:.3f} |")


def _void_key_band_pairs(sketches, part: str, params: tuple[int, int], num_perm: int) -> set[tuple[int, int]]:
    """The banding as first written: each band's rows sorted as 24-byte void keys, every bucket visited in Python."""
    bands, rows = params
    bands = max(2, bands * num_perm // dedup.NUM_PERM)
    ids = np.array(sorted(sketches), dtype=np.int64)
    matrix = np.stack([getattr(sketches[text_id], part) for text_id in ids.tolist()])
    pairs: set[tuple[int, int]] = set()
    for band in range(bands):
        keys = np.ascontiguousarray(matrix[:, band * rows:(band + 1) * rows]).view(f"V{4 * rows}").ravel()
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1], [True])))
        for first, stop in zip(starts[:-1].tolist(), starts[1:].tolist()):
            if stop - first > 1:
                pairs.update(itertools.combinations(sorted(ids[order[first:stop]].tolist()), 2))
    return pairs


def lsh_banding(sizes: tuple[int, ...] = (2_200, 20_000, 100_000), copies: float = 0.02) -> None:
    """The duplicate-cluster refresh bands every text's sketches at the end of each crawl: its cost at archive sizes.

    Sketches are random hash values with ``copies`` of them planted twice (LSH
    buckets of two); the banding's cost depends on the count and the buckets, not the values.
    """
    draw = np.random.default_rng(7)
    print("\nLSH banding of both sketches (whole and head) of every text, ms (best of 3):")
    print("| texts | void keys, every bucket visited | folded uint64 keys, repeated keys only (shipped) | ratio |")
    print("|---|---|---|---|")
    for size in sizes:
        values = draw.integers(0, 1 << 32, size=(size, 2, dedup.NUM_PERM), dtype=np.uint32)
        planted = draw.choice(size, size=int(size * copies), replace=False)
        values[planted[1:]] = values[planted[:-1]]
        sketches = {text_id: dedup._Sketch(values[text_id, 0], values[text_id, 1], 500) for text_id in range(size)}

        def both(banding, sketches=sketches):
            return [banding(sketches, part, dedup.LSH_BANDS, dedup.NUM_PERM) for part in ("whole", "head")]

        assert both(_void_key_band_pairs) == both(dedup._band_pairs)
        old, new = (_best_ms_each(lambda _, banding=banding: both(banding), [None], 3)
                    for banding in (_void_key_band_pairs, dedup._band_pairs))
        print(f"| {size:,} | {old:.0f} | {new:.0f} | {new / old:.2f} |")


if __name__ == "__main__":
    if "--gzip-levels" in sys.argv[1:]:
        gzip_levels()
    elif "--library-floor" in sys.argv[1:]:
        library_floor()
    else:
        main()
        index_merging()
        lsh_banding()
        library_floor()
