"""Data for the speech page: the row page of ``texts`` rendered as a document (templates/row.html).

Each part of the page is one named query over the text's id.  A part whose
tables are missing (an archive from before they existed) is left out instead
of breaking the page, so adding a part is adding a query here and a block in
the template.
"""

from __future__ import annotations

import json

from datasette import hookimpl

SPEECH_QUERIES = {
    "speech": "select * from texts where id = :id",
    "versions": (
        "select id, title, published, chars, truncated, first_seen, last_seen, superseded_at "
        "from text_versions where text_id = :id order by superseded_at desc"
    ),
    "copies": (
        "select other.id, other.site, other.title, other.url, other.published, other.truncated, "
        "other.id = clusters.canonical_text_id as canonical "
        "from texts this join texts other on other.cluster_id = this.cluster_id and other.id != this.id "
        "left join duplicate_clusters clusters on clusters.cluster_id = this.cluster_id "
        "where this.id = :id order by other.first_seen"
    ),
}


async def _speech_parts(datasette, database: str, text_id: str) -> dict:
    db = datasette.get_database(database)
    parts: dict = {}
    for name, sql in SPEECH_QUERIES.items():
        try:
            result = await db.execute(sql, {"id": text_id})
        except Exception:  # missing table or column in an older archive: leave that part out
            continue
        parts[name] = [dict(row) for row in result.rows]
    speech = (parts.pop("speech", None) or [None])[0]
    if speech is None:
        return {}
    speech["paragraphs"] = [line for line in (speech.get("text") or "").split("\n") if line.strip()]
    try:
        speech["placeholder_list"] = json.loads(speech.get("placeholders") or "[]")
    except ValueError:
        speech["placeholder_list"] = []
    return {"speech": speech, **parts}


@hookimpl
def extra_template_vars(view_name, table, database, request, datasette):
    if view_name != "row" or table != "texts" or request is None:
        return {}
    pks = request.url_vars.get("pks", "")

    async def inner():
        return await _speech_parts(datasette, database, pks)

    return inner
