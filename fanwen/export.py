"""Export the archive's clean texts as CSV or JSON Lines, optionally filtered.

CSV is formula-safe by default, because a CSV file is opened by double-click
in a spreadsheet, and a scraped cell beginning "=HYPERLINK(…" would be run
there.  Quoting does not help (Excel evaluates quoted cells too), so a cell that
starts like a formula (= + - @, tab, carriage return, line feed) gets a leading
apostrophe.  That changes characters, so the change is made reversible: a cell
that starts with an apostrophe is prefixed as well, hence every cell starting
with an apostrophe in a safe export had exactly one added, and ``restore_cell``
removes it.  ``exact=True`` (``--exact``) and JSONL carry the characters exactly
as archived, for programs.  ``excel=True`` adds a UTF-8 byte-order mark (Excel
on a Chinese Windows otherwise reads the file as GBK and shows mojibake).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TextIO

from archive import search_index
from archive.database import TEXT_COLUMNS, Archive

EXPORT_COLUMNS: Sequence[str] = tuple(c for c in TEXT_COLUMNS if c not in ("content_hash", "encoding"))
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
# The apostrophe itself is escaped so that the neutralising can be undone exactly.
ESCAPED_PREFIXES = (*FORMULA_PREFIXES, "'")
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
    """A cell a spreadsheet would run as a formula, made inert with a leading apostrophe (reversibly)."""
    if isinstance(value, str) and value.startswith(ESCAPED_PREFIXES):
        return "'" + value
    return value


def restore_cell(value: str) -> str:
    """The archived characters of a cell from a formula-safe export (inverse of ``neutralise_formula``)."""
    return value[1:] if value.startswith("'") else value


def csv_row_writer(
    out: TextIO, columns: Sequence[str], *, excel: bool = False, exact: bool = False,
) -> Callable[[Sequence[object]], None]:
    """Start a CSV file on ``out`` (byte-order mark if ``excel``, then the header); return the function that writes a row.

    Every cell is formula-safe unless ``exact``.  ``fanwen export`` and the
    "CSV for Excel" download of Datasette (datasette_config/plugins/excel_csv.py)
    both write through this, so the two files neutralise the same cells the same way.
    """
    if excel and exact:
        raise ValueError("an Excel export is always formula-safe")
    if excel:
        out.write(BOM)
    writer = csv.writer(out)
    # A column name is a cell too, and a query's alias can be anything.
    writer.writerow(columns if exact else [neutralise_formula(c) for c in columns])

    def write_row(values: Sequence[object]) -> None:
        writer.writerow(values if exact else [neutralise_formula(v) for v in values])

    return write_row


def export_csv(
    archive: Archive, out: TextIO, columns: Sequence[str] = EXPORT_COLUMNS,
    where: ExportFilter = ExportFilter(), excel: bool = False, exact: bool = False,
) -> int:
    """Write one CSV row per text (header first), formula-safe unless ``exact``; return the number of rows."""
    columns = list(columns)
    write_row = csv_row_writer(out, columns, excel=excel, exact=exact)
    rows = 0
    for row in iter_rows(archive, columns, where):
        write_row([row.get(c) for c in columns])
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
