"""The "N copies on sites …" cell of ranked search, linked to the cluster's other texts in the table.

Ranked search shows one row per duplicate cluster; the link lists the copies it
stands for (``texts?cluster_id=C&id__not=ID``) with the table's own filters, so
the reader can facet, sort or download them like any other rows.
"""

from __future__ import annotations

import urllib.parse

from datasette import hookimpl
from markupsafe import Markup, escape


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if column != "copies" or table is not None or not value:
        return None
    try:
        cluster_id, text_id = row["cluster_id"], row["id"]
    except (IndexError, KeyError):  # another query's column of that name
        return None
    query = urllib.parse.urlencode({"cluster_id": cluster_id, "id__not": text_id})
    href = f"{datasette.urls.table(database, 'texts')}?{query}"
    return Markup(f'<a class="copies" href="{escape(href)}">{escape(value)}</a>')
