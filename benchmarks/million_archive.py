"""One archive grown to a million texts in steps, measured at each step in the same run.

    python benchmarks/million_archive.py [--steps 100000,300000,1000000] [--workdir DIR]
                                         [--sample-every 50] [--new 1000] [--page-samples 20]
    python benchmarks/million_archive.py --workdir DIR --search-again   (the searches only, measured again)
    python benchmarks/million_archive.py --workdir DIR --csv-again 3 [--csv-without PLUGIN]
        (the streamed CSV only, with and without plugins/body_chunks.py or PLUGIN, the page cache as the
        last stream left it and emptied)
    python benchmarks/million_archive.py --workdir DIR --export-again 3
        (`fanwen export` only: as shipped and without the thread that reads the next texts' pages first,
        the page cache as the last export left it and emptied)
    python benchmarks/million_archive.py --workdir DIR --compacted-copy OTHER_DIR   (the archive as `fanwen
        compact` leaves it, as a copy)
    python benchmarks/million_archive.py --workdir DIR --also-workdir OTHER_DIR --read-texts 60
        (the texts table read in id order from an emptied page cache, in each archive: how its layout on
        disk serves a CSV of every row; e.g. an archive as grown against its copy after `fanwen compact`)
    python benchmarks/million_archive.py --workdir DIR --also-workdir SMALLER_DIR --refresh-again 3
        (the duplicate refresh after --new texts only, on each archive: as shipped and as the earlier
        versions --refresh-baselines names, the page cache as the save left it and emptied)

The archive grows through ``Archive.save_texts`` (the crawler's write path: texts, full-text
index, duplicate signatures and band keys, all kept current) in batches of ``BATCH``, from
texts of ``replica.corpus`` joined to log-normal lengths (median 3,200 characters, clipped to
1,500–8,000), generated between the writes (which alone are timed).  At each step it reports:

- ingest: texts/s over the step and over its last tenth, CPU ms per text of the writing
  process, and the ratio to the same write path with the index switched off (measured once,
  on ``BASELINE`` texts in a scratch archive, at the start of the run);
- the duplicate clusters settled by a full refresh after the step's bulk load, then a crawl's
  worth of ``--new`` texts (a tenth of them copies of archived texts) saved and the refresh a
  crawl's end runs on them: wall and CPU seconds and the peak resident memory of each refresh,
  each in a fresh process;
- through ``fanwen serve``'s Datasette over HTTP: the ranked search (``search`` canned query)
  and the table search box's HTML page with its facets and count, over the query set of
  ``search_export.py`` (p50 / p95 / max, errors, facets that timed out); set precision and
  recall of both against a substring scan of a sample (the texts whose id is a multiple of
  ``--sample-every``: the search's hit ids in the sample against the scan's), every hit id read;
  the home page, the database page, the table page and a text's row page (the speech page),
  ``--page-samples`` requests each;
- streamed CSV of every row (``texts.csv?_stream=on&_size=max``): MB/s, rows parsed back,
  whether it is complete; ``fanwen export`` (the command, as a user runs it): MB/s and rows;
- archive file and full-text index bytes per 1,000 texts; peak resident memory of the writing
  process during the step and of Datasette during the measurements.

Each step's figures go to ``DIR/steps.json`` as they are measured; a run stopped midway
continues from the texts already in ``DIR/archive.db`` (the steps already measured are kept and
said to be from the earlier part of the run).  At 1,000,000 texts the archive needs about 35 GB
of disk; the CSV and the export are parsed as they arrive, never stored.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import random
import re
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import search_export  # noqa: E402  (a sibling script: the query set, the HTTP helpers, the server)
from dedup_refresh import Corpus, archived_samples  # noqa: E402

from archive import search_index  # noqa: E402
from archive.database import Archive, TextToArchive  # noqa: E402
from records.texts import ExtractedText  # noqa: E402
from replica.corpus import generate_texts  # noqa: E402

BATCH = 500  # texts per save_texts call
CHUNK = 5000  # texts generated per call of the corpus generator (titles are unique within a call)
BASELINE = 10_000
SITES = ("huabo", "deyu", "wenmi", "gongwen")
BULK_URL = "http://bulk.invalid/"
FETCHED_AT = "2026-11-28T00:00:00+00:00"


# -- the texts ---------------------------------------------------------------------------------

def chunk_rows(chunk_no: int) -> list[tuple[str, str, str, str, str]]:
    """Chunk ``chunk_no``'s ``CHUNK`` rows (site, title, published, genre, text): the same rows on every run."""
    rng = random.Random(f"million:{chunk_no}")
    pool = generate_texts(CHUNK * 5 // 4, seed=90_000 + chunk_no, prefix=f"m{chunk_no}-")
    pool.reverse()
    rows: list[tuple[str, str, str, str, str]] = []
    while len(rows) < CHUNK:
        if len(pool) < 4:
            pool.extend(reversed(generate_texts(CHUNK // 4, seed=900_000 + chunk_no * 100 + len(rows),
                                                prefix=f"m{chunk_no}x{len(rows)}-")))
        target = min(8000, max(1500, int(rng.lognormvariate(math.log(3200), 0.5))))
        base = pool.pop()
        paragraphs = list(base.paragraphs)
        while sum(len(p) + 1 for p in paragraphs) < target and len(pool) > 1:
            paragraphs.extend(pool.pop().paragraphs)
        text = ""
        for paragraph in paragraphs:
            if len(text) >= 1500 and len(text) + len(paragraph) + 1 > target:
                break
            text = f"{text}\n{paragraph}" if text else paragraph
        number = chunk_no * CHUNK + len(rows)
        rows.append((SITES[number % len(SITES)], base.title, base.published.strftime("%Y-%m-%d"), base.genre, text[:8000]))
    return rows


def to_archive(rows, first_number: int) -> list[TextToArchive]:
    return [
        TextToArchive(site, "bench", FETCHED_AT, ExtractedText(
            url=f"{BULK_URL}{site}/{first_number + i}.html", title=title, published=published, text=text,
            truncated=False, genre=genre))
        for i, (site, title, published, genre, text) in enumerate(rows)
    ]


def bulk_count(archive: Archive) -> int:
    return archive.db.execute("select count(*) from texts where url >= ? and url < ?",
                              [BULK_URL, BULK_URL[:-1] + "0"]).fetchone()[0]


# -- memory --------------------------------------------------------------------------------------

def reset_peak_memory(pid: int | str = "self") -> None:
    """Start the process's peak resident size (VmHWM) afresh (Linux 4.0 and later)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_memory_mb(pid: int | str = "self") -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else float("nan")


# -- ingest -------------------------------------------------------------------------------------

def ingest_to(archive: Archive, target: int) -> dict:
    """Save bulk texts until the archive holds ``target`` of them: rates over the whole and over the last tenth.

    Only ``save_texts`` is timed: the texts are generated between its calls, in this process,
    so that generating them neither counts nor competes for the cores while they are written.
    """
    have = bulk_count(archive)
    if have >= target:
        return {"ingested": 0}
    reset_peak_memory()
    start_count = have
    tail_from = have + (target - have) * 9 // 10
    seconds = cpu = tail_seconds = 0.0
    for chunk_no in range(have // CHUNK, (target - 1) // CHUNK + 1):
        first = chunk_no * CHUNK
        rows = chunk_rows(chunk_no)[max(0, have - first):target - first]
        for i in range(0, len(rows), BATCH):
            batch = to_archive(rows[i:i + BATCH], have)
            began, cpu_began = time.perf_counter(), time.process_time()
            archive.save_texts(batch)
            took = time.perf_counter() - began
            seconds, cpu = seconds + took, cpu + time.process_time() - cpu_began
            tail_seconds += took if have >= tail_from else 0.0
            have += len(batch)
        print(f"  {have:,} texts, {(have - start_count) / seconds:,.0f}/s", end="\r", flush=True)
    return {
        "ingested": have - start_count, "ingest_per_s": (have - start_count) / seconds,
        "ingest_tail_per_s": (have - max(tail_from, start_count)) / tail_seconds if tail_seconds else None,
        "ingest_cpu_ms_per_text": cpu / (have - start_count) * 1000,
        "writer_peak_mb": peak_memory_mb(),
    }


def baseline_rate(workdir: Path) -> float:
    """Texts/s of the same write path without the full-text index, on ``BASELINE`` texts."""
    path = workdir / "baseline.db"
    for stale in workdir.glob("baseline.db*"):
        stale.unlink()
    rows = [row for chunk_no in range(BASELINE // CHUNK) for row in chunk_rows(chunk_no)]
    with Archive(path) as plain:
        plain._index_texts = lambda *args: None  # type: ignore[method-assign]
        began = time.perf_counter()
        for i in range(0, len(rows), BATCH):
            plain.save_texts(to_archive(rows[i:i + BATCH], i))
        seconds = time.perf_counter() - began
    for stale in workdir.glob("baseline.db*"):
        stale.unlink()
    return len(rows) / seconds


# -- duplicates ---------------------------------------------------------------------------------

# The baselines of --refresh-again.  "texts row": each candidate's signature checked against its
# text by reading the texts row, as before m013 (SQLite's own plan for this query: the row by
# its id).
ROW_LOOKUP_SIGNATURES = (
    "select s.text_id, s.signature from text_signatures s join texts t on t.id = s.text_id "
    "and t.content_hash = s.content_hash where s.text_id in ({marks})"
)
SHIPPED, ROW_LOOKUP, ONE_BY_ONE = "shipped", "row-lookup", "one-by-one"


def _one_by_one_screening() -> None:
    """The "one by one" baseline: each candidate's signature decoded on its own, and a block's pairs
    compared by stacking each pair's two sketches, as before 7de834e (same decisions, the tests say)."""
    import numpy as np

    from archive import dedup

    def decoded(cls, signatures):
        sketches = {text_id: dedup._decode(sig)[1] for text_id, sig in signatures.items()}
        return cls.of({text_id: sketch for text_id, sketch in sketches.items() if len(sketch.whole) == dedup.NUM_PERM})

    def screened_pairs(pairs, rows, threshold, through=None):
        bands, band_rows = dedup.LSH_BANDS
        slots = np.uint64(1) << np.arange(2 * bands, dtype=np.uint64)
        sketch = {text_id: (rows.whole[row], rows.head[row], int(rows.size[row])) for text_id, row in rows.row_of.items()}
        kept = []
        for start in range(0, len(pairs), dedup._SCREEN_BLOCK):
            block = pairs[start:start + dedup._SCREEN_BLOCK]
            equal = {
                part: np.stack([sketch[a][at] for a, _ in block]) == np.stack([sketch[b][at] for _, b in block])
                for at, part in enumerate(("whole", "head"))
            }
            agreeing = np.concatenate([
                equal[part][:, : bands * band_rows].reshape(len(block), bands, band_rows).all(axis=2)
                for part in ("whole", "head")
            ], axis=1)
            if through is not None:
                allowed = np.array(through[start:start + dedup._SCREEN_BLOCK], dtype=np.uint64)
                agreeing &= (allowed[:, None] & slots) != 0
            whole_equal, head_equal = equal["whole"].sum(axis=1).tolist(), equal["head"].sum(axis=1).tolist()
            for index in np.flatnonzero(agreeing.any(axis=1)).tolist():
                a, b = block[index]
                heads_match = dedup._screen_counts(
                    whole_equal[index], head_equal[index], dedup.NUM_PERM, sketch[a][2], sketch[b][2], threshold
                )
                if heads_match is not None:
                    kept.append((a, b, heads_match))
        return kept

    dedup._SketchRows.decoded = classmethod(decoded)
    dedup._screened_pairs = screened_pairs


def refresh_here(path: Path, full: bool, variant: str = SHIPPED) -> dict:
    """One duplicate refresh in this process: wall and CPU seconds, peak resident memory (run in a fresh process).

    ``variant``: SHIPPED, or a baseline: ROW_LOOKUP (the candidates' signatures checked against
    the texts rows) or ONE_BY_ONE (their signatures decoded and screened one by one).
    """
    from archive import database

    index = database._ArchiveDuplicateIndex
    if variant == ROW_LOOKUP:
        index.SIGNATURES = ROW_LOOKUP_SIGNATURES
    elif variant == ONE_BY_ONE:
        _one_by_one_screening()
    read = 0
    signatures = index.signatures

    def counted(self, ids):
        nonlocal read
        found = signatures(self, ids)
        read += len(found)
        return found

    index.signatures = counted
    # Not getrusage's ru_maxrss: a child's starts at its parent's peak (kept across exec).
    reset_peak_memory()
    with Archive(path) as archive:
        pending = archive.db.execute("select count(distinct text_id) from dedup_pending").fetchone()[0]
        wall, cpu = time.perf_counter(), time.process_time()
        clusters = archive.refresh_duplicates(full=full)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"wall": wall, "cpu": cpu, "peak_mb": peak_memory_mb(), "clusters": clusters, "pending": pending,
            "signatures_read": read}


def refresh_in_child(path: Path, full: bool, variant: str = SHIPPED) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--refresh", str(path), *(["--full"] if full else []), "--variant", variant],
        check=True, capture_output=True, text=True, cwd=REPO,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def save_new_texts(path: Path, new: int, seed: int) -> None:
    """A crawl's worth of new texts, a tenth of them copies of archived ones, saved as the archive writer saves them."""
    corpus = Corpus(seed=seed, sources=archived_samples(path, 2000, random.Random(seed)))
    with Archive(path) as archive:
        items = corpus.items(new, 0.1, "crawl")
        for i in range(0, len(items), 200):  # the archive writer's batch
            archive.save_texts(items[i:i + 200])


def drop_page_cache() -> bool:
    """Empty the kernel's page cache (root only); False when this process may not."""
    subprocess.run(["sync"], check=True)
    try:
        Path("/proc/sys/vm/drop_caches").write_text("1")
    except OSError:
        return False
    return True


def duplicate_round(path: Path, new: int, step: int) -> dict:
    """Settle the bulk load's clusters (a full refresh), save ``new`` texts as a crawl does, refresh after them."""
    settle = refresh_in_child(path, full=True)
    save_new_texts(path, new, step)
    after = refresh_in_child(path, full=False)
    return {
        "full_refresh_s": settle["wall"], "full_refresh_cpu_s": settle["cpu"], "full_refresh_peak_mb": settle["peak_mb"],
        "new_texts": after["pending"], "refresh_s": after["wall"], "refresh_cpu_s": after["cpu"],
        "refresh_peak_mb": after["peak_mb"], "clusters": after["clusters"],
    }


# -- sizes --------------------------------------------------------------------------------------

def sizes(path: Path) -> dict:
    with Archive(path) as archive:
        db = archive.db
        texts = archive.count_texts()
        # Page by page: dbstat's aggregate rows overflow past 2 GiB (SQLite 3.40).
        index = sum(
            db.execute("select coalesce(sum(pgsize), 0) from dbstat where name = ?", [name]).fetchone()[0]
            for (name,) in db.execute("select name from sqlite_master where name like ?", [f"{search_index.FTS_TABLE}%"])
        )
        page_size, pages = db.execute("pragma page_size").fetchone()[0], db.execute("pragma page_count").fetchone()[0]
    return {"texts": texts, "archive_mb_per_1k": page_size * pages / texts * 1000 / 1e6,
            "index_mb_per_1k": index / texts * 1000 / 1e6, "archive_gb": page_size * pages / 1e9}


# -- through Datasette --------------------------------------------------------------------------

def timed_get(url: str) -> tuple[float, int, bytes]:
    began = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            body, status = response.read(), response.status
    except urllib.error.HTTPError as error:
        body, status = error.read(), error.code
    return (time.perf_counter() - began) * 1000, status, body


def latency(values: list[float]) -> dict:
    return {"p50": search_export.percentile(values, 0.5), "p95": search_export.percentile(values, 0.95), "max": max(values)}


def sample_truth(path: Path, every: int) -> list[tuple[int, str, str]]:
    with Archive(path) as archive:
        return list(archive.db.execute("select id, title, text from texts where id % ? = 0", [every]))


def sampled_ranked_ids(base: str, query: str, every: int) -> set[int] | None:
    """The ranked search's match (its canned query's clause) over the sample, every id, a page at a time."""
    sql = (f"select rowid from texts_fts where texts_fts match cjk_fts_query(:q) and rowid > :after "
           f"and rowid % {every} = 0 order by rowid limit {search_export.PAGE_ROWS}")
    ids: set[int] = set()
    after = 0
    while True:
        params = urllib.parse.urlencode({"sql": sql, "q": query, "after": after, "_shape": "arrays"})
        _, page = search_export.get_json(f"{base}/archive.json?{params}")
        if page.get("error") or "rows" not in page:
            return None
        rows = [row[0] for row in page["rows"]]
        ids.update(rows)
        if len(rows) < search_export.PAGE_ROWS:
            return ids
        after = rows[-1]


def sampled_box_ids(base: str, query: str, every: int) -> set[int] | None:
    """The ids the table search box lists, within the sample (``_where``), following its pages."""
    params = urllib.parse.urlencode({"_search": query, "_where": f"id % {every} = 0", "_size": "max", "_col": "id",
                                     "_nofacet": 1, "_nocount": 1, "_shape": "objects"})
    url: str | None = f"{base}/archive/texts.json?{params}"
    ids: set[int] = set()
    while url:
        _, page = search_export.get_json(url)
        if page.get("error") or "rows" not in page:
            return None
        ids.update(row["id"] for row in page["rows"])
        url = page.get("next_url")
    return ids


def measure_search(base: str, queries, sample, every: int) -> dict:
    ranked_ms, box_ms, errors, facets_timed_out = [], [], 0, 0
    ranked_quality, box_quality = [], []
    for _, query in queries:
        q = urllib.parse.quote(query)
        timed_get(f"{base}/archive/search.json?q={q}&_shape=objects")  # warm
        ms, status, _ = timed_get(f"{base}/archive/search.json?q={q}&_shape=objects")
        ranked_ms.append(ms)
        ms, box_status, page = timed_get(f"{base}/archive/texts?_search={q}")
        box_ms.append(ms)
        facets_timed_out += b"facets timed out" in page
        if status != 200 or box_status != 200:
            errors += 1
            continue
        terms = query.split()
        expected = {i for i, title, text in sample if all(t in (title or "") or t in text for t in terms)}
        ranked_ids, box_ids = sampled_ranked_ids(base, query, every), sampled_box_ids(base, query, every)
        if ranked_ids is None or box_ids is None:
            errors += 1
            continue
        ranked_quality.append(search_export.set_quality(ranked_ids, expected))
        box_quality.append(search_export.set_quality(box_ids, expected))
    return {
        "ranked": latency(ranked_ms), "box": latency(box_ms), "errors": errors, "queries": len(queries),
        "box_pages_with_facets_timed_out": facets_timed_out,
        **search_export.quality_summary("ranked", ranked_quality), **search_export.quality_summary("box", box_quality),
    }


def measure_pages(base: str, last_id: int, samples: int) -> dict:
    """The pages a user reaches from the home page, ``samples`` requests each after one to warm."""
    rng = random.Random(last_id)
    pages = {
        "home": lambda: "/", "database": lambda: "/archive", "table": lambda: "/archive/texts",
        "speech": lambda: f"/archive/texts/{rng.randint(1, last_id)}",
    }
    out = {}
    for name, path in pages.items():
        timed_get(base + path())
        times, statuses = [], set()
        for _ in range(samples):
            ms, status, _ = timed_get(base + path())
            times.append(ms)
            statuses.add(status)
        out[name] = {**latency(times), "statuses": sorted(statuses)}
    return out


ROW_END = b"\r\n"


class RowEnds:
    """Bytes and rows of a CSV read as it arrives, counted by the rows' ends (``\\r\\n``, Python's
    ``csv`` line terminator) rather than parsed.

    A full parse takes CPU on a machine of two cores that the measuring process shares with the
    server it measures.  The generated texts hold no ``\\r``, so each row end
    is a row's; a text holding one would count a row too many and show as incomplete, never hide a
    missing row.  A body Datasette ended with an error's message ends no row.
    """

    def __init__(self) -> None:
        self.bytes, self.row_ends, self.last = 0, 0, b""

    def read_all(self, stream, chunk: int = 1 << 20) -> None:
        while data := stream.read(chunk):
            self.row_ends += (self.last[-1:] + data[:1]).count(ROW_END) + data.count(ROW_END)
            self.bytes += len(data)
            self.last = data

    @property
    def rows(self) -> int:
        return self.row_ends - 1  # the header

    @property
    def ends_a_row(self) -> bool:
        return self.last.endswith(ROW_END)


def measure_csv(base: str, expected: int) -> dict:
    """The streamed CSV of every row, its rows counted as it arrives (``count_row_ends``), never stored:
    a file of 10 GB written beside the archive would compete with the archive's own reads for the disk
    and the page cache."""
    began = time.perf_counter()
    counted, broken_off = RowEnds(), False
    with urllib.request.urlopen(f"{base}/archive/texts.csv?_stream=on&_size=max", timeout=3600) as response:
        try:
            counted.read_all(response)
        except http.client.IncompleteRead:  # the server broke the stream off (plugins/csv_whole_or_aborted.py)
            broken_off = True
    seconds = time.perf_counter() - began
    return {"csv_mb_s": counted.bytes / seconds / 1e6, "csv_gb": counted.bytes / 1e9, "csv_rows": counted.rows,
            "csv_complete": counted.rows == expected and counted.ends_a_row and not broken_off,
            "csv_broken_off": broken_off}


def measure_export(path: Path, expected: int, prefetch: bool = True) -> dict:
    """``fanwen export`` of every text as a user runs it, to standard output, its rows counted as it arrives
    (never stored: see ``measure_csv``); ``prefetch`` False: with the hidden ``--no-prefetch``."""
    command = [sys.executable, "-m", "fanwen.cli", "export", "--archive", str(path)]
    if not prefetch:
        command.append("--no-prefetch")
    began = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    counted = RowEnds()
    counted.read_all(process.stdout)
    returncode = process.wait()
    seconds = time.perf_counter() - began
    return {"export_mb_s": counted.bytes / seconds / 1e6, "export_gb": counted.bytes / 1e9, "export_rows": counted.rows,
            "export_complete": counted.rows == expected and counted.ends_a_row and returncode == 0}


def through_datasette(path: Path, workdir: Path, queries, every: int, samples: int) -> dict:
    sample = sample_truth(path, every)
    with Archive(path) as archive:
        last_id = archive.db.execute("select max(id) from texts").fetchone()[0]
        expected = archive.count_texts()
    port = search_export.free_port()
    server = search_export.serve(path, port)
    try:
        base = f"http://127.0.0.1:{port}"
        reset_peak_memory(server.pid)
        result = {"sample_texts": len(sample), **measure_search(base, queries, sample, every),
                  "pages": measure_pages(base, last_id, samples)}
        result.update(measure_csv(base, expected))
        result["datasette_peak_mb"] = peak_memory_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=60)
    result.update(measure_export(path, expected))
    return result


def search_again(path: Path, workdir: Path, every: int) -> None:
    """The searches of a step measured again at today's commit (after a change to the search alone)."""
    queries = search_export.make_queries(first_texts(path, 1000))
    sample = sample_truth(path, every)
    with Archive(path) as archive:
        texts = archive.count_texts()
    port = search_export.free_port()
    server = search_export.serve(path, port)
    try:
        figures = {"texts": texts, "commit": commit(), **measure_search(f"http://127.0.0.1:{port}", queries, sample, every)}
    finally:
        server.terminate()
        server.wait(timeout=60)
    (workdir / f"search-again-{texts}.json").write_text(json.dumps(figures, indent=1), encoding="utf-8")
    print(json.dumps(figures))
    print("| texts | commit | ranked search p50/p95/max ms | set P / R (min) ranked "
          "| search box + facets p50/p95/max ms | set P / R (min) box | errors |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    print(f"| {texts:,} | {figures['commit']} | {_latency_cell(figures['ranked'])} | {_quality_cell(figures, 'ranked')} | "
          f"{_latency_cell(figures['box'])} | {_quality_cell(figures, 'box')} | {figures['errors']} |")


# The plugin --csv-again leaves out of its baseline unless --csv-without names another.
CSV_PLUGIN = "body_chunks.py"


def plugins_without(name: str, workdir: Path) -> Path:
    """A plugins folder holding links to every shipped plugin but ``name``."""
    folder = workdir / f"plugins-without-{Path(name).stem}"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for plugin in (REPO / "datasette_config" / "plugins").glob("*.py"):
        if plugin.name != name:
            (folder / plugin.name).symlink_to(plugin)
    return folder


def csv_again(path: Path, workdir: Path, rounds: int, left_out: str) -> None:
    """The streamed CSV measured again at today's commit, in alternating rounds: Datasette as
    ``fanwen serve`` runs it, and the same without the plugin ``left_out``; each with the page cache
    as the last stream left it and emptied (when this process may empty it: root)."""
    with Archive(path) as archive:
        expected = archive.count_texts()
    variants = {"as served": None, f"without {left_out}": plugins_without(left_out, workdir)}
    caches = ["as the last stream left it", *(["emptied"] if drop_page_cache() else [])]
    figures: dict[str, list[dict]] = {}
    for number in range(rounds):
        for name in variants if number % 2 == 0 else reversed(variants):
            for cache in caches:
                port = search_export.free_port()
                log = workdir / "csv-again-datasette.log"
                log.write_bytes(b"")
                server = search_export.serve(path, port, plugins_dir=variants[name], log=log)
                try:
                    if cache == "emptied":
                        drop_page_cache()
                    run = measure_csv(f"http://127.0.0.1:{port}", expected)
                finally:
                    server.terminate()
                    server.wait(timeout=60)
                # Datasette's own words on a stream it did not finish ("Caught this error: ...").
                run["server_errors"] = [line for line in log.read_text("utf-8", "replace").splitlines()
                                        if "error" in line.lower() or "cut short" in line][:5]
                figures.setdefault(f"{name}|{cache}", []).append(run)
                print(f"  {name}, page cache {cache}: {run['csv_mb_s']:,.1f} MB/s", flush=True)
                for line in run["server_errors"]:
                    print(f"    Datasette: {line[:300]}", flush=True)
    (workdir / f"csv-again-{expected}.json").write_text(json.dumps(figures, indent=1), encoding="utf-8")
    print_rounds(f"streamed CSV of all {expected:,} rows (texts.csv?_stream=on&_size=max), rows counted as it "
                 f"arrives, {rounds} alternating rounds, commit {commit()}",
                 ("Datasette", "CSV MB/s per round", "every row, no cut"), figures, "csv", _completeness)


def print_rounds(caption: str, headings: tuple[str, str, str], figures: dict[str, list[dict]], measure: str,
                 completeness) -> None:
    """The table of ``--csv-again`` or ``--export-again``: a row per variant and page cache, its rounds and median."""
    what, per_round, complete = headings
    print(caption)
    print(f"| {what} | page cache | {per_round} | median MB/s | GB | {complete} |")
    print("|---|---|---|---:|---:|---|")
    for key, runs in figures.items():
        name, cache = key.split("|")
        speeds = [run[f"{measure}_mb_s"] for run in runs]
        print(f"| {name} | {cache} | {', '.join(f'{speed:,.1f}' for speed in speeds)} | "
              f"{statistics.median(speeds):,.1f} | {runs[0][f'{measure}_gb']:.2f} | {completeness(runs)} |")


def _completeness(runs: list[dict]) -> str:
    if all(run["csv_complete"] for run in runs):
        return "yes"
    broken = sum(1 for run in runs if run.get("csv_broken_off"))
    ended = sum(1 for run in runs if not run["csv_complete"] and not run.get("csv_broken_off"))
    return "NO: " + ", ".join(part for part in (f"{broken} broken off" if broken else "",
                                                f"{ended} ended as if whole" if ended else "") if part)


def export_again(path: Path, workdir: Path, rounds: int) -> None:
    """``fanwen export`` of every text measured again, in alternating rounds: as shipped (a thread reads
    the pages of the texts just ahead of the writing: archive/page_prefetch.py) and without that thread
    (``--no-prefetch``); each with the page cache as the last export left it and emptied (when this
    process may empty it: root)."""
    with Archive(path) as archive:
        expected = archive.count_texts()
    variants = {"as shipped (pages of the next texts read by a second thread)": True, "without that thread": False}
    caches = ["as the last export left it", *(["emptied"] if drop_page_cache() else [])]
    figures: dict[str, list[dict]] = {}
    for number in range(rounds):
        for name in variants if number % 2 == 0 else reversed(variants):
            for cache in caches:
                if cache == "emptied":
                    drop_page_cache()
                run = measure_export(path, expected, variants[name])
                figures.setdefault(f"{name}|{cache}", []).append(run)
                print(f"  {name}, page cache {cache}: {run['export_mb_s']:,.1f} MB/s", flush=True)
    (workdir / f"export-again-{expected}.json").write_text(json.dumps(figures, indent=1), encoding="utf-8")
    print_rounds(f"fanwen export of all {expected:,} texts (CSV to standard output), rows counted as it arrives, "
                 f"{rounds} alternating rounds, commit {commit()}",
                 ("fanwen export", "MB/s per round", "every row"), figures, "export",
                 lambda runs: "yes" if all(run["export_complete"] for run in runs) else "NO")


def compacted_copy(path: Path, folder: Path) -> None:
    """``folder/archive.db``: the archive as ``fanwen compact`` leaves it (the same VACUUM, written into a
    copy), for a disk with room for one more copy but not for compacting in place (twice the archive)."""
    import sqlite3

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "archive.db"
    if target.exists():
        raise SystemExit(f"{target} exists already")
    began = time.perf_counter()
    connection = sqlite3.connect(path)
    connection.execute("VACUUM INTO ?", (str(target),))
    connection.close()
    seconds = time.perf_counter() - began
    print(f"compacted copy of {path} ({path.stat().st_size / 1e9:.2f} GB) into {target} "
          f"({target.stat().st_size / 1e9:.2f} GB): {seconds:,.0f} s, commit {commit()}")


def read_texts_in_order(path: Path, seconds: float) -> dict:
    """The texts table read in id order from an emptied page cache (every column, as a CSV of every row
    reads it), for ``seconds`` at most: bytes of values per second, and how much of the table that was."""
    import sqlite3

    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    connection.text_factory = bytes  # the bytes as stored: the disk's share, not Python's decoding
    total_rows = connection.execute("select count(*) from texts").fetchone()[0]
    if not drop_page_cache():
        raise SystemExit("--read-texts empties the page cache first, which takes root")
    began, values, rows = time.perf_counter(), 0, 0
    cursor = connection.execute("select * from texts order by id")
    while batch := cursor.fetchmany(500):
        rows += len(batch)
        values += sum(len(value) for row in batch for value in row if isinstance(value, bytes))
        if time.perf_counter() - began > seconds:
            break
    elapsed = time.perf_counter() - began
    connection.close()
    return {"mb_s": values / elapsed / 1e6, "rows": rows, "share": rows / max(total_rows, 1), "texts": total_rows}


def read_texts_again(paths: list[Path], seconds: float) -> None:
    figures = {path: read_texts_in_order(path, seconds) for path in paths}
    print(f"\nThe texts table read in id order from an emptied page cache, {seconds:g} s at most, commit {commit()}")
    print("| archive | texts | MB/s of values read | share of the table read |")
    print("|---|---:|---:|---:|")
    for path, run in figures.items():
        print(f"| {path.parent.name}/{path.name} | {run['texts']:,} | {run['mb_s']:,.1f} | {run['share']:.0%} |")


# What each variant of --refresh-again is called in its table.
REFRESH_VARIANTS = {
    SHIPPED: "shipped",
    ONE_BY_ONE: "signatures decoded and screened one by one (before 7de834e)",
    ROW_LOOKUP: "signatures checked through the texts rows (before m013)",
}


def refresh_again(paths: list[Path], rounds: int, new: int, baselines: list[str]) -> None:
    """The refresh after a crawl of ``new`` texts measured again on each archive, in alternating rounds:
    as shipped and as each of ``baselines`` (REFRESH_VARIANTS), each with the page cache as the save
    left it and emptied (when this process may empty it: root)."""
    variants = [SHIPPED, *baselines]
    caches = ["as the save left it", *(["emptied"] if drop_page_cache() else [])]
    results: dict[tuple, list[dict]] = {}
    sizes_of: dict[Path, int] = {}
    for path in paths:
        with Archive(path) as archive:  # opening applies the migrations first, untimed
            if archive.duplicates_pending():
                archive.refresh_duplicates(full=False)
            sizes_of[path] = archive.count_texts()
        for number in range(rounds):
            for variant in variants if number % 2 == 0 else list(reversed(variants)):
                for cache in caches:
                    with Archive(path) as archive:
                        seed = 7_000_000 + archive.db.execute("select max(id) from texts").fetchone()[0]
                    save_new_texts(path, new, seed)
                    if cache == "emptied":
                        drop_page_cache()
                    figures = refresh_in_child(path, full=False, variant=variant)
                    results.setdefault((path, variant, cache), []).append(figures)
                    print(f"  {sizes_of[path]:,} texts, {variant}, page cache {cache}: "
                          f"{figures['wall']:.2f} s, CPU {figures['cpu']:.2f} s, {figures['peak_mb']:.0f} MB, "
                          f"{figures['signatures_read'] / max(figures['pending'], 1):.1f} signatures read per new text",
                          flush=True)
    print(f"\nDuplicate refresh after a crawl of {new:,} new texts, {rounds} alternating rounds, commit {commit()}; "
          "medians; seconds on this machine")
    print("| texts in archive | refresh | page cache | wall s | CPU s | peak MB | "
          "signatures read per new text | wall vs shipped | CPU vs shipped |")
    print("|---:|---|---|---:|---:|---:|---:|---:|---:|")
    for (path, variant, cache), runs in results.items():
        def median(key: str, runs: list[dict] = runs) -> float:
            return statistics.median(run[key] for run in runs)
        shipped = results[(path, SHIPPED, cache)]
        wall_ratio = median("wall") / statistics.median(run["wall"] for run in shipped)
        cpu_ratio = median("cpu") / statistics.median(run["cpu"] for run in shipped)
        per_text = statistics.median(run["signatures_read"] / max(run["pending"], 1) for run in runs)
        print(f"| {sizes_of[path]:,} | {REFRESH_VARIANTS[variant]} | {cache} | {median('wall'):.2f} | {median('cpu'):.2f} | "
              f"{median('peak_mb'):.0f} | {per_text:.1f} | {wall_ratio:.2f} | {cpu_ratio:.2f} |")
    if len(paths) > 1:
        smallest = min(paths, key=lambda path: sizes_of[path])
        print(f"\nshipped refresh against the {sizes_of[smallest]:,}-text archive's (wall / CPU):")
        for path in paths:
            for cache in caches:
                runs, first = results[(path, SHIPPED, cache)], results[(smallest, SHIPPED, cache)]
                print(f"- {sizes_of[path]:,} texts, page cache {cache}: "
                      f"{statistics.median(r['wall'] for r in runs) / statistics.median(r['wall'] for r in first):.2f} / "
                      f"{statistics.median(r['cpu'] for r in runs) / statistics.median(r['cpu'] for r in first):.2f}")


# -- the run ------------------------------------------------------------------------------------

def first_texts(path: Path, count: int) -> list[str]:
    with Archive(path) as archive:
        return [text for (text,) in archive.db.execute("select text from texts order by id limit ?", [count])]


def commit() -> str:
    done = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True, cwd=REPO)
    return done.stdout.strip() or "unknown"


def _latency_cell(figures: dict) -> str:
    return f"{figures['p50']:,.0f} / {figures['p95']:,.0f} / {figures['max']:,.0f}"


def _quality_cell(figures: dict, search: str) -> str:
    low = min(figures[f"{search}_precision_min"], figures[f"{search}_recall_min"])
    return f"{figures[f'{search}_precision_mean']:.4f} / {figures[f'{search}_recall_mean']:.4f} ({low:.4f})"


def report(steps: list[dict], baseline: float | None) -> str:
    lines = [
        "| texts | ingest texts/s (last tenth) | vs no index | CPU ms/text | ranked search p50/p95/max ms | "
        "set P / R (min) ranked | search box + facets p50/p95/max ms | set P / R (min) box | "
        "home / database / table / speech p95 ms | refresh after new texts: s, CPU s, peak MB | "
        "full refresh: s, peak MB | CSV MB/s (complete) | fanwen export MB/s (complete) | "
        "archive / index MB per 1k | peak MB writer / Datasette |",
        "|" + "---:|" * 15,
    ]
    for s in steps:
        pages = s["pages"]
        ratio = f"{s['ingest_per_s'] / baseline:.2f}" if baseline and s.get("ingest_per_s") else "–"
        ingest = (f"{s['ingest_per_s']:,.0f} ({s['ingest_tail_per_s']:,.0f})" if s.get("ingest_per_s") else "–")
        lines.append(
            f"| {s['texts']:,} | {ingest} | {ratio} | {s.get('ingest_cpu_ms_per_text', float('nan')):.2f} | "
            f"{_latency_cell(s['ranked'])} | {_quality_cell(s, 'ranked')} | {_latency_cell(s['box'])} | "
            f"{_quality_cell(s, 'box')} | "
            f"{' / '.join(format(pages[p]['p95'], ',.0f') for p in ('home', 'database', 'table', 'speech'))} | "
            f"{s['refresh_s']:.2f}, {s['refresh_cpu_s']:.2f}, {s['refresh_peak_mb']:,.0f} | "
            f"{s['full_refresh_s']:,.0f}, {s['full_refresh_peak_mb']:,.0f} | "
            f"{s['csv_mb_s']:,.0f} ({'yes' if s['csv_complete'] else 'NO'}) | "
            f"{s['export_mb_s']:,.0f} ({'yes' if s['export_complete'] else 'NO'}) | "
            f"{s['archive_mb_per_1k']:.1f} / {s['index_mb_per_1k']:.1f} | "
            f"{s.get('writer_peak_mb', float('nan')):,.0f} / {s['datasette_peak_mb']:,.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", default="100000,300000,1000000")
    parser.add_argument("--workdir", type=Path, required=False)
    parser.add_argument("--sample-every", type=int, default=50)
    parser.add_argument("--new", type=int, default=1000)
    parser.add_argument("--page-samples", type=int, default=20)
    parser.add_argument("--sizes-only", action="store_true", help="print the sizes of the archive in --workdir and stop")
    parser.add_argument("--search-again", action="store_true",
                        help="measure the two searches again on the archive in --workdir as it stands, and stop")
    parser.add_argument("--csv-again", type=int, metavar="ROUNDS",
                        help="measure the streamed CSV again on the archive in --workdir, with and without "
                             "one plugin (--csv-without), in ROUNDS alternating rounds, and stop")
    parser.add_argument("--csv-without", default=CSV_PLUGIN, metavar="PLUGIN",
                        help=f"(with --csv-again) the plugin left out of the baseline (default {CSV_PLUGIN})")
    parser.add_argument("--export-again", type=int, metavar="ROUNDS",
                        help="measure `fanwen export` of every text again on the archive in --workdir, as shipped "
                             "and without its prefetching thread, in ROUNDS alternating rounds, and stop")
    parser.add_argument("--refresh-again", type=int, metavar="ROUNDS",
                        help="measure the duplicate refresh after --new texts again, in ROUNDS alternating rounds, "
                             "on the archive of each --also-workdir and --workdir, and stop")
    parser.add_argument("--refresh-baselines", nargs="*", choices=[ONE_BY_ONE, ROW_LOOKUP], default=[ONE_BY_ONE, ROW_LOOKUP],
                        help="(with --refresh-again) the earlier versions measured beside the shipped refresh")
    parser.add_argument("--also-workdir", type=Path, action="append", default=[],
                        help="(with --refresh-again or --read-texts) another run's folder, measured first")
    parser.add_argument("--compacted-copy", type=Path, metavar="DIR",
                        help="write the archive in --workdir, compacted as `fanwen compact` leaves it, "
                             "into DIR/archive.db, and stop")
    parser.add_argument("--read-texts", type=float, metavar="SECONDS",
                        help="read the texts table in id order from an emptied page cache, for SECONDS at most, "
                             "in the archive of each --also-workdir and --workdir, and stop (root)")
    parser.add_argument("--refresh", type=Path, help=argparse.SUPPRESS)  # internal: one refresh in this process
    parser.add_argument("--full", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--variant", choices=[SHIPPED, ROW_LOOKUP, ONE_BY_ONE], default=SHIPPED, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.refresh:
        print(json.dumps(refresh_here(options.refresh, options.full, options.variant)))
        return
    workdir = options.workdir or Path.cwd() / "million-archive"
    workdir.mkdir(parents=True, exist_ok=True)
    path, record = workdir / "archive.db", workdir / "steps.json"
    if options.sizes_only:
        print(json.dumps(sizes(path)))
        return
    if options.search_again:
        search_again(path, workdir, options.sample_every)
        return
    if options.refresh_again is not None:
        archives = [folder / "archive.db" for folder in [*options.also_workdir, workdir]]
        if options.refresh_again < 1 or not all(archive.exists() for archive in archives):
            parser.error("--refresh-again takes a number of rounds, 1 or more, and folders of archives already built")
        refresh_again(archives, options.refresh_again, options.new, options.refresh_baselines)
        return
    if options.compacted_copy is not None:
        compacted_copy(path, options.compacted_copy)
        return
    if options.read_texts is not None:
        archives = [folder / "archive.db" for folder in [*options.also_workdir, workdir]]
        if options.read_texts <= 0 or not all(archive.exists() for archive in archives):
            parser.error("--read-texts takes a number of seconds and folders of archives already built")
        read_texts_again(archives, options.read_texts)
        return
    if options.export_again is not None:
        if options.export_again < 1 or not path.exists():
            parser.error("--export-again takes a number of rounds, 1 or more, and a folder whose archive is built")
        export_again(path, workdir, options.export_again)
        return
    if options.csv_again is not None:
        if options.csv_again < 1:
            parser.error("--csv-again takes a number of rounds, 1 or more")
        if not path.exists():
            parser.error(f"--csv-again measures an archive already built: no {path}")
        csv_again(path, workdir, options.csv_again, options.csv_without)
        return
    saved = json.loads(record.read_text()) if record.exists() else {"steps": []}
    steps = saved["steps"]
    print(f"commit {commit()}; workdir {workdir}", flush=True)
    if saved.get("baseline_per_s") is None:
        saved["baseline_per_s"] = baseline_rate(workdir)
        print(f"baseline: the write path without the index, {saved['baseline_per_s']:,.0f} texts/s", flush=True)
    queries = None
    for step in (int(s) for s in options.steps.split(",")):
        if any(s["step"] == step for s in steps):
            print(f"step {step:,}: measured earlier in this run (commit {next(s['commit'] for s in steps if s['step'] == step)})")
            continue
        with Archive(path) as archive:
            figures: dict = {"step": step, "commit": commit(), **ingest_to(archive, step)}
        print(f"\nstep {step:,}: ingested {figures['ingested']:,}", flush=True)
        figures.update(duplicate_round(path, options.new, step))
        print(f"  duplicates: {json.dumps({k: v for k, v in figures.items() if 'refresh' in k})}", flush=True)
        queries = queries or search_export.make_queries(first_texts(path, 1000))
        figures.update(sizes(path))
        figures.update(through_datasette(path, workdir, queries, options.sample_every, options.page_samples))
        steps.append(figures)
        record.write_text(json.dumps(saved, ensure_ascii=False, indent=1), encoding="utf-8")
        print(json.dumps(figures, ensure_ascii=False), flush=True)
    print()
    print(report(steps, saved["baseline_per_s"]))
    print(f"\nqueries: {len(queries or [])}; sample: texts whose id is a multiple of {options.sample_every}; "
          f"{options.page_samples} requests per page; {options.new:,} new texts per duplicate round")


if __name__ == "__main__":
    main()
