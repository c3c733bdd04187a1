"""Response bodies sent in chunks of at least ``BODY_CHUNK_BYTES``, not one send per CSV row.

Datasette's streamed CSV (``texts.csv?_stream=on``) awaits one ASGI send per row: the
server frames each row as its own HTTP chunk and the client parses each frame, for
every one of a million rows.  This wrapper gathers the parts of a body that are not its
last and passes them on once they reach ``BODY_CHUNK_BYTES``; the last part flushes
what is left.  Only the size of the pieces changes, never the bytes or their order, and
a body of one part (every HTML and JSON page) goes through as it was.  When the app
raises midway, what it had written is passed on before the error goes up to the server,
which then closes the response without its final chunk: the client gets every byte
written and still sees a body cut off (plugins/csv_whole_or_aborted.py raises so for a
CSV that Datasette could not finish).
"""

from __future__ import annotations

from datasette import hookimpl

BODY_CHUNK_BYTES = 256 * 1024


class GatheringSend:
    """``send`` for one response, passing body parts on in runs of at least BODY_CHUNK_BYTES."""

    def __init__(self, send) -> None:
        self.send = send
        self.pending: list[bytes] = []
        self.pending_bytes = 0

    async def __call__(self, message: dict) -> None:
        if message["type"] != "http.response.body":
            await self.send(message)
            return
        body = message.get("body", b"")
        if message.get("more_body", False):
            if body:
                self.pending.append(body)
                self.pending_bytes += len(body)
            if self.pending_bytes < BODY_CHUNK_BYTES:
                return
            message = {**message, "body": b"".join(self.pending)}
        elif self.pending:
            message = {**message, "body": b"".join([*self.pending, body])}
        self.pending.clear()
        self.pending_bytes = 0
        await self.send(message)

    async def pass_on_pending(self) -> None:
        """Send what is gathered as a part that is not the last: the response failed before its end."""
        if self.pending:
            body = b"".join(self.pending)
            self.pending.clear()
            self.pending_bytes = 0
            await self.send({"type": "http.response.body", "body": body, "more_body": True})


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def send_body_in_large_chunks(scope, receive, send):
            if scope.get("type") != "http":
                await app(scope, receive, send)
                return
            gathering = GatheringSend(send)
            try:
                await app(scope, receive, gathering)
            except Exception:  # not a cancellation: the client that left reads nothing more
                await gathering.pass_on_pending()
                raise

        return send_body_in_large_chunks

    return wrap
