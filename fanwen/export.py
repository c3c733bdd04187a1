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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TextIO

from archive import search_index
from archive.database import TEXT_COLUMNS, Archive
from archive.page_prefetch import TextPagesPrefetch

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


BATCH_ROWS = 100


def _row_batches(archive: Archive, selected: Sequence[str], where: ExportFilter, prefetch: bool) -> Iterator[list[tuple]]:
    sql, params = _select(selected, where)
    cursor = archive.db.execute(sql, params)
    # Every text in id order: the pages are read in order, and a thread can read them first.
    if not (prefetch and where == ExportFilter() and "id" in selected):
        while rows := cursor.fetchmany(BATCH_ROWS):
            yield rows
        return
    id_at = selected.index("id")
    with TextPagesPrefetch(archive.path) as ahead:
        while rows := cursor.fetchmany(BATCH_ROWS):
            yield rows
            ahead.reached(rows[-1][id_at])


def iter_rows(
    archive: Archive, columns: Sequence[str] = EXPORT_COLUMNS, where: ExportFilter = ExportFilter(),
    prefetch: bool = True,
) -> Iterator[dict]:
    selected = [c for c in columns if c in TEXT_COLUMNS]
    for rows in _row_batches(archive, selected, where, prefetch):
        for values in rows:
            yield dict(zip(selected, values))


def neutralise_formula(value: object) -> object:
    """A cell a spreadsheet would run as a formula, made inert with a leading apostrophe (reversibly)."""
    return neutralise_row((value,))[0]


def restore_cell(value: str) -> str:
    """The archived characters of a cell from a formula-safe export (inverse of ``neutralise_formula``)."""
    return value[1:] if value.startswith("'") else value


def neutralise_row(values: Iterable[object]) -> list[object]:
    """``neutralise_formula`` of every cell, without a call per cell (a million rows of a dozen cells)."""
    return [("'" + value) if isinstance(value, str) and value.startswith(ESCAPED_PREFIXES) else value
            for value in values]


class _Lines(list):
    """What ``csv.writer`` writes, kept until a batch is complete and written out at once."""

    write = list.append


def csv_rows_writer(
    out: TextIO, columns: Sequence[str], *, excel: bool = False, exact: bool = False,
) -> Callable[[Iterable[Sequence[object]]], None]:
    """Start a CSV file on ``out`` (byte-order mark if ``excel``, then the header); return the function that writes rows.

    Every cell is formula-safe unless ``exact``.  ``fanwen export`` and the
    "CSV for Excel" download of Datasette (datasette_config/plugins/excel_csv.py)
    both write through this, so the two files neutralise the same cells the same way.
    Each call's rows reach ``out`` as one write.
    """
    if excel and exact:
        raise ValueError("an Excel export is always formula-safe")
    lines = _Lines()
    writer = csv.writer(lines)

    def write_rows(rows: Iterable[Sequence[object]]) -> None:
        writer.writerows(rows if exact else map(neutralise_row, rows))
        out.write("".join(lines))
        lines.clear()

    if excel:
        out.write(BOM)
    # A column name is a cell too, and a query's alias can be anything.
    write_rows([columns])
    return write_rows


def csv_row_writer(
    out: TextIO, columns: Sequence[str], *, excel: bool = False, exact: bool = False,
) -> Callable[[Sequence[object]], None]:
    """As ``csv_rows_writer``, for one row at a time."""
    write_rows = csv_rows_writer(out, columns, excel=excel, exact=exact)

    def write_row(values: Sequence[object]) -> None:
        write_rows((values,))

    return write_row


def export_csv(
    archive: Archive, out: TextIO, columns: Sequence[str] = EXPORT_COLUMNS,
    where: ExportFilter = ExportFilter(), excel: bool = False, exact: bool = False,
    prefetch: bool = True,
) -> int:
    """Write one CSV row per text (header first), formula-safe unless ``exact``; return the number of rows."""
    columns = list(columns)
    selected = [c for c in columns if c in TEXT_COLUMNS]
    write_rows = csv_rows_writer(out, columns, excel=excel, exact=exact)
    # A column the texts table lacks is written empty, as before.
    positions = None if selected == columns else [selected.index(c) if c in selected else None for c in columns]
    rows = 0
    for batch in _row_batches(archive, selected, where, prefetch):
        if positions is None:
            write_rows(batch)
        else:
            write_rows([[values[i] if i is not None else None for i in positions] for values in batch])
        rows += len(batch)
    return rows


def export_jsonl(
    archive: Archive, out: TextIO, columns: Sequence[str] = EXPORT_COLUMNS, where: ExportFilter = ExportFilter(),
    prefetch: bool = True,
) -> int:
    """Write one JSON object per line and text; return the number of rows."""
    rows = 0
    for row in iter_rows(archive, columns, where, prefetch):
        if "placeholders" in row and row["placeholders"]:
            row["placeholders"] = json.loads(row["placeholders"])
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        rows += 1
    return rows
