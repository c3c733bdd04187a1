"""Atom feeds: ``.atom`` on any query whose columns include ``atom_id``, ``atom_title`` and ``atom_updated``.

The column names are those of the datasette-atom plugin (``atom_link`` and
``atom_content`` optional), so a query written for it works here unchanged.
We render the feed ourselves because datasette-atom 0.9 answers HTTP 500 when
the query returns no rows, and an empty feed is what a reader subscribed to a
word no text contains yet must get; it would also add feedgen and bleach for
what lxml already does.  Links are made absolute against the feed's own URL, so
a canned query can give ``texts/ID`` whatever name or address the archive is
served under.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from datasette import __version__, hookimpl
from datasette.utils.asgi import Response
from lxml import etree

ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
REQUIRED_COLUMNS = {"atom_id", "atom_title", "atom_updated"}
# Characters XML 1.0 cannot carry at all, escaped or not (lxml refuses them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@hookimpl
def register_output_renderer():
    return {"extension": "atom", "render": render_atom, "can_render": can_render_atom}


def can_render_atom(columns):
    return REQUIRED_COLUMNS.issubset(columns)


def xml_text(value: object) -> str:
    """The value as XML character data; a control character XML cannot hold becomes U+FFFD."""
    return _NOT_XML.sub("\ufffd", "" if value is None else str(value))


def timestamp(value: object) -> datetime:
    """An ISO 8601 timestamp with its zone (a naive one is UTC, as the archive stores times)."""
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _element(parent, tag: str, text: object = None, **attributes: str):
    element = etree.SubElement(parent, f"{{{ATOM_NAMESPACE}}}{tag}", attributes)
    if text is not None:
        element.text = xml_text(text)
    return element


def feed_title(datasette, database: str, query_name: str | None, request) -> str:
    queries = datasette.metadata("queries", database=database) or {}
    title = (queries.get(query_name) or {}).get("title") if query_name else None
    title = title or query_name or database
    filters = [f"{name} {request.args.get(name)}" for name in request.args
               if request.args.get(name) and not name.startswith("_") and name != "sql"]
    return f"{title}: {', '.join(filters)}" if filters else title


def render_atom(datasette, request, columns, rows, database, query_name):
    if not REQUIRED_COLUMNS.issubset(columns):
        return Response.text(f"an Atom feed needs the columns {', '.join(sorted(REQUIRED_COLUMNS))}", status=400)
    try:
        updated = [timestamp(row["atom_updated"]) for row in rows]
    except ValueError as error:
        return Response.text(f"atom_updated must be an ISO 8601 timestamp: {error}", status=400)
    feed_url = datasette.absolute_url(request, request.full_path)
    page = request.path.removesuffix(".atom")
    page_url = datasette.absolute_url(request, f"{page}?{request.query_string}" if request.query_string else page)

    feed = etree.Element(f"{{{ATOM_NAMESPACE}}}feed", nsmap={None: ATOM_NAMESPACE})
    _element(feed, "id", feed_url)
    _element(feed, "title", feed_title(datasette, database, query_name, request))
    # An empty feed has no entry to date it by: it is as new as this answer.
    _element(feed, "updated", max(updated, default=datetime.now(UTC).replace(microsecond=0)).isoformat())
    # Atom wants an author for the feed unless every entry has one; the archive is the author of the feed.
    _element(_element(feed, "author"), "name", datasette.metadata("title") or "Datasette")
    _element(feed, "link", href=feed_url, rel="self", type="application/atom+xml")
    _element(feed, "link", href=page_url, rel="alternate", type="text/html")
    _element(feed, "generator", "Datasette", version=__version__)
    for row, entry_updated in zip(rows, updated):
        entry = _element(feed, "entry")
        _element(entry, "id", row["atom_id"])
        _element(entry, "title", row["atom_title"])
        _element(entry, "updated", entry_updated.isoformat())
        if "atom_link" in columns and row["atom_link"]:
            href = datasette.absolute_url(request, str(row["atom_link"]))
            _element(entry, "link", href=xml_text(href), rel="alternate")
        if "atom_content" in columns and row["atom_content"] is not None:
            _element(entry, "content", row["atom_content"], type="text")
    return Response(
        etree.tostring(feed, xml_declaration=True, encoding="utf-8", pretty_print=True),
        content_type="application/atom+xml; charset=utf-8",
    )
