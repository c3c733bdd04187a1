"""Records that cross module lines: a fetched page in, extracted texts out."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FetchedPage:
    """One HTTP response of an article (page 1 or a continuation page)."""

    url: str  # final URL, after redirects
    body: bytes
    content_type: str | None = None
    status: int = 200
    # Provenance, for the raw captures (WARC) and their index; the cleaning core ignores these.
    headers: tuple[tuple[str, str], ...] = ()  # response headers as received
    request_headers: tuple[tuple[str, str], ...] = ()
    requested_url: str | None = None  # the URL first requested, when a redirect led elsewhere
    fetched_at: str = ""  # UTC ISO-8601
    protocol: str = "HTTP/1.1"


@dataclass(frozen=True)
class ExtractedText:
    """One clean text found on an article page (a 合集 page yields several)."""

    url: str
    title: str
    published: str | None  # YYYY-MM-DD
    text: str  # paragraphs joined by "\n"
    truncated: bool
    genre: str
    placeholders: tuple[str, ...] = ()
    part: int = 1
    next_pages: tuple[str, ...] = ()
    encoding: str = ""

    @property
    def chars(self) -> int:
        return len(self.text)


@dataclass(frozen=True)
class PageExtraction:
    """What one article (all its pages) yielded; ``skipped`` says why there is no text."""

    texts: list[ExtractedText] = field(default_factory=list)
    skipped: str | None = None
    # (declared, used) encoding of each page read, in order, as decode_html found them:
    # the archive records them per capture without decoding the pages again.
    encodings: tuple[tuple[str | None, str], ...] = ()
