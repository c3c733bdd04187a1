"""CSV for Excel: ``/DB/TABLE.excel.csv``, ``/DB/QUERY.excel.csv`` and ``/DB.excel.csv?sql=``, linked on their pages.

Datasette's own CSV writes cells exactly as stored: a scraped cell beginning
"=HYPERLINK(" runs as a formula when the file is double-clicked, and Excel on a
Chinese Windows reads UTF-8 without a byte-order mark as GBK.  This download
writes through ``fanwen.export.csv_row_writer``, the function ``fanwen export
--excel`` uses, so both files are the same kind of file.

Rows come from Datasette's own JSON for the same URL and query string, so every
filter, search, sort and column choice of the page applies as it does there,
and so do permissions (the reader's credentials are passed on).  A table is
streamed page after page by Datasette's ``next`` token, past
``max_returned_rows``.  A query cannot be paged: one that returns more than
``max_returned_rows`` is refused before anything is sent, and a failure after
the first page aborts the response instead of ending it as if complete, since a
cut file that looks whole is the one outcome a user cannot notice.
"""

from __future__ import annotations

import io
import urllib.parse

from datasette import hookimpl
from datasette.utils import tilde_decode
from datasette.utils.asgi import AsgiStream, Response

from fanwen.export import csv_row_writer

SUFFIX = ".excel.csv"
# What the page's own paging, facets and format switches put in its query
# string; the download asks for its own.
_DROPPED_ARGS = {"_next", "_size", "_shape", "_facet", "_facet_array", "_facet_date", "_facet_year",
                 "_nocount", "_nofacet", "_labels", "_stream", "_dl", "_json", "_trace", "_show_sql", "_hide_sql"}
_FORWARDED_HEADERS = ("authorization", "cookie")
# The ranked search lists the best 20 clusters; a spreadsheet of search results
# wants every text that matches, which is the table's search for the same words.
_SEARCH_QUERIES = {"search": ("texts", "q")}


class IncompleteDownload(RuntimeError):
    """A page after the first could not be read: the download must not end as if it were complete."""


@hookimpl
def register_routes():
    return [(r"^/(?P<database>[^/.]+)(/(?P<resource>[^/.]+))?\.excel\.csv$", excel_csv)]


async def excel_csv(datasette, request):
    database, resource = request.url_vars["database"], request.url_vars.get("resource")
    json_path = f"/{database}" + (f"/{resource}" if resource else "") + ".json"
    args = [(k, v) for k, v in urllib.parse.parse_qsl(request.query_string, keep_blank_values=True)
            if k not in _DROPPED_ARGS]
    args += [("_shape", "arrays"), ("_size", "max"), ("_nofacet", "1"), ("_nocount", "1")]
    headers = {name: request.headers[name] for name in _FORWARDED_HEADERS if name in request.headers}

    async def fetch(next_token: str | None = None):
        return await datasette.client.get(
            json_path, params=args + ([("_next", next_token)] if next_token else []), headers=headers)

    first = await fetch()
    if first.status_code != 200:
        return Response.text(_error_of(first), status=first.status_code)
    page = first.json()
    if page.get("truncated"):
        return Response.text(
            f"This query returns more than {datasette.setting('max_returned_rows')} rows, the most a query "
            f"(unlike a table) can give at once: filter a table instead, or use `fanwen export --excel`.",
            status=400)

    async def stream(writer):
        nonlocal page
        out = io.StringIO()
        write_row = csv_row_writer(out, page["columns"], excel=True)
        while True:
            for row in page["rows"]:
                write_row(row)
            await writer.write(out.getvalue())
            out.seek(0)
            out.truncate()
            if not page.get("next"):
                return
            response = await fetch(page["next"])
            if response.status_code != 200:
                raise IncompleteDownload(f"{json_path} after {page['next']}: {_error_of(response)}")
            page = response.json()

    filename = urllib.parse.quote(tilde_decode(resource or database) + ".csv")
    return AsgiStream(stream, headers={"content-disposition": f"attachment; filename*=UTF-8''{filename}"},
                      content_type="text/csv; charset=utf-8")


def _error_of(response) -> str:
    try:
        return str(response.json().get("error") or response.status_code)
    except ValueError:
        return f"HTTP {response.status_code}"


def excel_csv_url(datasette, database: str, resource: str | None, request) -> str:
    """The download for the rows this page shows (for ranked search: every text that matches)."""
    args = [(k, v) for k, v in urllib.parse.parse_qsl(request.query_string, keep_blank_values=True)
            if k not in _DROPPED_ARGS]
    if resource in _SEARCH_QUERIES:
        table, parameter = _SEARCH_QUERIES[resource]
        resource, args = table, [("_search", v) for k, v in args if k == parameter]
    # A canned query's URL has the shape of a table's.
    path = (datasette.urls.table(database, resource) if resource else datasette.urls.database(database)) + SUFFIX
    return path + ("?" + urllib.parse.urlencode(args) if args else "")


@hookimpl
def extra_template_vars(template, database, table, request, datasette):
    if request is None or database is None or template not in ("table.html", "query.html"):
        return {}
    # A canned query's page is query.html with the query's name in the URL; a
    # page of SQL typed in is query.html without one.
    resource = table or request.url_vars.get("table")
    if template == "query.html" and resource is None and not request.args.get("sql"):
        return {}
    return {
        "excel_csv_url": excel_csv_url(datasette, database, resource, request),
        "excel_csv_label": "CSV for Excel: every matching text" if resource in _SEARCH_QUERIES else "CSV for Excel",
    }
