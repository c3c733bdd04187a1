"""Response bodies sent in chunks of at least ``BODY_CHUNK_BYTES``, not one send per CSV row.

Datasette's streamed CSV (``texts.csv?_stream=on``) awaits one ASGI send per row: the
server frames each row as its own HTTP chunk and the client parses each frame, for
every one of a million rows.  This wrapper gathers the parts of a body that are not its
last and passes them on once they reach ``BODY_CHUNK_BYTES``; the last part flushes
what is left.  Only the size of the pieces changes, never the bytes or their order, and
a body of one part (every HTML and JSON page) goes through as it was.  A response that
fails midway ends without its buffered tail, as it would have ended early anyway: the
client still sees a body cut off without its final chunk.
"""

from __future__ import annotations

from datasette import hookimpl

BODY_CHUNK_BYTES = 256 * 1024


def gathering_send(send):
    """``send`` for one response, passing body parts on in runs of at least BODY_CHUNK_BYTES."""
    pending: list[bytes] = []
    pending_bytes = 0

    async def send_gathered(message: dict) -> None:
        nonlocal pending_bytes
        if message["type"] != "http.response.body":
            await send(message)
            return
        body = message.get("body", b"")
        if message.get("more_body", False):
            if body:
                pending.append(body)
                pending_bytes += len(body)
            if pending_bytes < BODY_CHUNK_BYTES:
                return
            message = {**message, "body": b"".join(pending)}
        elif pending:
            message = {**message, "body": b"".join([*pending, body])}
        pending.clear()
        pending_bytes = 0
        await send(message)

    return send_gathered


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def send_body_in_large_chunks(scope, receive, send):
            if scope.get("type") != "http":
                await app(scope, receive, send)
                return
            await app(scope, receive, gathering_send(send))

        return send_body_in_large_chunks

    return wrap
