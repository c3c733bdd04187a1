"""Chinese full-text search as overlapping character bigrams in SQLite FTS5.

SQLite's ``unicode61`` tokenizer keeps a run of Chinese characters as ONE
token, so 文明 never matches inside 创建文明城市.  We therefore write each run of
CJK characters to the index as its overlapping bigrams plus the run's last
character alone (创建文明 → 创建 建文 文明 明), so every character position
starts a token.  A query term then becomes the phrase of its own bigrams, and a
one-character term the prefix query ``"文"*`` (served by the ``prefix='1'``
index).  That gives substring semantics for Chinese, the same hits as LIKE
(benchmarks/search_export.py checks it against a substring scan), where jieba
word segmentation loses hits and trigram cannot express 1–2 character words
(docs/search.md, "Why character bigrams").

The index writer (archive.database) and the query rewriter (the Datasette plugin
in datasette_config/plugins/) must agree on what a CJK character is, so both use
this module.  Everything that is not CJK is left to ``unicode61`` (Latin words
and numbers are whole tokens; punctuation separates).
"""

from __future__ import annotations

import re
from operator import add

import numpy as np

FTS_TABLE = "texts_fts"

# CJK ideographs: Extension A, the URO, compatibility ideographs, 〇 and 々
# (〇 is in 二〇三五年: missing it once cost a query all its hits), and the
# supplementary planes B–H.
CJK_CHARS = "\u3005\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
CJK_RUN = re.compile(f"[{CJK_CHARS}]+")
# A CJK run, or a run of the other characters unicode61 keeps inside a token
# (letters and digits), so 2023年 is two pieces as the index needs them.
PIECE = re.compile(f"([{CJK_CHARS}]+)|([^\\W_{CJK_CHARS}]+)")

CREATE_INDEX_SQL = (
    f"create virtual table if not exists {FTS_TABLE} "
    "using fts5(title, text, content='', prefix='1', tokenize='unicode61')"
)
# FTS5 writes each transaction's terms as a new segment and merges segments during
# later inserts once AUTOMERGE of them sit on one level.  That merging is why indexing
# a text costs more as the index grows (0.37 → 0.55 ms per text from the first to the
# last 400 texts of a 2,200-text crawl at FTS5's default of 4; benchmarks/write_path_profile.py).
# At 8 each term is rewritten fewer times; a query probes up to 7 segments per level
# instead of 3 (benchmarks/search_export.py measures search at 100,000 texts).
AUTOMERGE = 8
SET_AUTOMERGE_SQL = f"insert into {FTS_TABLE} ({FTS_TABLE}, rank) values ('automerge', {AUTOMERGE})"
# FTS5 keeps a transaction's new terms in memory and writes them as a new segment when the
# transaction ends, or sooner, each time they pass HASHSIZE (FTS5's default is 1 MiB).  A batch of
# 500 texts of a few thousand characters holds about 10 MiB of terms, so at the default it became
# some ten segments, each to be merged again.  At 16 MiB a batch of up to about 600 such texts is
# one segment, for about 15 MiB more memory while a batch of 500 is written (benchmarks/search_export.py
# measures ingest with the index kept current; docs/benchmarks.md, "Search index writes and ranked search").
HASHSIZE = 16 * 1024 * 1024
SET_HASHSIZE_SQL = f"insert into {FTS_TABLE} ({FTS_TABLE}, rank) values ('hashsize', {HASHSIZE})"


def _run_tokens(run: str) -> list[str]:
    """创建文明 → 创建 建文 文明 明 (bigrams, then the last character alone)."""
    return [*map(add, run, run[1:]), run[-1]]


def _pieces(text: str) -> list[tuple[bool, str]]:
    """(is CJK, piece) for each token-forming run of the text, in order."""
    return [(bool(cjk), cjk or other) for cjk, other in PIECE.findall(text)]


def index_tokens(text: str) -> list[str]:
    """The tokens a text is indexed as, in order."""
    tokens: list[str] = []
    for is_cjk, piece in _pieces(text or ""):
        if is_cjk:
            tokens.extend(map(add, piece, piece[1:]))
            tokens.append(piece[-1])
        else:
            tokens.append(piece)
    return tokens


def index_text(text: str | None) -> str:
    """The text as written into the FTS table: the tokens of ``index_tokens(text)``, separated by spaces.

    Built with array operations on the code points (one pass each instead of a
    Python step per bigram; tests/test_search.py checks it against ``index_tokens``):
    each CJK character is written followed by the next one when that is CJK too,
    then a space; letters and digits are copied; everything else becomes a space.
    Runs of spaces are harmless: ``unicode61`` reads them as one separator.
    """
    if not text:
        return ""
    # surrogatepass: a lone surrogate (only an odd decoder leaves one) is just another separator.
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    kinds = _KIND_BMP[np.minimum(points, 0xFFFF)]
    astral = np.flatnonzero(points > 0xFFFF)
    if len(astral):  # outside the BMP: rare, decided one by one
        kinds[astral] = [_kind(chr(point)) for point in points[astral].tolist()]
    cjk, word = kinds == _CJK, kinds == _WORD
    next_cjk = np.append(cjk[1:], False)
    pair = cjk & next_cjk
    # Characters written per input character: CJK + next CJK + space (3), CJK + space (2),
    # a letter or digit (1, or 2 with a space when CJK follows), anything else a space (1).
    widths = np.where(cjk, 2 + pair, 1 + (word & next_cjk))
    starts = np.concatenate(([0], np.cumsum(widths)[:-1]))
    out = np.full(int(widths.sum()), ord(" "), dtype="<u4")
    keep = cjk | word
    out[starts[keep]] = points[keep]
    out[starts[pair] + 1] = points[1:][pair[:-1]]
    return out.tobytes().decode("utf-32-le", "surrogatepass")


_OTHER, _WORD, _CJK = 0, 1, 2
_CJK_CHAR = re.compile(f"[{CJK_CHARS}]")


def _kind(char: str) -> int:
    """CJK (as CJK_RUN counts it), a letter or digit (Python's [^\\W_], as PIECE counts it), or other."""
    return _CJK if _CJK_CHAR.match(char) else _WORD if char.isalnum() else _OTHER


_KIND_BMP = np.array([_kind(chr(point)) for point in range(0x10000)], dtype=np.uint8)


def _term_phrase(term: str) -> str | None:
    """One query term as an FTS5 phrase that matches wherever the term is a substring.

    Inside the term, CJK runs are tokenized exactly as the index does.  At the
    term's end the text may go on, so the last run gives only its bigrams (or,
    when it is one character, a prefix), and a trailing Latin word or number
    is a prefix too.
    """
    tokens: list[str] = []
    parts = _pieces(term)
    if not parts:
        return None
    for position, (is_cjk, part) in enumerate(parts):
        last = position == len(parts) - 1
        if is_cjk:
            run_tokens = _run_tokens(part)
            if last and len(part) > 1:
                run_tokens = run_tokens[:-1]
            tokens.extend(run_tokens)
        else:
            tokens.append(part.lower())
    last_is_cjk, last_part = parts[-1]
    prefix = not last_is_cjk or len(last_part) == 1
    phrase = '"' + " ".join(token.replace('"', '""') for token in tokens) + '"'
    return phrase + ("*" if prefix else "")


def fts_query(user_query: str) -> str:
    """A user's search (whitespace separates terms, all must match) as an FTS5 MATCH expression.

    A query with no searchable characters becomes a phrase that matches nothing
    rather than an FTS5 syntax error.
    """
    phrases = [p for p in (_term_phrase(term) for term in (user_query or "").split()) if p]
    return " ".join(phrases) if phrases else '""'


def search_terms(user_query: str) -> list[str]:
    """The whitespace-separated terms of a search, as highlighting and snippets look for them."""
    return [term for term in (user_query or "").split() if term]


def snippet(text: str | None, user_query: str, width: int = 60) -> str:
    """A window of ``text`` around the first occurrence of any query term (plain text, '…' where cut)."""
    if not text:
        return ""
    terms = search_terms(user_query)
    lowered = text.lower()
    hits = [i for i in (lowered.find(term.lower()) for term in terms) if i >= 0]
    start = max(0, min(hits) - width // 3) if hits else 0
    end = min(len(text), start + width)
    excerpt = text[start:end].replace("\n", " ")
    return ("…" if start else "") + excerpt + ("…" if end < len(text) else "")
