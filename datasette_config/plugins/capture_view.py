"""The page as captured: ``/-/capture/<database>/<capture id>`` beside the text cleaned from it.

The view (templates/capture.html) shows the capture in an ``<iframe sandbox>``
next to the clean text and what cleaning removed.  The frame loads
``/-/capture/<database>/<capture id>/raw``: the body bytes exactly as fetched,
with the captured media type and the charset the crawl decoded them with
(archive/captures.py says why not the page's own).

A captured page is hostile content served from the archive's own origin: the
范文 sites' pages carry ad and statistics scripts, and their sub-resources point
at the live site.  So the raw answer is sandboxed by its own header (it stays
inert when opened outside the frame too) and may load nothing over the network:
images and styles only when inline, and no request reaches the live site or
this server on the page's behalf.  What was not captured simply does not show.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote

from datasette import Forbidden, NotFound, hookimpl
from datasette.utils.asgi import Response

from archive.captures import CAPTURE_BY_ID_SQL, CaptureUnreadable, StoredCapture, read_capture
from archive.database import warc_directory

# `sandbox` without allow-scripts: no script, no form, no plugin, no popup, an opaque origin
# (no cookies of this site).  The fetch directives then block every sub-resource request.
CAPTURE_CSP = (
    "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "base-uri 'none'; form-action 'none'"
)
CAPTURE_HEADERS = {
    "Content-Security-Policy": CAPTURE_CSP,
    "X-Content-Type-Options": "nosniff",  # the captured media type is the only one a browser may use
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, max-age=3600",
}

# Texts of the capture's article: a 合集 page gives several, a continuation page shares its article's.
_ARTICLE_TEXTS_SQL = (
    "select id, title, part, text, chars, encoding, cleaning, capture_id, truncated from texts "
    "where url = :article_url order by part, id"
)


@hookimpl
def register_routes():
    return [
        (r"^/-/capture/(?P<database>[^/]+)/(?P<capture_id>\d+)$", capture_page),
        (r"^/-/capture/(?P<database>[^/]+)/(?P<capture_id>\d+)/raw$", capture_raw),
    ]


async def _stored_capture(datasette, request) -> tuple[str, StoredCapture]:
    name = request.url_vars["database"]
    database = datasette.databases.get(name)
    if database is None or database.path is None:
        raise NotFound(f"no archive named {name}")
    # The same permissions as reading the captures table: `fanwen serve --auth` covers this view too.
    await datasette.ensure_permissions(
        request.actor, [("view-table", (name, "captures")), ("view-database", name), "view-instance"])
    try:
        result = await database.execute(CAPTURE_BY_ID_SQL, {"id": int(request.url_vars["capture_id"])})
    except Exception as error:  # an archive from before captures were kept
        raise NotFound(f"{name} keeps no captures") from error
    row = result.first()
    if row is None:
        raise NotFound(f"no capture {request.url_vars['capture_id']} in {name}")
    try:
        # A file read: kept off the event loop that serves every other request.
        capture = await asyncio.to_thread(read_capture, warc_directory(database.path), dict(row))
    except CaptureUnreadable as error:
        raise NotFound(str(error)) from error
    return name, capture


async def capture_raw(datasette, request):
    try:
        _, capture = await _stored_capture(datasette, request)
    except (NotFound, Forbidden) as error:
        return Response.text(str(error), status=403 if isinstance(error, Forbidden) else 404, headers=CAPTURE_HEADERS)
    return Response(capture.page.body, status=200, headers=CAPTURE_HEADERS, content_type=capture.served_content_type)


def removals(cleaning: str | None) -> dict | None:
    """The text's cleaning record (records.texts.CleaningReport.as_json) ready for the template."""
    if not cleaning:
        return None
    try:
        record = json.loads(cleaning)
    except ValueError:
        return None
    record["removed"] = [
        {"reason": item[0], "chars": item[1], "text": item[2] if len(item) > 2 else ""}
        for item in record.get("removed") or [] if isinstance(item, list) and len(item) >= 2
    ]
    return record


async def capture_page(datasette, request):
    try:
        name, capture = await _stored_capture(datasette, request)
    except (NotFound, Forbidden) as error:
        # Answered here: raised, Datasette would print a traceback for every stale link.
        status = 403 if isinstance(error, Forbidden) else 404
        return Response.html(await datasette.render_template(
            "error.html", {"error": str(error), "status": status, "title": None}, request=request), status=status)
    try:
        result = await datasette.databases[name].execute(_ARTICLE_TEXTS_SQL, {"article_url": capture.article_url})
        texts = [dict(row) for row in result.rows]
    except Exception:  # texts table missing (an archive being rebuilt by re-cleaning)
        texts = []
    for text in texts:
        text["paragraphs"] = [line for line in (text.get("text") or "").split("\n") if line.strip()]
        text["cleaning_record"] = removals(text.get("cleaning"))
    return Response.html(await datasette.render_template(
        "capture.html",
        {"database": name, "capture": capture, "texts": texts,
         "raw_path": f"/-/capture/{quote(name)}/{capture.id}/raw"},
        request=request,
    ))
