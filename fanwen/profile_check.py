"""``fanwen profile check``: what a profile extracts from a saved page, and which of its rules fired.

The extraction itself is ``pipelines.extraction.extract_texts``; this module
only asks, selector by selector, which of the profile's rules match the page,
so a user editing a profile sees why a text came out the way it did.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.decoding import decode_html
from pipelines.extraction import bounded_document, extract_texts
from pipelines.parsing import browser_tree
from pipelines.rules import ExtractionRules, compiled_selector
from pipelines.selector_trees import CAUSES, SelectorFinding, compare_selector
from records.texts import CleaningReport, FetchedPage, PageExtraction


@dataclass(frozen=True)
class RuleHit:
    field: str  # extract.title, extract.body, …
    selector: str
    matches: int
    used: bool  # the rule the core acted on (first matching selector for title/body/date)


@dataclass(frozen=True)
class TreeDisagreement:
    """A selector matching differently in lxml's tree and in a browser's (see ``pipelines.selector_trees``)."""

    field: str
    finding: SelectorFinding

    @property
    def is_error(self) -> bool:
        # The rule does nothing as written, though the developer tools showed it matching.
        return self.finding.missed_here


@dataclass
class CheckReport:
    encoding: str
    extraction: PageExtraction
    rules: list[RuleHit] = field(default_factory=list)
    disagreements: list[TreeDisagreement] = field(default_factory=list)
    trees_note: str | None = None  # why the selectors were not compared in a browser's tree

    @property
    def body_from_rule(self) -> bool:
        return any(hit.used for hit in self.rules if hit.field == "extract.body")

    @property
    def errors(self) -> list[TreeDisagreement]:
        return [disagreement for disagreement in self.disagreements if disagreement.is_error]


_FIRST_MATCH_FIELDS = ("title", "body", "date")
_ALL_MATCH_FIELDS = ("drop", "next_page")


def check_page(body: bytes, url: str, rules: ExtractionRules, content_type: str | None = None) -> CheckReport:
    decoded = decode_html(body, content_type, rules.encoding)
    document = bounded_document(decoded.text)
    root = document.root
    hits = []
    for name in _FIRST_MATCH_FIELDS + _ALL_MATCH_FIELDS:
        used_one = False
        for css in getattr(rules, name):
            count = len(compiled_selector(css)(root))
            used = count > 0 and (name in _ALL_MATCH_FIELDS or not used_one)
            used_one = used_one or count > 0
            hits.append(RuleHit(f"extract.{name}", css, count, used))
    extraction = extract_texts([FetchedPage(url=url, body=body, content_type=content_type)], rules)
    report = CheckReport(encoding=decoded.encoding, extraction=extraction, rules=hits)
    if document.parser != "lxml":
        report.trees_note = (f"the page is read in a browser's tree ({document.suspect}): selectors match "
                             "as in the developer tools")
    elif document.cut:
        report.trees_note = "the page is over the work bounds and only partly read: selectors not compared"
    elif (browser_root := browser_tree(decoded.text)) is None:
        report.trees_note = "the page is too large for a browser's parse here: selectors not compared"
    else:
        report.disagreements = [
            TreeDisagreement(hit.field, finding) for hit in hits
            if not (finding := compare_selector(hit.selector, root, browser_root, document.suspect)).agree
        ]
    return report


def format_report(report: CheckReport, profile_name: str) -> str:
    lines = [f"profile {profile_name}; page decoded as {report.encoding}", "", "rules:"]
    for hit in report.rules:
        state = "used" if hit.used else ("matched, not used" if hit.matches else "no match")
        lines.append(f"  {hit.field:20} {hit.selector!r}: {hit.matches} element(s), {state}")
    if not report.body_from_rule:
        lines.append("  (no extract.body rule matched: the body container was found by the general "
                     "main-content locator)")
    lines += tree_listing(report)
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


def tree_listing(report: CheckReport) -> list[str]:
    """The selectors that match differently in a browser's tree (the developer tools'), with the fix."""
    lines = ["", "selectors in a browser's tree (BeautifulSoup4 + html5lib, the tree the developer tools show):"]
    if report.trees_note:
        return [*lines, f"  {report.trees_note}"]
    if not report.disagreements:
        return [*lines, f"  all {len(report.rules)} match as in lxml's tree"]
    for disagreement in report.disagreements:
        finding = disagreement.finding
        here, there = len(finding.lxml_texts), len(finding.browser_texts)
        counts = (f"{here} element(s) in each tree, holding different text" if here == there
                  else f"{here} element(s) in lxml's tree, {there} in a browser's")
        level = "error" if disagreement.is_error else "warning"
        lines.append(f"  {level:8} {disagreement.field:20} {finding.selector!r}: {counts}")
        lines.append(f"           why: {CAUSES.get(finding.cause or '', 'the trees differ')}")
        if finding.fix:
            lines.append(f"           fix: {finding.fix!r} matches the same {there or here} element(s) in both trees")
        elif disagreement.is_error:
            lines.append("           fix: none found; write the selector from the page's source (view-source:), "
                         "which is what lxml reads")
    agreeing = len(report.rules) - len(report.disagreements)
    if agreeing:
        lines.append(f"  (the other {agreeing} match as in lxml's tree)")
    return lines


def removal_listing(report: CleaningReport | None) -> list[str]:
    """What cleaning removed from the main block, one line per removal: reason, characters, text."""
    if report is None:
        return []
    lines = ["", f"removed from the main block ({report.locator} locator, {report.parser} tree; "
                 f"{report.block_chars} visible chars, {report.kept_chars} kept):"]
    lines += [f"  {removal.reason:28} {removal.chars:6}  {removal.text}" for removal in report.removed] or ["  nothing"]
    lines += [f"  note: {note}" for note in report.notes]
    return lines
