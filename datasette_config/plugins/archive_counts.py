"""Row counts a large archive can afford on every page view.

Datasette 0.65 counts rows in two places whose cost grows with the archive, and its
time limits do not bound them:

- The database page counts every table, hidden ones included, each under a 5 ms
  limit.  SQLite checks a time limit between the steps of a query, and a bare
  ``count(*)`` is one step that walks the whole table: the search index's shadow
  table ``texts_fts_data`` (gigabytes of index pages) took a second at 100,000 texts,
  ten at a million.  Hidden tables (the index's, the duplicate bookkeeping) are no
  longer counted: the page lists them without a count.
- A table search counts its hits as ``count(*) from texts where rowid in (<search>)``,
  which reads every hit's row: two seconds for a common word in a million texts.
  When the search is the only filter, the number of hits is the number of index
  entries that match, which the index counts without reading a row; the search page
  shows that count (``search_count``, templates/table.html) and Datasette's own count
  is skipped (``_nocount``).  With any other filter, Datasette counts as before.
- Facets over a search read every hit's row too: over more than ``FACETED_HITS_MAX``
  hits none finishes within the facet time limit, and each waits the limit out.  Such a
  search page offers no facets (``_nofacet``) and says so; a filter brings them back.

docs/search.md, "A million texts", has the measurements.
"""

from __future__ import annotations

import sqlite3
import urllib.parse

from datasette import hookimpl
from datasette.database import QueryInterrupted

# Set on a request's scope when the search count replaces Datasette's count.
COUNTED_BY_INDEX = "fanwen.counted_by_index"

# Query-string arguments that shape a table page without filtering its rows.
_NOT_FILTERS = frozenset({
    "_search", "_sort", "_sort_desc", "_size", "_next", "_col", "_nocol", "_nocount", "_nofacet",
    "_facet", "_facet_array", "_facet_date", "_facet_size", "_labels", "_nolabels", "_trace", "_timelimit",
})
SEARCH_COUNT_TIME_LIMIT_MS = 1000
# Above this many hits a search page offers no facets: each facet reads every hit's row and
# would run into facet_time_limit_ms (fanwen.serve) before showing anything.
FACETED_HITS_MAX = 20_000


async def _counts_of_shown_tables(db, limit: int = 10) -> dict[str, int | None]:
    """``Database.table_counts`` without counting the hidden tables (their count is None)."""
    hidden = set(await db.hidden_table_names())
    counts: dict[str, int | None] = {}
    for table in await db.table_names():
        if table in hidden:
            counts[table] = None
            continue
        try:
            counts[table] = (await db.execute(f"select count(*) from [{table}]", custom_time_limit=limit)).rows[0][0]
        except (QueryInterrupted, sqlite3.OperationalError, sqlite3.DatabaseError):
            counts[table] = None
    return counts


@hookimpl
def startup(datasette):
    for db in datasette.databases.values():
        if db.is_mutable and not db.is_memory:
            db.table_counts = lambda limit=10, db=db: _counts_of_shown_tables(db, limit)


def searched_table(datasette, path: str, query: dict[str, list[str]]) -> tuple[str, str, str] | None:
    """(database, table, its full-text table) when ``path`` is an HTML table page searched with no other filter."""
    parts = [urllib.parse.unquote(part) for part in path.strip("/").split("/")]
    if len(parts) != 2 or "." in parts[1] or not "".join(query.get("_search", [])).strip():
        return None
    if any(name not in _NOT_FILTERS for name in query):
        return None
    database, table = parts
    if database not in datasette.databases:
        return None
    fts_table = (datasette.metadata(database=database, table=table) or {}).get("fts_table")
    return (database, table, fts_table) if fts_table else None


async def _index_count(datasette, database: str, fts_table: str, search: str) -> int | None:
    try:
        result = await datasette.get_database(database).execute(
            f"select count(*) from [{fts_table}] where [{fts_table}] match escape_fts(:search)",
            {"search": search}, custom_time_limit=SEARCH_COUNT_TIME_LIMIT_MS,
        )
    except (QueryInterrupted, sqlite3.OperationalError):
        return None
    return result.rows[0][0]


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def count_search_hits_in_the_index(scope, receive, send):
            if scope.get("type") == "http":
                query_string = scope.get("query_string", b"")
                query = urllib.parse.parse_qs(query_string.decode("latin-1"), keep_blank_values=True)
                searched = searched_table(datasette, scope.get("path", ""), query)
                if searched:
                    count = await _index_count(datasette, searched[0], searched[2], query["_search"][0])
                    extra = ["_nocount=1"]
                    if count is None or count > FACETED_HITS_MAX:
                        extra.append("_nofacet=1")
                    joined = "&".join(extra).encode()
                    scope = {**scope, "query_string": query_string + b"&" + joined if query_string else joined,
                             COUNTED_BY_INDEX: count}
            await app(scope, receive, send)

        return count_search_hits_in_the_index

    return wrap


@hookimpl
def extra_template_vars(view_name, request):
    if view_name != "table" or request is None or COUNTED_BY_INDEX not in request.scope:
        return {}
    count = request.scope[COUNTED_BY_INDEX]
    return {"search_count": count, "faceted_hits_max": FACETED_HITS_MAX,
            "facets_left_out": count is None or count > FACETED_HITS_MAX}
