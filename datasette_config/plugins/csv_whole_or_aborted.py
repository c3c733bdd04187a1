"""A CSV that Datasette fails to finish is aborted, never ended as if it were whole.

Datasette 0.65 catches an error while it writes a CSV (a later page's query past
``sql_time_limit_ms`` on a slow disk, a database error), writes the error's message as
the body's last bytes, and ends the response normally: HTTP 200, a clean end of the
chunked body, a file that looks complete.  At a million texts one streamed CSV of every
row ended that way after 674,000 rows
(docs/benchmarks.md, "One archive of a million texts (issue 20)").

Datasette writes a CSV one row per part, each row as Python's ``csv`` module ends it
(``\\r\\n``), and after the last row an empty part; on an error it writes the message
instead, as it is.  So a CSV whose last part with any bytes does not end a row was cut.
(An error with an empty message cannot be told from the end this way; Datasette's query
errors and time-outs all carry one.)  This wrapper then passes that part on (the
message, for whoever opens the partial file) and raises instead of ending the body: the
server closes the connection without the last chunk, which HTTP clients report as an
incomplete download (curl exits with "transfer closed with outstanding read data
remaining"; a browser marks the download failed).

It wraps Datasette's own sends (``tryfirst``: the innermost wrapper), so it sees each
row as Datasette wrote it, before plugins/body_chunks.py gathers them.
"""

from __future__ import annotations

import sys

from datasette import hookimpl

ROW_END = b"\r\n"  # csv.writer's default line terminator, which Datasette's CSV keeps


class CsvCutShort(Exception):
    """Datasette stopped writing a CSV before its last row and would have ended it as whole."""


def is_csv_request(scope: dict) -> bool:
    if scope.get("type") != "http":
        return False
    query = scope.get("query_string", b"")
    if b"_trace=" in query:  # an HTML page around the CSV, not a CSV
        return False
    return scope.get("path", "").endswith(".csv") or b"_format=csv" in query


class RowCheckedSend:
    """``send`` for one CSV response that holds back the end of a body whose last part ends no row.

    The error is raised by the wrapper once Datasette returns (``cut_short``), not from
    inside this send: Datasette would catch it there and start an error page in the
    middle of the CSV.
    """

    def __init__(self, send) -> None:
        self.send = send
        self.status: int | None = None
        self.last_part: bytes | None = None
        self.cut_short: str | None = None  # the end of the body, when it was held back

    async def __call__(self, message: dict) -> None:
        if message["type"] == "http.response.start":
            self.status = message.get("status")
        elif message["type"] == "http.response.body" and self.status == 200:
            body = message.get("body", b"")
            if body:
                self.last_part = body
            if not message.get("more_body", False):
                last = self.last_part  # None: an empty CSV (``_header=off``, no rows)
                if last is not None and not last.endswith(ROW_END):
                    self.cut_short = last[-300:].decode("utf-8", "replace")
                    if body:
                        await self.send({**message, "more_body": True})
                    return
        await self.send(message)


@hookimpl(tryfirst=True)
def asgi_wrapper(datasette):
    def wrap(app):
        async def abort_a_cut_csv(scope, receive, send):
            if not is_csv_request(scope):
                await app(scope, receive, send)
                return
            checked = RowCheckedSend(send)
            await app(scope, receive, checked)
            if checked.cut_short is not None:
                path = scope.get("path", "")
                sys.stderr.write(f"CSV {path} cut short, aborted instead of ended: {checked.cut_short}\n")
                sys.stderr.flush()
                raise CsvCutShort(f"{path}: {checked.cut_short}")

        return abort_a_cut_csv

    return wrap
