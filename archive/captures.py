"""Reading a stored capture back: the page exactly as it was fetched, with the charset the crawl read it in.

The ``captures`` table indexes each fetched page's WARC response record
(archive/warc_store.py writes them).  The speech page's "as captured" view
(datasette_config/plugins/capture_view.py) and ``fanwen capture`` both read
captures through here, so they agree on which record a URL means and on the
charset a page is served with.

The charset served is the one the crawl decoded the page with
(``captures.detected_encoding``), not the one the page declares: replica B's
``header_disagrees`` page says UTF-8 in its header and GBK in its ``<meta>``
and is GB18030, and a browser believing the header would show mojibake where
the archive shows a clean text.
"""

from __future__ import annotations

import codecs
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warcio.exceptions import ArchiveLoadFailed

from archive.database import warc_directory
from archive.warc_store import read_page
from pipelines.decoding import decode_html
from records.texts import FetchedPage

_COLUMNS = (
    "id, site, article_url, page, url, requested_url, status, fetched_at, "
    "declared_encoding, detected_encoding, warc_file, warc_offset, warc_record_id"
)
CAPTURE_BY_ID_SQL = f"select {_COLUMNS} from captures where id = :id"
# A 304 answer is indexed without a record (warc_file null): it has no page to show.
# The newest capture wins, as the archive's text is the newest one.
LATEST_CAPTURE_OF_URL_SQL = (
    f"select {_COLUMNS} from captures where warc_file is not null "
    "and (url = :url or requested_url = :url or (article_url = :url and page = 1)) "
    "order by fetched_at desc, id desc limit 1"
)

# Python codec names that browsers (the WHATWG Encoding Standard) do not take as charset labels.
_WHATWG_LABELS = {"big5hkscs": "big5-hkscs", "euc_jp": "euc-jp", "euc_kr": "euc-kr", "iso2022_jp": "iso-2022-jp"}
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
_TEXT_MEDIA = re.compile(r"^(text/.*|application/(xhtml\+)?xml|.*\+xml)$")


class CaptureUnreadable(LookupError):
    """The archive indexes the capture but its WARC record cannot be read."""


@dataclass(frozen=True)
class StoredCapture:
    """One captured HTTP response and what the archive knows of it."""

    id: int
    site: str
    article_url: str
    page_number: int  # 1, or the continuation page of a multi-page article
    page: FetchedPage  # body and headers as received (minus transfer encodings)
    encoding: str  # the encoding the crawl decoded the body with
    declared_encoding: str | None  # the one the page declared (header, then <meta>), when it declared one
    warc_file: str
    warc_record_id: str | None

    @property
    def media_type(self) -> str:
        return media_type(self.page.content_type)

    @property
    def served_content_type(self) -> str:
        return served_content_type(self.page.content_type, self.encoding)

    def decoded(self) -> str:
        """The page as text, as the crawl read it (a byte that does not decode becomes U+FFFD)."""
        body = self.page.body
        if codecs.lookup(self.encoding).name == "utf-8" and body.startswith(codecs.BOM_UTF8):
            body = body[len(codecs.BOM_UTF8):]
        return body.decode(self.encoding, errors="replace")


def media_type(content_type: str | None) -> str:
    """The captured Content-Type without parameters; HTML when the server sent none or garbage."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media if _MEDIA_TYPE.match(media) else "text/html"


def charset_label(encoding: str) -> str:
    """A charset label a browser understands for a Python codec name."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return encoding
    return _WHATWG_LABELS.get(name, name)


def served_content_type(content_type: str | None, encoding: str) -> str:
    """The captured media type with the charset the crawl used (a header's own charset may be wrong)."""
    media = media_type(content_type)
    return f"{media}; charset={charset_label(encoding)}" if _TEXT_MEDIA.match(media) else media


def read_capture(warc_dir: str | Path, row: Mapping[str, Any]) -> StoredCapture:
    """The capture a ``captures`` row (as selected by the SQL above) indexes, read from its WARC record."""
    if not row.get("warc_file"):
        raise CaptureUnreadable(f"capture {row['id']} of {row['url']} has no stored page (the server answered 304)")
    try:
        page = read_page(warc_dir, row["warc_file"], row["warc_offset"])
    except (OSError, StopIteration, ValueError, ArchiveLoadFailed) as error:
        raise CaptureUnreadable(
            f"capture {row['id']} of {row['url']}: cannot read {row['warc_file']} at {row['warc_offset']}: {error}"
        ) from error
    encoding = row.get("detected_encoding") or decode_html(page.body, page.content_type).encoding
    return StoredCapture(
        id=row["id"], site=row["site"], article_url=row["article_url"], page_number=row["page"] or 1,
        page=page, encoding=encoding, declared_encoding=row.get("declared_encoding"),
        warc_file=row["warc_file"], warc_record_id=row.get("warc_record_id"),
    )


def find_capture(archive_path: str | Path, *, url: str | None = None, capture_id: int | None = None) -> StoredCapture | None:
    """The newest stored capture of ``url`` (a page's URL, the URL first requested, or an article's),
    or the capture ``capture_id``; None when the archive has none."""
    if (url is None) == (capture_id is None):
        raise ValueError("give either url or capture_id")
    path = Path(archive_path)
    if not path.exists():
        raise FileNotFoundError(f"no archive at {path}")
    # Read-only: looking at a capture must never change or lock the archive a crawl is writing.
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    try:
        if url is not None:
            found = connection.execute(LATEST_CAPTURE_OF_URL_SQL, {"url": url}).fetchone()
        else:
            found = connection.execute(CAPTURE_BY_ID_SQL, {"id": capture_id}).fetchone()
    finally:
        connection.close()
    return None if found is None else read_capture(warc_directory(path), dict(found))
