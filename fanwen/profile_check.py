"""``fanwen profile check``: what a profile extracts from a saved page, and which of its rules fired.

The extraction itself is ``pipelines.extraction.extract_texts``; this module
only asks, selector by selector, which of the profile's rules match the page,
so a user editing a profile sees why a text came out the way it did.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.decoding import decode_html
from pipelines.extraction import bounded_document, extract_texts
from records.texts import CleaningReport, FetchedPage, PageExtraction
from pipelines.rules import ExtractionRules, compiled_selector


@dataclass(frozen=True)
class RuleHit:
    field: str  # extract.title, extract.body, …
    selector: str
    matches: int
    used: bool  # the rule the core acted on (first matching selector for title/body/date)


@dataclass
class CheckReport:
    encoding: str
    extraction: PageExtraction
    rules: list[RuleHit] = field(default_factory=list)

    @property
    def body_from_rule(self) -> bool:
        return any(hit.used for hit in self.rules if hit.field == "extract.body")


_FIRST_MATCH_FIELDS = ("title", "body", "date")
_ALL_MATCH_FIELDS = ("drop", "next_page")


def check_page(body: bytes, url: str, rules: ExtractionRules, content_type: str | None = None) -> CheckReport:
    decoded = decode_html(body, content_type, rules.encoding)
    root = bounded_document(decoded.text).root
    hits = []
    for name in _FIRST_MATCH_FIELDS + _ALL_MATCH_FIELDS:
        used_one = False
        for css in getattr(rules, name):
            count = len(compiled_selector(css)(root))
            used = count > 0 and (name in _ALL_MATCH_FIELDS or not used_one)
            used_one = used_one or count > 0
            hits.append(RuleHit(f"extract.{name}", css, count, used))
    extraction = extract_texts([FetchedPage(url=url, body=body, content_type=content_type)], rules)
    return CheckReport(encoding=decoded.encoding, extraction=extraction, rules=hits)


def format_report(report: CheckReport, profile_name: str) -> str:
    lines = [f"profile {profile_name}; page decoded as {report.encoding}", "", "rules:"]
    for hit in report.rules:
        state = "used" if hit.used else ("matched, not used" if hit.matches else "no match")
        lines.append(f"  {hit.field:20} {hit.selector!r}: {hit.matches} element(s), {state}")
    if not report.body_from_rule:
        lines.append("  (no extract.body rule matched: the body container was found by the general main-content locator)")
    extraction = report.extraction
    lines.append("")
    if extraction.skipped:
        lines.append(f"no text extracted: {extraction.skipped}")
        return "\n".join(lines) + "\n"
    first = extraction.texts[0]
    lines += [
        f"title:     {first.title}",
        f"published: {first.published or '(none found)'}",
        f"truncated: {'yes' if first.truncated else 'no'}",
        f"genre:     {first.genre or '(none)'}",
        f"continuation pages: {', '.join(first.next_pages) or 'none'}",
        f"texts:     {len(extraction.texts)}",
    ]
    if first.collection_title:
        lines.append(f"collection: {first.collection_title} (each text is titled by its own heading)")
    lines += removal_listing(first.cleaning)
    for text in extraction.texts:
        lines += ["", f"--- text {text.part} ({text.chars} chars) ---", text.text]
    return "\n".join(lines) + "\n"


def removal_listing(report: CleaningReport | None) -> list[str]:
    """What cleaning removed from the main block, one line per removal: reason, characters, text."""
    if report is None:
        return []
    lines = ["", f"removed from the main block ({report.locator} locator, {report.parser} tree; "
                 f"{report.block_chars} visible chars, {report.kept_chars} kept):"]
    lines += [f"  {removal.reason:28} {removal.chars:6}  {removal.text}" for removal in report.removed] or ["  nothing"]
    lines += [f"  note: {note}" for note in report.notes]
    return lines
