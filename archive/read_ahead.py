"""Rows of one query read by a thread of their own, a few batches ahead of the code that uses them.

Writing every text of a large archive out (``fanwen export``) alternates two waits in one
thread: SQLite reading pages from disk, then Python formatting what was read.  SQLite lets go
of the GIL while it reads, so a second thread, on its own connection, can fetch the next
batches while the first formats this one: the disk's time and the formatting's overlap
instead of adding up.  The rows come in the query's order, each once; memory holds at most
``batches`` batches.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

BATCH_ROWS = 100
_DONE = object()


def rows_read_ahead(
    path: str | Path, sql: str, params: Sequence[object] = (), *, batches: int = 8, batch_rows: int = BATCH_ROWS,
) -> Iterator[list[tuple]]:
    """Batches of ``sql``'s rows over the database at ``path``, read by a thread up to ``batches`` ahead.

    The query runs on a read-only connection of its own, as one statement: one consistent
    snapshot, while crawls may go on writing.  An error in the reading thread is raised here;
    a caller that stops early stops the thread too.
    """
    ready: queue.Queue = queue.Queue(maxsize=batches)
    stop = threading.Event()

    def read() -> None:
        try:
            connection = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
            try:
                cursor = connection.execute(sql, list(params))
                while not stop.is_set():
                    rows = cursor.fetchmany(batch_rows)
                    if not rows:
                        break
                    _put(ready, rows, stop)
            finally:
                connection.close()
        except BaseException as error:  # handed to the consumer, which raises it
            _put(ready, error, stop)
        _put(ready, _DONE, stop)

    reader = threading.Thread(target=read, name="rows-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            item = ready.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while reader.is_alive():  # let a reader blocked on a full queue see the stop
            try:
                ready.get(timeout=0.05)
            except queue.Empty:
                pass
        reader.join()


def _put(ready: queue.Queue, item: object, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            ready.put(item, timeout=0.1)
            return
        except queue.Full:
            continue
