"""Export the archive's clean texts."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import TextIO

from .archive import TEXT_COLUMNS, Archive

EXPORT_COLUMNS: Sequence[str] = tuple(c for c in TEXT_COLUMNS if c not in ("content_hash", "encoding"))


def export_csv(archive: Archive, out: TextIO, columns: Sequence[str] = EXPORT_COLUMNS) -> int:
    """Write one CSV row per text (header first); return the number of rows."""
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    rows = 0
    for row in archive.iter_texts(columns):
        writer.writerow(row)
        rows += 1
    return rows
