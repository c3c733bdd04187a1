"""Chinese search, ingest and CSV export at 10k / 30k / 100k texts, through Datasette's HTTP API.

    python benchmarks/search_export.py [--sizes 10000,30000,100000] [--workdir DIR]

One archive grows through ``Archive.save_texts`` (the crawler's write path, so
the full-text index is kept current as it goes) to each size in turn.  At each
size it reports:

- ingest texts/s with the index, against the same ingest without it (baseline,
  measured on the first size in a scratch archive in this run);
- index size against the UTF-8 bytes of title + text, before and after
  ``optimize``, and the time to build the index from scratch per 1,000 texts;
- ranked search (the ``search`` canned query: count + top 20) and the table
  search box (``texts.json?_search=``) over HTTP against ``fanwen serve``'s
  Datasette: p50 / p95 / max, errors (the SQL time limit shows as one);
- correctness of both as set precision and set recall, per query, against the
  ids a substring scan in Python finds (every term in the title or the text,
  the semantics of LIKE / ``instr``), as mean and minimum over the query set;
  every hit id is read, not a count (see ``ranked_hit_ids`` and
  ``box_hit_ids`` for how); also wrong zero-hit answers, and whether the
  ranked query's ``total`` and the box's row count equal the number of ids;
- streamed CSV of every row (``texts.csv?_stream=on&_size=max``): MB/s, rows
  parsed back, and whether the file ends in Datasette's "CSV contains more
  than" truncation line; and ``fanwen export`` MB/s.

Then one table of every size's speed, size and export figures (also printed from a
saved run by ``--table-from DIR/results.json``).  Texts come from replica.corpus,
joined so that their lengths follow a log-normal (median 3,200 characters) clipped
to 1,500–8,000.  ``benchmarks/million_archive.py`` measures the same at up to a
million texts; extrapolating these sizes to that one proved wrong in both directions.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from archive import search_index  # noqa: E402
from archive.database import Archive, TextToArchive  # noqa: E402
from fanwen.export import export_csv  # noqa: E402
from fanwen.serve import datasette_arguments, metadata_for  # noqa: E402
from records.texts import ExtractedText  # noqa: E402
from replica.corpus import generate_texts  # noqa: E402

BATCH = 500
CHUNK = 5000  # texts generated per corpus call (titles are unique within a call)
SITES = ("huabo", "deyu", "wenmi", "gongwen")


def corpus(count: int, seed: int = 5) -> list[tuple[str, str, str, str, str]]:
    """(site, title, published, genre, text) rows with log-normal lengths in [1500, 8000]."""
    rng = random.Random(seed)
    out: list[tuple[str, str, str, str, str]] = []
    chunk_no = 0
    pool: list = []
    while len(out) < count:
        if len(pool) < 4:
            pool.extend(generate_texts(CHUNK, seed=seed * 1000 + chunk_no, prefix=f"c{chunk_no}-"))
            chunk_no += 1
        target = min(8000, max(1500, int(rng.lognormvariate(math.log(3200), 0.5))))
        base = pool.pop()
        paragraphs = list(base.paragraphs)
        while sum(len(p) + 1 for p in paragraphs) < target and pool:
            paragraphs.extend(pool.pop().paragraphs)
        text = ""
        for paragraph in paragraphs:
            if len(text) >= 1500 and len(text) + len(paragraph) + 1 > target:
                break
            text = f"{text}\n{paragraph}" if text else paragraph
        out.append((SITES[len(out) % len(SITES)], base.title, base.published.strftime("%Y-%m-%d"), base.genre, text[:8000]))
    return out


def to_archive(rows, start: int) -> list[TextToArchive]:
    now = "2026-11-28T00:00:00+00:00"
    return [
        TextToArchive(site, "bench", now, ExtractedText(
            url=f"http://bench.invalid/{site}/{start + i}.html", title=title, published=published, text=text,
            truncated=False, genre=genre))
        for i, (site, title, published, genre, text) in enumerate(rows)
    ]


def ingest(archive: Archive, rows, start: int) -> float:
    began = time.perf_counter()
    for offset in range(0, len(rows), BATCH):
        archive.save_texts(to_archive(rows[offset:offset + BATCH], start + offset))
    return time.perf_counter() - began


def make_queries(texts: list[str], seed: int = 7) -> list[tuple[str, str]]:
    """(class, query) pairs drawn from the first texts: 1–6 characters, common and rare, several words, none."""
    rng = random.Random(seed)
    sample = texts[:1000]
    runs = [run for text in sample for run in search_index.CJK_RUN.findall(text) if len(run) >= 6]
    counts: dict[str, int] = {}
    for text in sample:
        for ch in set(text):
            if search_index.CJK_RUN.fullmatch(ch):
                counts[ch] = counts.get(ch, 0) + 1
    by_frequency = sorted(counts, key=counts.get, reverse=True)
    queries: list[tuple[str, str]] = []
    queries += [("1char-common", ch) for ch in by_frequency[:10]]
    queries += [("1char-rare", ch) for ch in by_frequency[-10:]]
    seen = {q for _, q in queries}
    for length, number in ((2, 30), (3, 15), (4, 20), (5, 10), (6, 10)):
        made = 0
        while made < number:
            run = rng.choice(runs)
            start = rng.randrange(len(run) - length + 1)
            term = run[start:start + length]
            if term not in seen:
                seen.add(term)
                queries.append((f"{length}char", term))
                made += 1
    terms = [q for c, q in queries if c in ("2char", "4char")]
    queries += [("multi", f"{rng.choice(terms)} {rng.choice(terms)}") for _ in range(15)]
    queries += [("zero", z) for z in ("元宇宙链", "量子纠缠", "鲸落海底", "龘靐齉")]
    return queries


def truth(texts: list[tuple[str, str]], query: str) -> set[int]:
    terms = query.split()
    return {i + 1 for i, (title, text) in enumerate(texts) if all(t in title or t in text for t in terms)}


def get_json(url: str) -> tuple[float, dict]:
    began = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            payload = json.load(response)
    except urllib.error.HTTPError as error:
        payload = {"error": error.read().decode("utf-8", "replace")[:200]}
    return (time.perf_counter() - began) * 1000, payload


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


# Datasette's max_returned_rows (its default; fanwen.serve does not change it):
# the most rows one JSON page holds.
PAGE_ROWS = 1000

RANKED_TOTAL_MAX = 10_000  # the ``search`` canned query's total counts up to this many texts
# The ranked query's match clause, as the ``search`` canned query writes it
# (datasette_config/metadata.yml), one page of rowids at a time.
RANKED_MATCH_PAGE_SQL = (
    "select rowid from texts_fts where texts_fts match cjk_fts_query(:q) "
    f"and rowid > :after order by rowid limit {PAGE_ROWS}"
)


def ranked_hit_ids(base: str, query: str) -> set[int] | None:
    """Every id the ranked search matches, read through Datasette's JSON (None on an error).

    The ``search`` canned query returns only its top 20 rows (``limit 20`` in its
    SQL) and the ``total`` of its match; the rest of its result set cannot be
    paged through.  So the ids are read with the canned query's own match clause
    (``texts_fts match cjk_fts_query(:q)``), run as SQL through the same
    Datasette, ``PAGE_ROWS`` rowids a page, until a page comes back short.
    """
    ids: set[int] = set()
    after = 0
    while True:
        params = urllib.parse.urlencode({"sql": RANKED_MATCH_PAGE_SQL, "q": query, "after": after, "_shape": "arrays"})
        _, page = get_json(f"{base}/archive.json?{params}")
        if page.get("error") or "rows" not in page:
            return None
        rows = [row[0] for row in page["rows"]]
        ids.update(rows)
        if len(rows) < PAGE_ROWS:
            return ids
        after = rows[-1]


def box_hit_ids(base: str, query: str) -> set[int] | None:
    """Every id the table search box lists, following Datasette's ``next_url`` pages (None on an error).

    Facets and the count are switched off for these pages (``_nofacet``,
    ``_nocount``): they do not change which rows are listed, and the timed
    request measures them.
    """
    params = urllib.parse.urlencode({"_search": query, "_size": "max", "_col": "id", "_nofacet": 1, "_nocount": 1,
                                     "_shape": "objects"})
    url: str | None = f"{base}/archive/texts.json?{params}"
    ids: set[int] = set()
    while url:
        _, page = get_json(url)
        if page.get("error") or "rows" not in page:
            return None
        ids.update(row["id"] for row in page["rows"])
        url = page.get("next_url")
    return ids


def set_quality(found: set[int], expected: set[int]) -> tuple[float, float]:
    """(precision, recall) of one query's result set; an empty result has precision 1, an empty truth recall 1."""
    right = len(found & expected)
    return (right / len(found) if found else 1.0, right / len(expected) if expected else 1.0)


def quality_summary(prefix: str, pairs: list[tuple[float, float]]) -> dict:
    precision, recall = [p for p, _ in pairs], [r for _, r in pairs]
    return {
        f"{prefix}_precision_mean": statistics.mean(precision) if pairs else None,
        f"{prefix}_precision_min": min(precision) if pairs else None,
        f"{prefix}_recall_mean": statistics.mean(recall) if pairs else None,
        f"{prefix}_recall_min": min(recall) if pairs else None,
        f"{prefix}_queries_scored": len(pairs),
    }


def measure_search(base: str, queries, texts) -> dict:
    ranked_ms, box_ms, errors = [], [], 0
    ranked_quality, box_quality, top_precision = [], [], []
    wrong_zero, ranked_wrong_total, box_wrong_count, top_outside = 0, 0, 0, 0
    for _, query in queries:
        expected = truth(texts, query)
        q = urllib.parse.quote(query)
        get_json(f"{base}/archive/search.json?q={q}&_shape=objects")  # warm
        ms, ranked = get_json(f"{base}/archive/search.json?q={q}&_shape=objects")
        ranked_ms.append(ms)
        ms, box = get_json(f"{base}/archive/texts.json?_search={q}&_size=20&_shape=objects")
        box_ms.append(ms)
        if ranked.get("error") or box.get("error"):
            errors += 1
            continue
        # Quality, untimed: every id of both result sets.
        rows = ranked.get("rows", [])
        total = rows[0]["total"] if rows else 0
        top = {row["id"] for row in rows}
        ranked_ids = ranked_hit_ids(base, query)
        box_ids = box_hit_ids(base, query)
        if ranked_ids is None or box_ids is None:
            errors += 1
            continue
        if expected and total == 0:
            wrong_zero += 1
        # The canned query counts up to RANKED_TOTAL_MAX and says "more than" beyond.
        if isinstance(total, str):
            ranked_wrong_total += total != f"more than {RANKED_TOTAL_MAX:,}" or len(ranked_ids) <= RANKED_TOTAL_MAX
        else:
            ranked_wrong_total += total != len(ranked_ids)
        top_outside += not top <= ranked_ids
        top_precision.append(set_quality(top, expected)[0])
        ranked_quality.append(set_quality(ranked_ids, expected))
        box_quality.append(set_quality(box_ids, expected))
        box_wrong_count += box.get("filtered_table_rows_count") != len(box_ids)
    return {
        "ranked_p50": percentile(ranked_ms, 0.5), "ranked_p95": percentile(ranked_ms, 0.95),
        "ranked_max": max(ranked_ms),
        "box_p50": percentile(box_ms, 0.5), "box_p95": percentile(box_ms, 0.95), "box_max": max(box_ms),
        "errors": errors, "wrong_zero_hit": wrong_zero, "queries": len(queries),
        **quality_summary("ranked", ranked_quality), **quality_summary("box", box_quality),
        "ranked_top20_precision_min": min(top_precision) if top_precision else None,
        "ranked_total_not_ids": ranked_wrong_total, "ranked_top20_outside_ids": top_outside,
        "box_count_not_ids": box_wrong_count,
    }


def measure_csv(base: str, expected_rows: int) -> dict:
    with tempfile.TemporaryFile() as sink:
        began = time.perf_counter()
        with urllib.request.urlopen(f"{base}/archive/texts.csv?_stream=on&_size=max", timeout=600) as response:
            while chunk := response.read(1 << 20):
                sink.write(chunk)
        seconds = time.perf_counter() - began
        size = sink.tell()
        sink.seek(0)
        reader = csv.reader(io.TextIOWrapper(sink, encoding="utf-8", newline=""))
        next(reader)
        rows = 0
        last: list[str] = []
        for row in reader:
            rows += 1
            last = row
    cut = bool(last) and last[0].startswith("CSV contains more than")
    return {"csv_mb_s": size / seconds / 1e6, "csv_mb": size / 1e6, "csv_s": seconds,
            "csv_rows": rows, "csv_complete": rows == expected_rows and not cut}


def index_stats(archive: Archive) -> dict:
    db = archive.db
    index = db.execute(f"select sum(pgsize) from dbstat where name like '{search_index.FTS_TABLE}%'").fetchone()[0]
    text = db.execute("select sum(length(cast(title as blob)) + length(cast(text as blob))) from texts").fetchone()[0]
    return {"index_mb": index / 1e6, "text_mb": text / 1e6, "index_ratio": index / text}


def rebuild_seconds(archive: Archive) -> float:
    """Build the same index from scratch in a scratch table (insert + optimize)."""
    db = archive.db
    began = time.perf_counter()
    with db.atomic():
        db.execute(search_index.CREATE_INDEX_SQL.replace(search_index.FTS_TABLE, "scratch_fts"))
        db.conn.executemany(
            "insert into scratch_fts (rowid, title, text) values (?, ?, ?)",
            ((i, search_index.index_text(t), search_index.index_text(x))
             for i, t, x in db.execute("select id, title, text from texts")),
        )
        db.execute("insert into scratch_fts (scratch_fts) values ('optimize')")
    seconds = time.perf_counter() - began
    db.execute("drop table scratch_fts")
    return seconds


def serve(archive_path: Path, port: int, plugins_dir: Path | None = None, log: Path | None = None) -> subprocess.Popen:
    """``fanwen serve``'s Datasette on ``port`` (with the plugins of ``plugins_dir`` instead of the shipped ones;
    its standard error appended to ``log``, if given)."""
    metadata = archive_path.with_suffix(".metadata.yml")
    import yaml

    metadata.write_text(yaml.safe_dump(metadata_for(archive_path), allow_unicode=True), encoding="utf-8")
    arguments = datasette_arguments(archive_path, metadata, port=port)
    if plugins_dir is not None:
        arguments[arguments.index("--plugins-dir") + 1] = str(plugins_dir)
    errors = open(log, "ab") if log is not None else subprocess.DEVNULL
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "datasette", *arguments],
            stdout=subprocess.DEVNULL, stderr=errors,
        )
    finally:
        if log is not None:
            errors.close()
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json", timeout=2).read()
            return process
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.3)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SPEED_TABLE_HEADER = (
    "| texts | ingest texts/s with index (ratio to no index) | index MB (per 1,000 texts) | index / UTF-8 text "
    "| ranked search p50 / p95 / max ms | table search box p50 / p95 / max ms | errors, wrong zero-hit "
    "| CSV via Datasette: MB, MB/s, rows, complete | `fanwen export` MB/s |\n"
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def speed_table(results: list[dict]) -> str:
    """One row per archive size; the ingest of each size is over the texts added since the previous one."""
    rows = [SPEED_TABLE_HEADER]
    for r in results:
        rows.append(
            f"| {r['size']:,} | {r['ingest_per_s']:.0f} ({r['ingest_ratio']:.2f}) "
            f"| {r['index_mb']:,.0f} ({r['index_mb_per_1k']:.1f}) | {r['index_ratio']:.2f}× "
            f"| {r['ranked_p50']:.1f} / {r['ranked_p95']:.1f} / {r['ranked_max']:.1f} "
            f"| {r['box_p50']:.0f} / {r['box_p95']:.0f} / {r['box_max']:.0f} | {r['errors']}, {r['wrong_zero_hit']} "
            f"| {r['csv_mb']:,.0f}, {r['csv_mb_s']:.1f}, {r['csv_rows']:,}, {'yes' if r['csv_complete'] else 'NO'} "
            f"| {r['export_cli_mb_s']:.1f} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,30000,100000")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--table-from", type=Path, metavar="RESULTS_JSON",
                        help="print the speed table of a saved run's results.json and stop")
    options = parser.parse_args()
    if options.table_from:
        print(speed_table(json.loads(options.table_from.read_text(encoding="utf-8"))))
        return
    sizes = [int(s) for s in options.sizes.split(",")]
    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="fanwen-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)

    began = time.perf_counter()
    rows = corpus(sizes[-1])
    print(f"corpus: {len(rows):,} texts in {time.perf_counter() - began:.0f} s; "
          f"chars p10/p50/p90 {[percentile([len(r[4]) for r in rows], s) for s in (0.1, 0.5, 0.9)]}", flush=True)
    texts = [(r[1], r[4]) for r in rows]
    queries = make_queries([r[4] for r in rows])

    # Baseline: the same write path with the index switched off, on the first size.
    baseline_path = workdir / "baseline.db"
    baseline_path.unlink(missing_ok=True)
    with Archive(baseline_path) as plain:
        plain._index_texts = lambda *args: None  # type: ignore[method-assign]
        plain._unindex_text = lambda *args: None  # type: ignore[method-assign]
        plain_rate = sizes[0] / ingest(plain, rows[:sizes[0]], 0)
    baseline_path.unlink()
    print(f"baseline ingest without index: {plain_rate:,.0f} texts/s", flush=True)

    archive_path = workdir / "archive.db"
    for leftover in workdir.glob("archive.db*"):
        leftover.unlink()
    results = []
    done = 0
    for size in sizes:
        with Archive(archive_path) as archive:
            seconds = ingest(archive, rows[done:size], done)
            rate = (size - done) / seconds
            live = index_stats(archive)
            began = time.perf_counter()
            archive.db.execute(f"insert into {search_index.FTS_TABLE} ({search_index.FTS_TABLE}) values ('optimize')")
            optimize_s = time.perf_counter() - began
            optimized = index_stats(archive)
            rebuild = rebuild_seconds(archive) if size == sizes[0] else None
            archive.db.execute("vacuum") if size == sizes[0] else None
        done = size
        port = free_port()
        server = serve(archive_path, port)
        try:
            base = f"http://127.0.0.1:{port}"
            search = measure_search(base, queries, texts[:size])
            exported = measure_csv(base, size)
        finally:
            server.terminate()
            server.wait(timeout=30)
        with Archive(archive_path) as archive, open(workdir / "export.csv", "w", encoding="utf-8", newline="") as out:
            began = time.perf_counter()
            export_csv(archive, out)
            cli_s = time.perf_counter() - began
        cli_mb_s = (workdir / "export.csv").stat().st_size / cli_s / 1e6
        (workdir / "export.csv").unlink()
        result = {
            "size": size, "ingest_per_s": rate, "ingest_ratio": rate / plain_rate,
            "index_mb_live": live["index_mb"], "index_ratio_live": live["index_ratio"],
            "index_mb": optimized["index_mb"], "text_mb": optimized["text_mb"], "index_ratio": optimized["index_ratio"],
            "index_mb_per_1k": optimized["index_mb"] / size * 1000, "optimize_s": optimize_s,
            "rebuild_s_per_1k": rebuild / size * 1000 if rebuild else None,
            **search, **exported, "export_cli_mb_s": cli_mb_s,
        }
        results.append(result)
        print(json.dumps(result, ensure_ascii=False), flush=True)
        print(f"search quality at {size:,} texts, {result['queries']} queries, set precision / recall against the "
              f"substring scan, mean (min): ranked search (every id its match selects) "
              f"{result['ranked_precision_mean']:.4f} ({result['ranked_precision_min']:.4f}) / "
              f"{result['ranked_recall_mean']:.4f} ({result['ranked_recall_min']:.4f}); "
              f"search box (every id of every page) "
              f"{result['box_precision_mean']:.4f} ({result['box_precision_min']:.4f}) / "
              f"{result['box_recall_mean']:.4f} ({result['box_recall_min']:.4f}); "
              f"ranked top-20 precision min {result['ranked_top20_precision_min']:.4f}; errors {result['errors']}, "
              f"wrong zero-hit {result['wrong_zero_hit']}, ranked total ≠ ids {result['ranked_total_not_ids']}, "
              f"top 20 outside ids {result['ranked_top20_outside_ids']}, box count ≠ ids {result['box_count_not_ids']}",
              flush=True)

    print("\n" + speed_table(results))
    (workdir / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nresults in {workdir / 'results.json'}")


if __name__ == "__main__":
    main()
