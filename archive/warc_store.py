"""Raw captures in WARC files (ISO 28500, written with warcio).

Every stored HTTP response is written as a request record and a response
record, each gzipped on its own, so a file cut short by a crash still reads
cleanly up to its last complete record.  warcio builds the records; ISA-L
(python-isal) compresses them, several times faster than the zlib level 9 warcio
uses, for members 10-15 % larger (benchmarks/write_path_profile.py --gzip-levels);
compression was the largest single cost of archiving a page.  The archive indexes each response
record by file, offset and length; ``read_page`` seeks straight to it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from isal import isal_zlib
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from records.texts import FetchedPage

# Scrapy hands us bodies already decompressed and de-chunked; keeping these
# headers would make WARC readers decode the payload a second time.
_TRANSFER_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}
GZIP_LEVEL = 2  # at 3, its best, a page of real weight took nearly three times as long for 2 % fewer bytes
_REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 304: "Not Modified", 404: "Not Found", 410: "Gone"}


@dataclass(frozen=True)
class WarcLocation:
    file: str  # file name inside the WARC directory
    offset: int  # of the response record
    length: int  # of the response record, compressed
    payload_digest: str  # "sha1:<base32>" as in the record's WARC-Payload-Digest
    record_id: str


class WarcStore:
    """Appends captures to ``<directory>/<prefix>-<UTC time>-<pid>-<n>.warc.gz``, rotating at ``max_bytes``."""

    def __init__(self, directory: str | Path, prefix: str = "fanwen", max_bytes: int = 1 << 30) -> None:
        self.directory = Path(directory)
        self.prefix = prefix
        self.max_bytes = max_bytes
        self._handle: io.BufferedWriter | None = None
        self._writer: WARCWriter | None = None  # writes uncompressed records into _record
        self._record = io.BytesIO()
        self._name = ""
        self._sequence = 0

    def _open_next(self) -> None:
        self.close()
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        self._sequence += 1
        self._name = f"{self.prefix}-{stamp}-{os.getpid()}-{self._sequence:05d}.warc.gz"
        self._handle = open(self.directory / self._name, "ab")
        self._writer = writer = WARCWriter(self._record, gzip=False)
        info = writer.create_warcinfo_record(self._name, {"software": "fanwen-archive", "format": "WARC File Format 1.1"})
        self._write_record(info)

    def _open_file(self) -> tuple[WARCWriter, io.BufferedWriter]:
        """The open WARC file's record writer and handle."""
        if self._writer is None or self._handle is None:
            raise RuntimeError("no WARC file is open")
        return self._writer, self._handle

    def _write_record(self, record) -> None:
        """Append one record as a gzip member of its own."""
        writer, handle = self._open_file()
        self._record.seek(0)
        self._record.truncate()
        writer.write_record(record)
        compressor = isal_zlib.compressobj(GZIP_LEVEL, isal_zlib.DEFLATED, 16 + isal_zlib.MAX_WBITS)  # gzip framing
        with self._record.getbuffer() as serialized:
            member = compressor.compress(serialized) + compressor.flush()
        handle.write(member)

    def write_page(self, page: FetchedPage) -> WarcLocation:
        if self._handle is None or self._handle.tell() >= self.max_bytes:
            self._open_next()
        writer, handle = self._open_file()
        request_headers = StatusAndHeaders(
            f"GET {_request_target(page)} HTTP/1.1", list(page.request_headers), is_http_request=True)
        request = writer.create_warc_record(page.requested_url or page.url, "request", http_headers=request_headers)
        headers = [(k, v) for k, v in page.headers if k.lower() not in _TRANSFER_HEADERS]
        headers.append(("Content-Length", str(len(page.body))))
        status = f"{page.status} {_REASONS.get(page.status, 'Unknown')}"
        http_headers = StatusAndHeaders(status, headers, protocol=page.protocol or "HTTP/1.1")
        # Given its length and digests, warcio writes the record as it stands; without them it
        # copies the body to a temporary file and digests it twice, chunk by chunk in Python.
        http_headers.compute_headers_buffer(writer.header_filter)
        response = writer.create_warc_record(
            page.url, "response", payload=io.BytesIO(page.body), length=len(page.body), http_headers=http_headers,
            warc_headers_dict={
                "WARC-Date": _warc_date(page.fetched_at),
                "WARC-Payload-Digest": _sha1_digest(page.body),
                "WARC-Block-Digest": _sha1_digest(http_headers.headers_buff, page.body),
            },
        )
        request.rec_headers.replace_header("WARC-Date", response.rec_headers.get_header("WARC-Date"))
        request.rec_headers.add_header("WARC-Concurrent-To", response.rec_headers.get_header("WARC-Record-ID"))
        self._write_record(request)
        offset = handle.tell()
        self._write_record(response)
        length = handle.tell() - offset
        return WarcLocation(
            file=self._name, offset=offset, length=length,
            payload_digest=response.rec_headers.get_header("WARC-Payload-Digest") or "",
            record_id=response.rec_headers.get_header("WARC-Record-ID"),
        )

    def sync(self) -> None:
        """Make written records durable before the archive's index points at them."""
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())

    def close(self) -> None:
        if self._handle is not None:
            self.sync()
            self._handle.close()
        self._handle = None
        self._writer = None

    def abandon(self) -> None:
        """Stop writing the current file without flushing it (after a failed write; no-op when closed).

        A write that failed may have left a cut gzip member at the file's end; the
        next record goes to a new file, so the cut member stays the file's tail
        and everything before it still reads in sequence.
        """
        if self._handle is not None:
            try:
                self._handle.close()
            except OSError:  # its buffer cannot be written: those records were never indexed
                pass
        self._handle = None
        self._writer = None


def _sha1_digest(*parts: bytes) -> str:
    """A WARC digest header value: ``sha1:`` and the base32 SHA-1 of the parts in sequence."""
    digest = hashlib.sha1()
    for part in parts:
        digest.update(part)
    return "sha1:" + base64.b32encode(digest.digest()).decode("ascii")


def _request_target(page: FetchedPage) -> str:
    parts = urlsplit(page.requested_url or page.url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _warc_date(fetched_at: str) -> str:
    moment = datetime.fromisoformat(fetched_at) if fetched_at else datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_page(directory: str | Path, file: str, offset: int, content_type_fallback: str | None = None) -> FetchedPage:
    """The response stored at ``offset`` of ``file``, as the crawler first saw it (minus transfer encodings)."""
    with open(Path(directory) / file, "rb") as handle:
        handle.seek(offset)
        record = next(iter(ArchiveIterator(handle)))
        body = record.content_stream().read()
        http = record.http_headers
        headers = tuple(http.headers)
        return FetchedPage(
            url=record.rec_headers.get_header("WARC-Target-URI"),
            body=body,
            content_type=http.get_header("Content-Type") or content_type_fallback,
            status=int(http.get_statuscode()),
            headers=headers,
            fetched_at=record.rec_headers.get_header("WARC-Date"),
        )
