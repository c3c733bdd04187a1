"""Export the archive's clean texts as CSV or JSON Lines, optionally filtered.

``excel=True`` is for spreadsheet users: UTF-8 with a byte-order mark (Excel on
a Chinese Windows otherwise reads the file as GBK and shows mojibake), and any
cell that starts like a formula (= + - @, or a tab / carriage return) gets a
leading apostrophe, so a text that happens to begin with "=HYPERLINK(…" is shown,
not run.  Only the Excel variant is altered; plain CSV and JSONL carry the
characters exactly as archived.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TextIO

from . import search_index
from .archive import TEXT_COLUMNS, Archive

EXPORT_COLUMNS: Sequence[str] = tuple(c for c in TEXT_COLUMNS if c not in ("content_hash", "encoding"))
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


@dataclass(frozen=True)
class ExportFilter:
    site: str | None = None
    genre: str | None = None
    since: str | None = None  # published on or after this date (YYYY or YYYY-MM or YYYY-MM-DD)
    search: str | None = None  # same query language as the Datasette search box


def _select(columns: Sequence[str], where: ExportFilter) -> tuple[str, list]:
    clauses, params = [], []
    if where.site:
        clauses.append("site = ?")
        params.append(where.site)
    if where.genre:
        clauses.append("genre = ?")
        params.append(where.genre)
    if where.since:
        clauses.append("published >= ?")
        params.append(where.since)
    if where.search:
        clauses.append(f"id in (select rowid from {search_index.FTS_TABLE} where {search_index.FTS_TABLE} match ?)")
        params.append(search_index.fts_query(where.search))
    sql = f"select {', '.join(columns)} from texts"
    if clauses:
        sql += " where " + " and ".join(clauses)
    return sql + " order by id", params


def iter_rows(archive: Archive, columns: Sequence[str] = EXPORT_COLUMNS, where: ExportFilter = ExportFilter()) -> Iterator[dict]:
    selected = [c for c in columns if c in TEXT_COLUMNS]
    sql, params = _select(selected, where)
    for values in archive.db.execute(sql, params):
        yield dict(zip(selected, values))


def neutralise_formula(value: object) -> object:
    """A cell Excel would run as a formula, made inert with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def export_csv(
    archive: Archive, out: TextIO, columns: Sequence[str] = EXPORT_COLUMNS,
    where: ExportFilter = ExportFilter(), excel: bool = False,
) -> int:
    """Write one CSV row per text (header first); return the number of rows."""
    if excel:
        out.write(BOM)
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    rows = 0
    for row in iter_rows(archive, columns, where):
        writer.writerow({k: neutralise_formula(v) for k, v in row.items()} if excel else row)
        rows += 1
    return rows


def export_jsonl(
    archive: Archive, out: TextIO, columns: Sequence[str] = EXPORT_COLUMNS, where: ExportFilter = ExportFilter(),
) -> int:
    """Write one JSON object per line and text; return the number of rows."""
    rows = 0
    for row in iter_rows(archive, columns, where):
        if "placeholders" in row and row["placeholders"]:
            row["placeholders"] = json.loads(row["placeholders"])
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        rows += 1
    return rows
