"""The texts rows just ahead of a reader in id order, read by a thread so their pages wait in the page cache.

Writing every text of a large archive out (``fanwen export``) alternates two waits in one
thread: the disk, for the pages of the next rows, then Python, formatting them.  This thread
reads the rows of the id ranges just ahead of the reader with an aggregate query
(``_READ_TEXTS``): SQLite reads every page of those rows, text included, in one step of
the statement, during which Python's GIL is let go, so the disk works while the reader
formats.  When the reader gets there, its pages come from memory.  Only a reader that goes
through the table in id order gains: one that skips rows (a filter) would have the thread read
rows it never asks for.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

AHEAD_IDS = 2000  # how far ahead of the reader (some 20 MB of texts of the usual length)
STEP_IDS = 250  # rows per statement of the thread
# The cast makes SQLite load each text whole, every page of it; length() of the text itself would
# also count its characters, CPU the prefetch does not need.
_READ_TEXTS = "select sum(length(cast(text as blob))) from texts where id > ? and id <= ?"


class TextPagesPrefetch:
    """Use as a context manager around the reading, and tell it each id the reader has reached."""

    def __init__(self, path: str | Path, *, ahead_ids: int = AHEAD_IDS, step_ids: int = STEP_IDS) -> None:
        self.path, self.ahead_ids, self.step_ids = Path(path), ahead_ids, step_ids
        self.position = 0  # the last id the reader has reached
        self.read_to = 0  # the thread has read every row with an id up to this one (past the reader's)
        self.last_id = 0
        self.error: sqlite3.Error | None = None  # the reading goes on without the thread, only slower
        self._changed = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._read_ahead, name="text-pages-prefetch", daemon=True)

    def __enter__(self) -> TextPagesPrefetch:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify_all()
        self._thread.join()

    def reached(self, text_id: int) -> None:
        with self._changed:
            self.position = text_id
            self._changed.notify_all()

    def _read_ahead(self) -> None:
        try:
            connection = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
        except sqlite3.Error as error:
            self.error = error
            return
        try:
            self.last_id = connection.execute("select coalesce(max(id), 0) from texts").fetchone()[0]
            while True:
                with self._changed:
                    while not self._stopped and self.read_to >= min(self.position + self.ahead_ids, self.last_id):
                        self._changed.wait()
                    if self._stopped:
                        return
                    start = max(self.read_to, self.position)
                end = start + self.step_ids
                connection.execute(_READ_TEXTS, (start, end)).fetchone()
                self.read_to = end
        except sqlite3.Error as error:
            self.error = error
        finally:
            connection.close()
