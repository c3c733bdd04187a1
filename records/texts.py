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
class Removal:
    """Something a reader of the page could see in the main block that the cleaner removed, and why."""

    reason: str  # e.g. "hidden", "link_list", "tail:related_list", "truncation_notice"
    chars: int  # visible characters removed
    text: str = ""  # the removed text, or its start

    def as_json(self) -> list:
        return [self.reason, self.chars, self.text]


@dataclass(frozen=True)
class CleaningReport:
    """How one text was cleaned: which parser and locator, what the main block held, what was removed.

    The archive stores it beside the text (``texts.cleaning``), so a removal is never silent.
    """

    parser: str = "lxml"  # "lxml", or "html5lib" when lxml's tree was suspect
    locator: str = "generic"  # "profile" (a body selector matched), "generic", "whole_page"
    block_chars: int = 0  # visible characters of the main block(s) before cleaning
    kept_chars: int = 0  # characters of the clean text(s)
    removed: tuple[Removal, ...] = ()
    notes: tuple[str, ...] = ()  # e.g. "parse_suspect:excessive_depth", "collection_intro_dropped"

    def removed_chars_by_reason(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for removal in self.removed:
            totals[removal.reason] = totals.get(removal.reason, 0) + removal.chars
        return totals

    def as_json(self) -> dict:
        return {
            "parser": self.parser, "locator": self.locator, "block_chars": self.block_chars,
            "kept_chars": self.kept_chars, "removed_by_reason": self.removed_chars_by_reason(),
            "removed": [removal.as_json() for removal in self.removed[:_MAX_LISTED_REMOVALS]],
            "notes": list(self.notes),
        }


_MAX_LISTED_REMOVALS = 60


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
    collection_title: str | None = None  # the page's title when this text is one part of a 合集 page
    cleaning: CleaningReport | None = None

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
