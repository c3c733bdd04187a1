"""Crawl health: when a crawl closes, Spidermon runs ``CrawlHealthSuite`` on it.

The monitor judges the crawl's ``crawl_runs`` row against the site's recent crawls
(``archive.crawl_health.judge_run``, a pure function); the suite's actions store the
judgement on the row and, when the crawl is not normal, notify: an e-mail to
``FANWEN_ALERT_MAIL_TO`` (through the SMTP server of Scrapy's ``MAIL_*`` settings) and a
JSON POST to ``FANWEN_ALERT_WEBHOOK``.  Spidermon's own e-mail action requires an SMTP login,
its ``monitoring`` extra and Scrapy's ``scrapy.mail`` (deprecated in Scrapy 2.19), and it has
no plain webhook, so these two actions are our own.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import smtplib
import warnings
from email.message import EmailMessage
from io import BytesIO
from typing import ClassVar

from scrapy.crawler import Crawler
from scrapy.exceptions import ScrapyDeprecationWarning
from spidermon import Monitor, MonitorSuite, monitors
from spidermon.core.actions import Action
from spidermon.exceptions import SkipAction
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThread
from twisted.web.client import Agent, FileBodyProducer, readBody
from twisted.web.http_headers import Headers

from archive.crawl_health import CrawlAlert, Finding, HealthLimits, RunFigures, health_of, judge_run
from archive.database import Archive
from crawler.extensions import CRAWL_RUN_ID_STAT

log = logging.getLogger("fanwen.health")

HEALTH_STAT = "fanwen/health"
FINDINGS_STAT = "fanwen/health_findings"  # JSON list of {check, reason}
LOCATORS_STAT = "fanwen/texts_by_locator"  # JSON object: locator -> texts

# Spidermon (1.27) writes its report through Spider.log(), which Scrapy 2.18+ deprecates:
# one warning per report line in every crawl's log, about code that is not ours.
warnings.filterwarnings("ignore", message=r"Spider\.log\(\) is deprecated", category=ScrapyDeprecationWarning,
                        module=r"spidermon\.")


def judge_crawl(crawler: Crawler) -> list[Finding] | None:
    """Judge the crawl's ``crawl_runs`` row against the site's recent crawls; the findings also go
    into the crawl's stats, for the actions.  None when the crawl keeps no row (a distributed worker)."""
    stats = crawler.stats
    run_id = stats.get_value(CRAWL_RUN_ID_STAT)
    if run_id is None:
        return None
    spider = crawler.spider
    assert spider is not None  # judged at spider_closed
    limits = HealthLimits(recent_runs=crawler.settings.getint("FANWEN_HEALTH_RECENT_RUNS"))
    with Archive(crawler.settings.get("FANWEN_ARCHIVE")) as archive:
        row = archive.crawl_run(run_id)
        if row is None or row["finished_at"] is None:
            # CrawlRunLog completes the row at spider_closed, before this suite runs (EXTENSIONS order).
            raise RuntimeError(f"crawl_runs row {run_id} of {spider.name} is not completed")
        locators = archive.texts_by_locator(spider.name, row["started_at"])
        recent = [RunFigures.from_row(r) for r in archive.recent_runs(spider.name, run_id, limits.recent_runs)]
    run = dataclasses.replace(RunFigures.from_row(row), texts_by_locator=locators)
    profile = getattr(spider, "profile", None)  # every spider of this project is a profile's
    has_body_selector = bool(profile and profile.extract.body)
    findings = judge_run(run, recent, has_body_selector=has_body_selector, limits=limits)
    stats.set_value(HEALTH_STAT, health_of(findings))
    stats.set_value(FINDINGS_STAT, json.dumps([f.as_json() for f in findings], ensure_ascii=False))
    stats.set_value(LOCATORS_STAT, json.dumps(locators, sort_keys=True))
    return findings


@monitors.name("crawl health")
class CrawlHealthMonitor(Monitor):
    @monitors.name("outcome usual for the site")
    def test_outcome_is_usual(self) -> None:
        findings = judge_crawl(self.data.crawler)
        if findings is None:
            self.skipTest("this crawl keeps no crawl_runs row (a distributed worker)")
        if findings:
            self.fail("; ".join(f"{finding.check}: {finding.reason}" for finding in findings))


class _CrawlAction(Action):
    """A Spidermon action that keeps the crawler (Spidermon builds actions with ``from_crawler``)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__()
        self.crawler: Crawler = crawler

    @classmethod
    def from_crawler_kwargs(cls, crawler: Crawler) -> dict:
        return {"crawler": crawler}

    def findings(self) -> list[Finding]:
        stored = self.crawler.stats.get_value(FINDINGS_STAT)
        if stored is None:  # the monitor itself failed: Spidermon's report in the log has the error
            return [Finding("health_check", "the crawl's health could not be judged; see the crawl's log")]
        return [Finding(**finding) for finding in json.loads(stored)]

    def alert(self) -> CrawlAlert:
        run_id = self.crawler.stats.get_value(CRAWL_RUN_ID_STAT)
        row: dict = {}
        if run_id is not None:
            with Archive(self.crawler.settings.get("FANWEN_ARCHIVE")) as archive:
                row = archive.crawl_run(run_id) or {}
        return CrawlAlert(
            site=self.crawler.spider.name if self.crawler.spider else "", run_id=run_id, started_at=row.get("started_at"),
            finish_reason=row.get("finish_reason", self.crawler.stats.get_value("finish_reason")),
            findings=tuple(self.findings()),
        )


class RecordCrawlHealth(_CrawlAction):
    """Stores the judgement on the crawl's ``crawl_runs`` row: health, findings, texts by locator."""

    def run_action(self) -> None:
        run_id = self.crawler.stats.get_value(CRAWL_RUN_ID_STAT)
        if run_id is None:
            raise SkipAction("no crawl_runs row")
        findings = self.findings() if self.monitors_failed else []
        locators = json.loads(self.crawler.stats.get_value(LOCATORS_STAT) or "{}")
        with Archive(self.crawler.settings.get("FANWEN_ARCHIVE")) as archive:
            archive.record_health(run_id, health_of(findings), [f.as_json() for f in findings], locators)


def _hold_shutdown(deferred: Deferred) -> None:
    """Keep the reactor running until ``deferred`` fires: a crawl process stops it right after the
    crawl, which would drop a notification still on its way."""
    from twisted.internet import reactor

    # Twisted declares the interface's methods without self, which its type stubs read as one argument short.
    reactor.addSystemEventTrigger("before", "shutdown", lambda: deferred)  # type: ignore[arg-type]


class MailCrawlAlert(_CrawlAction):
    """E-mails the alert to ``FANWEN_ALERT_MAIL_TO`` through the SMTP server of Scrapy's ``MAIL_*`` settings."""

    def run_action(self) -> None:
        recipients = self.crawler.settings.getlist("FANWEN_ALERT_MAIL_TO")
        if not recipients:
            raise SkipAction("FANWEN_ALERT_MAIL_TO is not set")
        alert = self.alert()
        message = EmailMessage()
        message["Subject"], message["To"] = alert.subject, ", ".join(recipients)
        message["From"] = self.crawler.settings.get("MAIL_FROM")
        message.set_content(alert.text)
        # smtplib blocks: in a thread, so the crawl's reactor keeps serving other crawls meanwhile.
        sent = deferToThread(send_mail, SmtpServer.from_settings(self.crawler.settings), message)
        sent.addCallback(lambda _: log.info("crawl alert mailed to %s", ", ".join(recipients)))
        sent.addErrback(lambda failure: log.error("could not mail the crawl alert to %s: %s",
                                                  ", ".join(recipients), failure.getErrorMessage()))
        _hold_shutdown(sent)


@dataclasses.dataclass(frozen=True)
class SmtpServer:
    """Where alerts are mailed: Scrapy's mail settings (MAIL_HOST, MAIL_PORT, MAIL_USER, MAIL_PASS,
    MAIL_TLS for STARTTLS, MAIL_SSL for a TLS connection)."""

    host: str
    port: int
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    ssl: bool = False
    timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings) -> SmtpServer:
        return cls(settings.get("MAIL_HOST"), settings.getint("MAIL_PORT"), settings.get("MAIL_USER"),
                   settings.get("MAIL_PASS"), settings.getbool("MAIL_TLS"), settings.getbool("MAIL_SSL"))


def send_mail(server: SmtpServer, message: EmailMessage) -> None:
    """Send ``message`` (blocking).  Scrapy 2.19 deprecates its own ``scrapy.mail``, hence smtplib."""
    connect = smtplib.SMTP_SSL if server.ssl else smtplib.SMTP
    with connect(server.host, server.port, timeout=server.timeout) as smtp:
        if server.starttls:
            smtp.starttls()
        if server.user:
            smtp.login(server.user, server.password or "")
        smtp.send_message(message)


class PostCrawlAlert(_CrawlAction):
    """POSTs the alert as JSON to ``FANWEN_ALERT_WEBHOOK`` (a chat hook, an incident service, a script)."""

    def run_action(self) -> None:
        url = self.crawler.settings.get("FANWEN_ALERT_WEBHOOK")
        if not url:
            raise SkipAction("FANWEN_ALERT_WEBHOOK is not set")
        timeout = self.crawler.settings.getfloat("FANWEN_ALERT_WEBHOOK_TIMEOUT")
        _hold_shutdown(post_json(url, self.alert().payload(), timeout, self.crawler.settings.get("USER_AGENT")))


def post_json(url: str, payload: dict, timeout: float, user_agent: str) -> Deferred:
    """POST ``payload`` as JSON; the result is logged, never raised (an alert must not fail the crawl)."""
    from twisted.internet import reactor

    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    headers = Headers({b"Content-Type": [b"application/json; charset=utf-8"], b"User-Agent": [user_agent.encode()]})
    request = Agent(reactor, connectTimeout=timeout).request(
        b"POST", url.encode("ascii"), headers, FileBodyProducer(BytesIO(body)),  # type: ignore[arg-type]  # implements it
    )
    request.addTimeout(timeout, reactor)

    def answered(response) -> Deferred:
        drained = readBody(response)  # read the answer so the connection closes cleanly
        drained.addCallback(lambda _: log.log(
            logging.INFO if response.code < 300 else logging.ERROR,
            "crawl alert posted to %s: HTTP %s", url, response.code,
        ))
        return drained

    request.addCallback(answered)
    request.addErrback(lambda failure: log.error("could not post the crawl alert to %s: %s", url,
                                                 failure.getErrorMessage()))
    return request


class CrawlHealthSuite(MonitorSuite):
    """Run at spider_closed by Spidermon (``SPIDERMON_SPIDER_CLOSE_MONITORS`` in crawler/settings.py)."""

    monitors: ClassVar[list] = [CrawlHealthMonitor]
    monitors_finished_actions: ClassVar[list] = [RecordCrawlHealth]
    monitors_failed_actions: ClassVar[list] = [MailCrawlAlert, PostCrawlAlert]
