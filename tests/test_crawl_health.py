"""Crawl health: the judgement (pure), its record in crawl_runs, and the alerts a crawl sends.

The integration tests crawl a replica twice: a redesign between the crawls (the body
container's class renamed, so the profile's body selector stops matching) raises an alert that
an SMTP server and a webhook on 127.0.0.1 receive; a healthy recrawl sends nothing.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import urllib.request
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from archive.crawl_health import (
    ALERT,
    BODY_SELECTOR,
    FAILED,
    NOTHING_NEW,
    OK,
    REJECTED_SHARE,
    WITHOUT_TEXT_SHARE,
    CrawlAlert,
    Finding,
    RunFigures,
    health_of,
    judge_run,
)
from archive.database import Archive, CrawlRunSummary, SaveCounts
from replica.process import change_replica, running_replicas
from tests.conftest import REPO, free_port, run_fanwen
from tests.replica_crawl import crawl

# -- the judgement ---------------------------------------------------------------------------

FIRST = RunFigures("finished", pages_fetched=60, texts_new=50, texts_by_locator={"profile": 50})


def recrawl(new: int = 3, **figures) -> RunFigures:
    """An incremental crawl of a site whose articles are mostly archived already."""
    values = {"finish_reason": "finished", "pages_fetched": 8, "texts_new": new, "articles_skipped_known": 40,
              "texts_by_locator": {"profile": new}, **figures}
    return RunFigures(**values)


def checks(findings: list[Finding]) -> list[str]:
    return [finding.check for finding in findings]


def test_a_first_crawl_and_healthy_recrawls_are_ok():
    assert judge_run(FIRST, [], has_body_selector=True) == []
    assert judge_run(recrawl(), [FIRST], has_body_selector=True) == []
    assert judge_run(recrawl(), [recrawl(), recrawl(), FIRST], has_body_selector=True) == []
    assert health_of([]) == OK


def test_a_failed_crawl_is_an_alert():
    assert checks(judge_run(recrawl(finish_reason="disk_full"), [FIRST], True)) == [FAILED]
    assert checks(judge_run(recrawl(pages_fetched=0, texts_new=0, texts_by_locator={}), [FIRST], True)) == [FAILED]
    # an operator's stop is not a failure
    assert judge_run(recrawl(finish_reason="shutdown"), [FIRST], True) == []


def test_nothing_new_counts_only_where_recent_incremental_crawls_had_some():
    quiet = recrawl(new=0, texts_by_locator={})
    # the first crawl archives everything: its new texts are no measure
    assert judge_run(quiet, [FIRST], True) == []
    assert judge_run(quiet, [recrawl(), FIRST], True) == []  # one earlier recrawl is too few
    findings = judge_run(quiet, [recrawl(2), recrawl(4), FIRST], True)
    assert checks(findings) == [NOTHING_NEW] and "(2, 4)" in findings[0].reason
    # a site that often has nothing new is usual when it has nothing new
    assert judge_run(quiet, [recrawl(2), quiet, recrawl(4)], True) == []


def test_a_share_far_above_the_sites_usual_is_an_alert():
    rejected = recrawl(pages_rejected=6)  # 6 of 8 pages
    findings = judge_run(rejected, [recrawl(), FIRST], True)
    assert checks(findings) == [REJECTED_SHARE] and "6 pages rejected (75%; usually 0%)" in findings[0].reason
    # a site whose pages are often rejected (an anti-bot wall on part of it) is judged against that
    assert judge_run(rejected, [recrawl(pages_rejected=5), recrawl(pages_rejected=6)], True) == []
    # too few to mean anything
    assert judge_run(recrawl(pages_rejected=4), [FIRST], True) == []
    empty = recrawl(new=2, articles_without_text=8, texts_by_locator={"profile": 2})
    assert checks(judge_run(empty, [recrawl(), FIRST], True)) == [WITHOUT_TEXT_SHARE]


def test_a_body_selector_that_stopped_matching_is_an_alert():
    relaid = recrawl(new=4, texts_by_locator={"generic": 4})
    findings = judge_run(relaid, [recrawl(), FIRST], has_body_selector=True)
    assert checks(findings) == [BODY_SELECTOR]
    assert "matched 0 of the 4 texts cleaned (usually 100%)" in findings[0].reason
    # a profile without body selectors always uses the generic locator
    assert judge_run(relaid, [recrawl(), FIRST], has_body_selector=False) == []
    # a selector that never matched well was reported when it started; not news now
    assert judge_run(relaid, [recrawl(new=4, texts_by_locator={"generic": 4})], True) == []
    # too few texts to tell
    assert judge_run(recrawl(new=2, texts_by_locator={"generic": 2}), [FIRST], True) == []


def test_failed_crawls_are_no_measure_of_usual():
    broken = recrawl(finish_reason="archive_error", pages_rejected=8, texts_new=0)
    rejected = recrawl(pages_rejected=6)
    assert checks(judge_run(rejected, [broken, broken, FIRST], True)) == [REJECTED_SHARE]


def test_figures_from_a_stored_run():
    row = {"finish_reason": "finished", "pages_fetched": 10, "texts_new": None, "articles_skipped_known": 3,
           "errors": json.dumps({"rejected:empty": 2, "rejected:http_404": 1, "http:500": 4}),
           "texts_by_locator": json.dumps({"profile": 5})}
    figures = RunFigures.from_row(row)
    assert figures.pages_rejected == 3 and figures.texts_new == 0 and figures.incremental
    assert figures.profile_located_share == 1.0


def test_alert_wording():
    alert = CrawlAlert("huabo", 7, "2026-01-02T03:17:00+00:00", "finished",
                       (Finding(BODY_SELECTOR, "the profile's body selector matched 0 of the 4 texts cleaned"),))
    assert alert.subject == "[fanwen] crawl of huabo needs a look: body_selector"
    assert "- body_selector: the profile's body selector matched 0" in alert.text
    assert alert.payload()["findings"] == [{"check": BODY_SELECTOR, "reason": alert.findings[0].reason}]


# -- the record in the archive ---------------------------------------------------------------


def test_health_is_stored_on_the_crawl_run(tmp_path):
    with Archive(tmp_path / "archive.db") as archive:
        first = archive.start_run("huabo")
        archive.finish_run(first, CrawlRunSummary("finished", 10, 10, SaveCounts(8), 0, 0, {}))
        archive.record_health(first, OK, [], {"profile": 8})
        second = archive.start_run("huabo")
        archive.finish_run(second, CrawlRunSummary("finished", 5, 5, SaveCounts(3), 0, 8, {}))
        findings = [Finding(BODY_SELECTOR, "matched 0 of 3").as_json()]
        archive.record_health(second, ALERT, findings, {"generic": 3})
        archive.start_run("huabo")  # still running: not a measure of anything
        assert [run["id"] for run in archive.recent_runs("huabo", before_id=99, limit=5)] == [second, first]
        assert RunFigures.from_row(archive.recent_runs("huabo", second, 5)[0]).texts_by_locator == {"profile": 8}
        last = archive.last_runs()["huabo"]
        assert last["health"] is None  # the running crawl is not judged yet
    row = sqlite3.connect(tmp_path / "archive.db").execute(
        "select health, health_findings, texts_by_locator from crawl_runs where id = ?", [second]).fetchone()
    assert row[0] == ALERT and json.loads(row[1]) == findings and json.loads(row[2]) == {"generic": 3}


# -- crawls of a replica, with an SMTP server and a webhook on 127.0.0.1 -------------------------


class _Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp_sink():
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, inbox.messages
    finally:
        controller.stop()


@pytest.fixture
def webhook_sink():
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/crawl", received
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def replica():
    with running_replicas(["huabo"]) as urls:  # a server of its own: these tests change the site
        yield urls["huabo"]


SITE = "healthsite"
CATEGORY = "xinde"  # one category of the replica keeps each crawl short


def one_category_profile(directory: Path) -> Path:
    """The huabo profile renamed, starting at one category's list, without the sitemap (which lists
    every category's articles)."""
    text = (REPO / "crawler" / "profiles" / "huabo.toml").read_text(encoding="utf-8")
    text = text.replace('name = "huabo"', f'name = "{SITE}"', 1)
    text = text.replace('start_urls = ["http://127.0.0.1:8371/"]', f'start_urls = ["http://127.0.0.1:8371/list/{CATEGORY}/"]', 1)
    text = text.replace('sitemaps = ["/sitemap.xml"]\n', "", 1)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{SITE}.toml").write_text(text, encoding="utf-8")
    return directory


def publish_in_category(base_url: str, wanted: int) -> None:
    # the replica spreads new articles over its four categories in turn; xinde is the third
    change_replica(base_url, "publish", 4 * wanted)


def relayout(base_url: str, old: str, new: str) -> dict:
    request = urllib.request.Request(f"{base_url.rstrip('/')}/__replica__/relayout?rename={old}&to={new}", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def crawl_runs(archive: Path) -> list[dict]:
    connection = sqlite3.connect(archive)
    connection.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in connection.execute("select * from crawl_runs order by id")]
    finally:
        connection.close()


def alert_settings(smtp_port: int, webhook: str) -> dict:
    return {"FANWEN_ALERT_MAIL_TO": ["archive-ops@example.org"], "MAIL_HOST": "127.0.0.1", "MAIL_PORT": smtp_port,
            "FANWEN_ALERT_WEBHOOK": webhook}


def subject_of(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def test_a_layout_change_between_crawls_raises_the_alert(tmp_path, replica, smtp_sink, webhook_sink):
    smtp_port, mails = smtp_sink
    webhook, posts = webhook_sink
    profiles, archive = one_category_profile(tmp_path / "profiles"), tmp_path / "archive.db"
    first = crawl(SITE, replica, archive, profiles, **alert_settings(smtp_port, webhook))
    assert first["fanwen/health"] == OK and mails == [] and posts == []

    publish_in_category(replica, 4)
    assert relayout(replica, "article-content", "post-body") == {"article-content": "post-body"}
    # the second crawl as a person runs it, alert targets given as options
    second = run_fanwen(
        "crawl", SITE, "--base-url", replica, "--archive", str(archive), "--delay", "0",
        "--alert-mail", "archive-ops@example.org", "--alert-webhook", webhook,
        "-s", f"FANWEN_PROFILE_DIRS={profiles}", "-s", "MAIL_HOST=127.0.0.1", "-s", f"MAIL_PORT={smtp_port}",
        "-s", "FANWEN_PROGRESS=off", cwd=tmp_path, timeout=240,
    )
    assert f"{SITE}: not a normal crawl: body_selector: the profile's body selector matched 0" in second.stderr

    runs = crawl_runs(archive)
    assert runs[1]["texts_new"] == 4
    assert [run["health"] for run in runs] == [OK, ALERT]
    assert json.loads(runs[0]["texts_by_locator"]) == {"profile": first["fanwen/texts_new"]}
    assert json.loads(runs[1]["texts_by_locator"]) == {"generic": 4}
    [finding] = json.loads(runs[1]["health_findings"])
    assert finding["check"] == BODY_SELECTOR and "matched 0 of the 4 texts cleaned (usually 100%)" in finding["reason"]

    [(recipients, mail)] = mails
    assert recipients == ["archive-ops@example.org"]
    assert subject_of(mail) == f"[fanwen] crawl of {SITE} needs a look: body_selector"
    body = mail.get_payload(decode=True).decode(mail.get_content_charset())
    assert f"(crawl_runs id {runs[1]['id']})" in body and finding["reason"] in body
    [post] = posts
    assert post["site"] == SITE and post["run_id"] == runs[1]["id"] and post["health"] == ALERT
    assert post["findings"] == [finding]

    listing = run_fanwen("sites", "--archive", str(archive), "--profile-dir", str(profiles))
    rows = {line.split("\t")[0]: line.split("\t") for line in listing.stdout.splitlines()}
    assert rows["name"][-1] == "health" and rows[SITE][-1] == "alert: body_selector"
    assert rows["huabo"][-1] == "-"  # never crawled into this archive


def test_a_healthy_recrawl_sends_no_alert(tmp_path, replica, smtp_sink, webhook_sink):
    smtp_port, mails = smtp_sink
    webhook, posts = webhook_sink
    profiles, archive = one_category_profile(tmp_path / "profiles"), tmp_path / "archive.db"
    crawl(SITE, replica, archive, profiles, **alert_settings(smtp_port, webhook))
    publish_in_category(replica, 4)
    second = crawl(SITE, replica, archive, profiles, **alert_settings(smtp_port, webhook))

    assert second["fanwen/texts_new"] == 4 and second["fanwen/articles_skipped_known"] > 0
    assert second["fanwen/health"] == OK
    assert [run["health"] for run in crawl_runs(archive)] == [OK, OK]
    assert json.loads(crawl_runs(archive)[1]["health_findings"]) == []
    assert mails == [] and posts == []
