"""The crawl's archive writer in a process of its own.

A crawl's Scrapy process downloads, walks and extracts; writing an article (WARC
record, captures, texts, search index, duplicate signature) costs more CPU than
all of that together (benchmarks/write_path_profile.py).  In the crawl's
process it stalled the reactor; here it runs beside it on another core, fed
through a bounded queue, the way ``fanwen ingest`` drains a distributed crawl.

The child is spawned, not forked: the crawl process runs Twisted and thread
pools, and a fork copies their locks in whatever state they are in.  Items
travel through a one-way pipe whose only write end is the crawl's, so if the
crawl process dies (even halfway through sending an item) the writer reads
end-of-file and stops at once, leaving what it committed, as a crawl killed with
the writer inside it would.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import queue
import signal
import threading
import time
import traceback
from dataclasses import dataclass, replace
from pathlib import Path

from archive.database import SaveCounts
from archive.writer import ArchiveDiskError, ArchiveWriter, ItemOutcome
from pipelines.rules import ExtractionRules
from records.crawl_items import ArticleItem

_POLL_SECONDS = 0.5
# The signals that stop a crawl; the crawl's process handles them, its writer ignores them.
_OWNER_STOPS = (signal.SIGINT, signal.SIGTERM)
# Items travel in lists of up to this many (one pickle, one write, one wake-up of the
# sending thread each), or fewer when the first has waited this long (a slow crawl).
_SEND_BATCH = 16
_SEND_WAIT_SECONDS = 0.5


class ArchiveWriteError(RuntimeError):
    """The writer process failed (its message says why) or died."""

    def __init__(self, message: str, *, disk_full: bool = False) -> None:
        super().__init__(message)
        self.disk_full = disk_full  # no room on the disk (or a file size limit): see ArchiveDiskError


@dataclass(frozen=True)
class _WriterOptions:
    archive_path: str
    warc_prefix: str
    batch_size: int
    forced_encoding: str | None
    clean_rules: ExtractionRules | None


@dataclass(frozen=True)
class _Handled:
    """The writer's acknowledgement of one list of items, its only reply until it closes or fails."""

    items: int  # how many it took in
    outcomes: list[ItemOutcome]  # of those it cleaned, in order: the crawl knew the others' when it sent them
    counts: SaveCounts  # committed so far


def _cleaned_by_writer(item) -> bool:
    return isinstance(item, ArticleItem) and item.clean_in_writer


def _run_writer(options: _WriterOptions, items, replies: multiprocessing.Queue) -> None:
    # Ctrl-C, `timeout` and `systemctl stop` signal every process of the crawl.  The crawl
    # answers by shutting down gracefully, which needs this writer to store what is queued,
    # so the writer leaves stopping to its owner: it ends on the owner's None, or at
    # end-of-file once the owner is gone.  They were blocked since the spawn, so that one sent
    # while this process started did not kill it (_start_with_stop_signals_blocked); unblocked
    # now, such a pending signal is ignored.
    for stop_signal in _OWNER_STOPS:
        signal.signal(stop_signal, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _OWNER_STOPS)
    try:
        writer = ArchiveWriter(
            options.archive_path, warc_prefix=options.warc_prefix, batch_size=options.batch_size,
            forced_encoding=lambda site: options.forced_encoding, clean_rules=options.clean_rules,
        )
        while True:
            # Idle while the crawl fetches: do now what close would otherwise do
            # after the crawl's last page (see ArchiveWriter.work_ahead).
            if not items.poll() and writer.work_ahead():
                continue
            try:
                message = items.recv()
            except EOFError:
                return  # the crawl died: stop as it did, without writing what is pending
            if message is None:
                clusters = writer.close()
                replies.put(("closed", writer.counts, clusters))
                # Everything is written and closed; what is left is tearing the interpreter
                # down (numpy, SQLite, imported modules), which the crawl would wait for in
                # join().  Hand over the reply, then leave at once.
                replies.close()
                replies.join_thread()
                os._exit(0)
            outcomes = []
            for item in message:
                cleaned_here = _cleaned_by_writer(item)
                outcome = writer.add(item)
                if cleaned_here:
                    outcomes.append(outcome)
            # Every list is acknowledged: the crawl's measure of what waits here (backlog()).  The
            # queue pickles later, in a thread of its own: the counts go as a copy.
            replies.put(("handled", _Handled(len(message), outcomes, replace(writer.counts)), None))
    except ArchiveDiskError as error:
        replies.put(("disk_full", str(error), None))
        raise SystemExit(1) from None
    except BaseException as error:
        replies.put(("error", f"{type(error).__name__}: {error}", traceback.format_exc()))
        raise SystemExit(1) from None


def _start_with_stop_signals_blocked(process: multiprocessing.process.BaseProcess) -> None:
    """Start ``process`` with the stop signals blocked, so that one arriving while the child
    starts up (before it can ignore them) waits instead of killing it.

    A spawned child starts with its parent's signal mask; it unblocks them once it ignores them.
    Blocked here only in this thread and only for the spawn: a stop signal meant for the
    crawl meanwhile reaches another of its threads, or waits the few milliseconds.
    """
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _OWNER_STOPS)
    try:
        process.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class ArchiveWriterProcess:
    """``ArchiveWriter``'s interface (``add``, ``counts``, ``close``), with the writing done in a child process.

    ``counts`` lags behind ``add`` by up to one batch: it is what the writer has
    committed.  Up to ``max_pending`` items wait in an outbox that a thread of this
    process pickles into the pipe; beyond that ``add`` blocks, so a writer slower than
    the crawl slows the crawl instead of filling memory.

    With ``clean_rules``, the writer cleans articles handed over uncleaned
    (``ArticleItem.clean_in_writer``) while it has time to spare (``takes_uncleaned``):
    the crawl's process is the busier one.  What the archive makes of such an article
    is known once the writer has cleaned it, so ``add`` cannot return it; it comes
    with the writer's acknowledgement, from ``take_outcomes``.
    """

    def __init__(
        self,
        archive_path: str | Path,
        *,
        warc_prefix: str = "fanwen",
        batch_size: int = 200,
        forced_encoding: str | None = None,
        max_pending: int = 1000,
        clean_rules: ExtractionRules | None = None,
        clean_backlog: int = 0,
    ) -> None:
        context = multiprocessing.get_context("spawn")
        receiving_end, self._sending_end = context.Pipe(duplex=False)
        self._replies = context.Queue()
        options = _WriterOptions(str(archive_path), warc_prefix, batch_size, forced_encoding, clean_rules)
        self._process = context.Process(
            target=_run_writer, args=(options, receiving_end, self._replies), name="fanwen-archive-writer", daemon=True,
        )
        _start_with_stop_signals_blocked(self._process)
        receiving_end.close()  # the child holds the only read end: its death breaks our pipe, ours gives it EOF
        self._outbox: queue.Queue = queue.Queue(maxsize=max(1, max_pending // _SEND_BATCH))
        self._batch: list = []
        self._batch_started = time.monotonic()
        self._sender = threading.Thread(target=self._send_items, name="fanwen-archive-sender", daemon=True)
        self._sender.start()
        atexit.register(self._hang_up_at_exit)
        self.counts = SaveCounts()
        self.clusters: int | None = None
        self._clean_backlog = clean_backlog if clean_rules is not None else 0  # 0: it never takes them
        self._outcomes: list[ItemOutcome] = []  # acknowledged, not yet taken
        self._added = 0  # items given to add()
        self._handled = 0  # of which the writer has taken in
        # The writer's failure, once reported: raised again by every later call, whichever
        # of them read the report (backlog() too), so that it always reaches the crawl.
        self._failure: ArchiveWriteError | None = None

    def _send_items(self) -> None:
        while True:
            item = self._outbox.get()
            try:
                self._sending_end.send(item)
            except OSError:
                return  # the writer is gone; add() and close() report why
            if item is None:
                return

    def add(self, item) -> ItemOutcome | None:
        """Queue ``item`` for the writer; returns what the archive makes of it, or None when only the
        writer will know (see ``take_outcomes``)."""
        if self._failure is not None:
            raise self._failure
        outcome = None if _cleaned_by_writer(item) else ItemOutcome.of(item)
        self._added += 1
        self._batch.append(item)
        if len(self._batch) >= _SEND_BATCH or time.monotonic() - self._batch_started > _SEND_WAIT_SECONDS:
            self._send_batch()
        return outcome

    def take_outcomes(self) -> list[ItemOutcome]:
        """The outcomes ``add`` could not return, in the order of their items, as far as the writer has
        acknowledged them (since the last call)."""
        outcomes, self._outcomes = self._outcomes, []
        return outcomes

    def takes_uncleaned(self, articles: int) -> bool:
        """Whether to hand ``articles`` over uncleaned: with them, at most ``clean_backlog`` items would wait for the writer."""
        return self._clean_backlog > 0 and self.backlog() + articles <= self._clean_backlog

    def backlog(self) -> int:
        """Items added that the writer has not taken in yet (queued here, in the pipe, or in its hands)."""
        self._read_replies()
        return self._added - self._handled

    def _send_batch(self) -> None:
        batch, self._batch, self._batch_started = self._batch, [], time.monotonic()
        self._put(batch)

    def _put(self, message) -> None:
        self._read_replies()
        while True:
            try:
                self._outbox.put(message, timeout=_POLL_SECONDS)
                return
            except queue.Full:
                self._check_alive()

    def close(self) -> int | None:
        """Let the writer store what is queued, refresh duplicates and stop; returns the number of clusters."""
        if self._batch:
            self._send_batch()
        self._put(None)
        while self._process.is_alive() or not self._replies.empty():
            if self._read_replies(timeout=_POLL_SECONDS) == "closed":
                break
        else:
            self._check_alive()
        self._process.join()
        self._sender.join()
        self._sending_end.close()
        self._replies.close()
        atexit.unregister(self._hang_up_at_exit)
        return self.clusters

    def _hang_up_at_exit(self) -> None:
        """At exit without ``close`` (a forced stop): end the writer by end-of-file, as if this process had died.

        multiprocessing ends daemon children at exit with SIGTERM, which the writer ignores,
        then waits for them: without end-of-file both processes would wait for ever.
        """
        self._sending_end.close()

    def _read_replies(self, timeout: float | None = None) -> str | None:
        """Apply the writer's replies that have arrived; returns the kind of the last one."""
        if self._failure is not None:
            raise self._failure
        kind = None
        if timeout is None and self._replies.empty():
            return kind  # the common case, without get_nowait()'s lock
        while True:
            try:
                kind, value, extra = self._replies.get(timeout=timeout) if timeout else self._replies.get_nowait()
            except queue.Empty:
                return kind
            timeout = None
            if kind in ("disk_full", "error"):
                self._process.join()
                self._failure = ArchiveWriteError(value, disk_full=True) if kind == "disk_full" else \
                    ArchiveWriteError(f"{value}\n{extra}")
                raise self._failure
            if kind == "handled":
                self._handled += value.items
                self._outcomes.extend(value.outcomes)
                self.counts = value.counts
                continue
            self.counts, self.clusters = value, extra  # closed
            return kind

    def _check_alive(self) -> None:
        if not self._process.is_alive():
            self._read_replies()
            raise ArchiveWriteError(f"the archive writer process exited with code {self._process.exitcode}")
