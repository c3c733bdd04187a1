"""The streamed CSV of every text, with the pages of the next texts read ahead by a thread.

Datasette streams ``texts.csv?_stream=on`` a page of rows at a time: it waits for a page's
rows to be read from disk, then writes them, then asks for the next page.  On an archive
larger than memory the disk's time and the writing's add up.  This wrapper runs, for such a
stream, the thread ``fanwen export`` uses (archive/page_prefetch.py): it reads the rows just
ahead of the stream's position, so that when Datasette asks for them their pages are in the
page cache.  The position is the id at the start of each row Datasette writes (the texts
table's first column).  Only the whole table in id order gains, so only that stream gets the
thread: any filter, search, sort or column choice leaves the request as it was.  The bytes
sent are never changed.
"""

from __future__ import annotations

import urllib.parse

from datasette import hookimpl

from archive.page_prefetch import TextPagesPrefetch

TABLE = "texts"
# Query-string arguments that leave the stream the whole table in id order.
_WHOLE_TABLE_ARGS = frozenset({"_stream", "_size", "_dl", "_header", "_nocount", "_nofacet"})
_TELL_EVERY = 50  # rows between two positions given to the thread


def streamed_database(datasette, scope: dict) -> str | None:
    """The file of the database whose texts table this request streams whole, in id order, as CSV; else None."""
    if scope.get("type") != "http":
        return None
    parts = scope.get("path", "").strip("/").split("/")
    if len(parts) != 2 or parts[1] != f"{TABLE}.csv":
        return None
    args = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    if not args.get("_stream") or not set(args) <= _WHOLE_TABLE_ARGS:
        return None
    try:
        database = datasette.get_database(route=parts[0])
    except KeyError:
        return None
    return database.path if database.path and database.is_mutable else None


def position_telling_send(send, prefetch: TextPagesPrefetch):
    """``send`` that passes every message on and tells ``prefetch`` the id of the rows going out."""
    rows = 0

    async def send_telling(message: dict) -> None:
        nonlocal rows
        if message["type"] == "http.response.body":
            rows += 1
            if rows % _TELL_EVERY == 0:
                head = message.get("body", b"")[:20].partition(b",")[0]
                if head.isdigit():
                    prefetch.reached(int(head))
        await send(message)

    return send_telling


@hookimpl(tryfirst=True)
def asgi_wrapper(datasette):
    def wrap(app):
        async def prefetch_the_texts_stream(scope, receive, send):
            path = streamed_database(datasette, scope)
            if path is None:
                await app(scope, receive, send)
                return
            with TextPagesPrefetch(path) as prefetch:
                await app(scope, receive, position_telling_send(send, prefetch))

        return prefetch_the_texts_stream

    return wrap
