"""Whether a crawl went as a crawl of its site usually goes: the judgement, as a pure function.

``judge_run(run, recent, ...)`` compares one crawl's figures with the site's recent crawls and
returns findings, each with the reason a person reads in the alert.  No Scrapy, no archive: the
crawl's extension (crawler/health.py) gathers the figures, stores the judgement and notifies.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

OK = "ok"
ALERT = "alert"

# Ways a crawl ends that are not failures: it ran out of work, an operator stopped it
# (Ctrl-C, SIGTERM), or it reached a limit the operator set (Scrapy's CloseSpider).
NORMAL_ENDINGS = frozenset(("finished", "shutdown", "closespider_timeout", "closespider_itemcount",
                            "closespider_pagecount"))

# Finding checks, as stored in crawl_runs.health_findings and named in alerts.
FAILED = "failed"
NOTHING_NEW = "nothing_new"
REJECTED_SHARE = "rejected_share"
WITHOUT_TEXT_SHARE = "without_text_share"
BODY_SELECTOR = "body_selector"


@dataclass(frozen=True)
class RunFigures:
    """What a crawl did, as far as its health is concerned (one ``crawl_runs`` row, or a crawl's stats)."""

    finish_reason: str | None
    pages_fetched: int = 0
    texts_new: int = 0
    texts_changed: int = 0
    texts_unchanged: int = 0
    articles_without_text: int = 0
    articles_skipped_known: int = 0
    pages_rejected: int = 0
    texts_by_locator: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Mapping) -> RunFigures:
        """Figures of a stored crawl run (the JSON columns as the archive keeps them)."""
        errors = json.loads(row.get("errors") or "{}")
        return cls(
            finish_reason=row.get("finish_reason"),
            pages_fetched=row.get("pages_fetched") or 0,
            texts_new=row.get("texts_new") or 0,
            texts_changed=row.get("texts_changed") or 0,
            texts_unchanged=row.get("texts_unchanged") or 0,
            articles_without_text=row.get("articles_without_text") or 0,
            articles_skipped_known=row.get("articles_skipped_known") or 0,
            pages_rejected=rejected_pages(errors),
            texts_by_locator=json.loads(row.get("texts_by_locator") or "{}"),
        )

    @property
    def new_or_changed(self) -> int:
        return self.texts_new + self.texts_changed

    @property
    def incremental(self) -> bool:
        """Whether the crawl met what the archive already held: a site's first crawl does not, and
        archives everything, so its new texts say nothing about what a later crawl should find."""
        return self.articles_skipped_known + self.texts_unchanged > 0

    @property
    def rejected_share(self) -> float | None:
        return self.pages_rejected / self.pages_fetched if self.pages_fetched else None

    @property
    def without_text_share(self) -> float | None:
        # Texts stand in for articles with text (a 合集 article gives several): a share that
        # leans low on collection sites, the same way in every crawl it is compared with.
        articles = self.articles_without_text + self.texts_new + self.texts_changed + self.texts_unchanged
        return self.articles_without_text / articles if articles else None

    @property
    def located_texts(self) -> int:
        return sum(self.texts_by_locator.values())

    @property
    def profile_located_share(self) -> float | None:
        located = self.located_texts
        return self.texts_by_locator.get("profile", 0) / located if located else None


def rejected_pages(errors: Mapping[str, int]) -> int:
    """Pages that became no text, from a crawl's errors by kind (``rejected:<reason>``)."""
    return sum(count for kind, count in errors.items() if kind.startswith("rejected:"))


@dataclass(frozen=True)
class HealthLimits:
    """How far from usual is "far".  Defaults err towards fewer alerts: a false alarm each night
    teaches people to ignore the mail."""

    recent_runs: int = 5  # earlier crawls of the site compared with
    min_baseline_runs: int = 2  # incremental crawls needed before "no new texts" is unusual
    share_margin: float = 0.25  # a share is far above usual when it exceeds usual by this much ...
    share_factor: float = 2.0  # ... and is at least this many times usual
    min_count: int = 5  # fewer rejected pages or empty articles than this are never alarming
    min_located_texts: int = 3  # texts needed to say how often the body selector matched
    selector_share: float = 0.5  # a body selector that located fewer texts than this has stopped matching


@dataclass(frozen=True)
class Finding:
    """One reason a crawl is not normal: ``check`` (a short key) and ``reason`` (a sentence)."""

    check: str
    reason: str

    def as_json(self) -> dict[str, str]:
        return {"check": self.check, "reason": self.reason}


def health_of(findings: Sequence[Finding]) -> str:
    return ALERT if findings else OK


def judge_run(
    run: RunFigures, recent: Sequence[RunFigures], has_body_selector: bool, limits: HealthLimits = HealthLimits()
) -> list[Finding]:
    """The findings that make a crawl abnormal, compared with the site's ``recent`` crawls (newest first).

    Failed crawls in ``recent`` are no measure of what is usual and are left out.
    """
    baseline = [r for r in recent if r.finish_reason in NORMAL_ENDINGS][: limits.recent_runs]
    findings: list[Finding] = []
    if run.finish_reason not in NORMAL_ENDINGS:
        findings.append(Finding(FAILED, f"the crawl ended with {run.finish_reason or 'no recorded outcome'}"))
    elif run.pages_fetched == 0:
        findings.append(Finding(FAILED, "the crawl fetched no page (site unreachable, or robots.txt forbids it)"))
    findings.extend(_nothing_new(run, baseline, limits))
    findings.extend(_share_far_above(
        REJECTED_SHARE, "pages rejected", run.pages_rejected, run.rejected_share,
        [r.rejected_share for r in baseline], limits,
    ))
    findings.extend(_share_far_above(
        WITHOUT_TEXT_SHARE, "articles without text", run.articles_without_text, run.without_text_share,
        [r.without_text_share for r in baseline], limits,
    ))
    if has_body_selector:
        findings.extend(_body_selector(run, baseline, limits))
    return findings


def _nothing_new(run: RunFigures, baseline: Sequence[RunFigures], limits: HealthLimits) -> list[Finding]:
    # A crawl stopped early found what it found; a failed one is reported as failed.
    if run.finish_reason != "finished" or run.new_or_changed:
        return []
    comparable = [r for r in baseline if r.incremental]
    if len(comparable) < limits.min_baseline_runs or not all(r.new_or_changed for r in comparable):
        return []
    counts = ", ".join(str(r.new_or_changed) for r in comparable)
    return [Finding(NOTHING_NEW, f"no new or changed texts, where each of the last {len(comparable)} crawls "
                                 f"had some ({counts})")]


def _share_far_above(
    check: str, what: str, count: int, share: float | None, usual_shares: Sequence[float | None],
    limits: HealthLimits,
) -> list[Finding]:
    if share is None or count < limits.min_count:
        return []
    known = [s for s in usual_shares if s is not None]
    usual = statistics.median(known) if known else 0.0
    if share < usual + limits.share_margin or share < usual * limits.share_factor:
        return []
    against = f"usually {usual:.0%}" if known else "no earlier crawl to compare with"
    return [Finding(check, f"{count} {what} ({share:.0%}; {against})")]


def _body_selector(run: RunFigures, baseline: Sequence[RunFigures], limits: HealthLimits) -> list[Finding]:
    share = run.profile_located_share
    if share is None or run.located_texts < limits.min_located_texts or share >= limits.selector_share:
        return []
    usual = [earlier for r in baseline
             if r.located_texts >= limits.min_located_texts and (earlier := r.profile_located_share) is not None]
    # A selector that rarely matched before was reported then; "stopped matching" is news.
    if usual and statistics.median(usual) < limits.selector_share:
        return []
    against = f"usually {statistics.median(usual):.0%}" if usual else "no earlier crawl to compare with"
    matched = run.texts_by_locator.get("profile", 0)
    return [Finding(BODY_SELECTOR, f"the profile's body selector matched {matched} of the {run.located_texts} "
                                   f"texts cleaned ({against}); the rest were located without it")]


@dataclass(frozen=True)
class CrawlAlert:
    """What an alert says about one crawl, by e-mail (``subject``, ``text``) or webhook (``payload``)."""

    site: str
    run_id: int | None
    started_at: str | None
    finish_reason: str | None
    findings: tuple[Finding, ...]

    @property
    def subject(self) -> str:
        checks = ", ".join(dict.fromkeys(finding.check for finding in self.findings))
        return f"[fanwen] crawl of {self.site} needs a look: {checks}"

    @property
    def text(self) -> str:
        lines = [
            (f"The crawl of {self.site} started at {self.started_at} (crawl_runs id {self.run_id}) "
             f"ended with {self.finish_reason} and is not what crawls of this site usually are:"),
            "",
            *(f"- {finding.check}: {finding.reason}" for finding in self.findings),
            "",
            ("The crawl's row in crawl_runs keeps these findings (health_findings); `fanwen sites` shows each "
             "site's last health. A profile whose selectors stopped matching is checked against a saved page "
             f"with `fanwen profile check {self.site} PAGE --url URL`."),
        ]
        return "\n".join(lines) + "\n"

    def payload(self) -> dict:
        return {
            "site": self.site, "run_id": self.run_id, "started_at": self.started_at,
            "finish_reason": self.finish_reason, "health": ALERT,
            "findings": [finding.as_json() for finding in self.findings],
        }
