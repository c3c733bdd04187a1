"""A facet by year on a YYYY-MM-DD text column: ``facets: [{year: published}]`` or ``?_facet_year=published``.

Datasette 0.65 facets a date column by day only; researchers of official texts
think in years.  Selecting a year filters with Datasette's own
``published__startswith=YYYY``, so the filter shows and edits like any other.
"""

from __future__ import annotations

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.facets import Facet
from datasette.utils import escape_sqlite, path_with_added_args, path_with_removed_args


class YearFacet(Facet):
    type = "year"

    async def suggest(self):
        return []  # only when configured: suggestions cost a query per column

    async def facet_results(self):
        results, timed_out = [], []
        args = dict(self.get_querystring_pairs())
        size = self.get_facet_size()
        for source_and_config in self.get_configs():
            config, source = source_and_config["config"], source_and_config["source"]
            column = config.get("column") or config["simple"]
            sql = (
                f"select substr({escape_sqlite(column)}, 1, 4) as value, count(*) as count from ({self.sql}) "
                f"where {escape_sqlite(column)} glob '[0-9][0-9][0-9][0-9]*' group by value order by value desc limit {size + 1}"
            )
            try:
                rows = await self.ds.execute(self.database, sql, self.params, truncate=False,
                                             custom_time_limit=self.ds.setting("facet_time_limit_ms"))
            except QueryInterrupted:
                timed_out.append(column)
                continue
            values = []
            filter_key = f"{column}__startswith"
            for row in rows.rows[:size]:
                selected = args.get(filter_key) == row["value"]
                path = (path_with_removed_args(self.request, {filter_key: row["value"]}) if selected
                        else path_with_added_args(self.request, {filter_key: row["value"]}))
                values.append({"value": row["value"], "label": row["value"], "count": row["count"],
                               "toggle_url": self.ds.absolute_url(self.request, path), "selected": selected})
            results.append({
                "name": f"{column} (year)", "type": self.type, "results": values, "hideable": source != "metadata",
                "toggle_url": path_with_removed_args(self.request, {"_facet_year": column}),
                "truncated": len(rows.rows) > size,
            })
        return results, timed_out


@hookimpl
def register_facet_classes():
    return [YearFacet]
