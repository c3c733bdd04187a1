"""Chinese full-text search in Datasette: query rewriting, snippets and highlighting.

Datasette's table search runs ``texts_fts match escape_fts(:search)``; its own
``escape_fts`` quotes each whitespace-separated term, which against our bigram
index is one token that never exists, so every Chinese search would answer "0
rows".  We register our own ``escape_fts`` on each connection.  ``trylast`` is
needed because Datasette registers its version in a plugin hook of its own, and
the function registered last wins.
"""

from __future__ import annotations

import json

from datasette import hookimpl

from archive import search_index


@hookimpl(trylast=True)
def prepare_connection(conn):
    conn.create_function("escape_fts", 1, search_index.fts_query, deterministic=True)
    conn.create_function("cjk_fts_query", 1, search_index.fts_query, deterministic=True)
    conn.create_function("cjk_snippet", 2, search_index.snippet, deterministic=True)


# Highlighting happens in the browser: Datasette 0.65's render_cell hook does
# not see the request, so it cannot know the query; the JSON API keeps plain
# snippets.
HIGHLIGHT_SCRIPT = """
(function () {
  var terms = %s.filter(Boolean).sort(function (a, b) { return b.length - a.length; });
  if (!terms.length) return;
  var pattern = new RegExp(terms.map(function (t) { return t.replace(/[.*+?^${}()|[\\]\\\\]/g, "\\\\$&"); }).join("|"), "gi");
  document.querySelectorAll("td.col-snippet, td.col-title").forEach(function (cell) {
    var walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT), nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    nodes.forEach(function (node) {
      var text = node.nodeValue, last = 0, fragment = document.createDocumentFragment(), match;
      pattern.lastIndex = 0;
      while ((match = pattern.exec(text))) {
        fragment.appendChild(document.createTextNode(text.slice(last, match.index)));
        var mark = document.createElement("mark"); mark.textContent = match[0]; fragment.appendChild(mark);
        last = match.index + match[0].length;
      }
      if (last) { fragment.appendChild(document.createTextNode(text.slice(last))); node.parentNode.replaceChild(fragment, node); }
    });
  });
})();
"""


@hookimpl
def extra_body_script(view_name, request):
    if request is None or view_name not in ("table", "query"):
        return None
    terms = search_index.search_terms(request.args.get("q") or request.args.get("_search") or "")
    if not terms:
        return None
    return HIGHLIGHT_SCRIPT % script_literal(terms)


def script_literal(value: object) -> str:
    """JSON for inside a <script> element: no ``</script>``, ``<!--`` or ``]]>`` can end or bend it."""
    # Escaping every < > & as \u escapes keeps the characters (JSON decodes them
    # back) while the HTML parser never sees markup in the user's query.
    return (json.dumps(value, ensure_ascii=False)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
