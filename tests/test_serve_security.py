"""What ``fanwen serve`` publishes: read-only, time-limited SQL, password in front when asked, refused beyond loopback without one."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
import yaml

from fanwen.serve import ServeRefused, check_exposure, config_dir, is_loopback

from .conftest import REPO, fanwen_command
from .hostile_archive import build_hostile_archive, served_archive


def request(url: str, data: bytes | None = None, headers: dict | None = None, method: str | None = None):
    """(status, body) of one HTTP request; HTTP errors are answers too."""
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def snapshot(archive) -> tuple[str, list]:
    """The archive's content as seen through SQLite (the WAL included), and its schema."""
    with sqlite3.connect(f"file:{archive}?mode=ro", uri=True) as db:
        rows = db.execute("select * from texts order by id").fetchall()
        schema = db.execute("select type, name, sql from sqlite_master order by name").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest(), schema


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    archive = tmp_path_factory.mktemp("hostile") / "archive.db"
    build_hostile_archive(archive)
    with served_archive(archive) as base:
        yield base, archive


WRITE_ATTEMPTS = [
    # Datasette 1.0's write API paths: 0.65 must not have them.
    ("POST", "/archive/-/create", {"table": "pwned", "rows": [{"a": 1}]}),
    ("POST", "/archive/texts/-/insert", {"row": {"site": "x", "url": "u", "title": "t", "text": "t"}}),
    ("POST", "/archive/texts/-/upsert", {"rows": [{"id": 1, "title": "pwned"}]}),
    ("POST", "/archive/texts/1/-/update", {"update": {"title": "pwned"}}),
    ("POST", "/archive/texts/1/-/delete", {}),
    ("POST", "/archive/texts/-/drop", {"confirm": True}),
    ("POST", "/archive", {"sql": "delete from texts"}),
    ("POST", "/archive/search", {"q": "x"}),
    ("PUT", "/archive/texts", {"title": "pwned"}),
    ("DELETE", "/archive/texts/1", None),
]
WRITE_SQL = [
    "delete from texts",
    "update texts set title = 'pwned'",
    "insert into texts (site, url, title, text, truncated, content_hash, first_seen, last_seen) values (1,2,3,4,0,5,6,7)",
    "create table pwned (a)",
    "drop table texts",
    "attach database 'pwned.db' as pwned",
    "pragma journal_mode = delete",
    "select 1; delete from texts",
    "with x as (select 1) delete from texts",
]


def test_no_write_endpoint_or_statement_changes_the_archive(hostile):
    base, archive = hostile
    before = snapshot(archive)
    for method, path, body in WRITE_ATTEMPTS:
        data = json.dumps(body).encode() if body is not None else None
        status, _ = request(base + path, data=data, headers={"Content-Type": "application/json"}, method=method)
        assert status >= 400, f"{method} {path} answered {status}"
    for sql in WRITE_SQL:
        status, body = request(f"{base}/archive.json?" + urllib.parse.urlencode({"sql": sql}))
        assert status >= 400 or json.loads(body).get("ok") is False, f"?sql={sql} answered {status}: {body[:300]}"
    assert snapshot(archive) == before
    assert not (archive.parent / "pwned.db").exists()


def test_no_canned_query_writes():
    metadata = yaml.safe_load((config_dir() / "metadata.yml").read_text(encoding="utf-8"))
    queries = {name: query for db in metadata["databases"].values() for name, query in db.get("queries", {}).items()}
    assert queries and not [name for name, query in queries.items() if query.get("write")]


def test_runaway_query_ends_with_the_time_limit(hostile):
    base, _ = hostile
    runaway = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
    started = time.monotonic()
    status, body = request(f"{base}/archive.json?" + urllib.parse.urlencode({"sql": runaway}))
    elapsed = time.monotonic() - started
    assert status == 400 and "SQL query took too long" in body
    assert elapsed < 10  # sql_time_limit_ms is 3000
    assert request(f"{base}/archive.json?sql=select+count(*)+from+texts")[0] == 200  # still serving


def test_password_in_front_of_every_page(tmp_path):
    from datasette_auth_passwords.utils import hash_password

    archive = tmp_path / "archive.db"
    build_hostile_archive(archive)
    # Few iterations keep the test fast; the hash format is the plugin's own.
    secret = hash_password("correct horse battery", iterations=1000)
    good = "Basic " + base64.b64encode(b"reader:correct horse battery").decode()
    wrong = "Basic " + base64.b64encode(b"reader:guess").decode()
    # The plugin decodes credentials as ASCII: anything else is an error page, never a way in.
    odd = ["Basic " + base64.b64encode("reader:文明".encode()).decode(), "Basic !!notbase64", "Bearer x"]
    with served_archive(archive, "--auth", "reader", env={"FANWEN_PASSWORD_HASH": secret}) as base:
        for path in ("/", "/archive", "/archive/texts.json", "/archive/texts/1", "/archive.json?sql=select+1",
                     "/archive/texts.csv", "/-/metadata.json", "/-/dashboards/archive"):
            assert request(base + path)[0] == 401, path
            assert request(base + path, headers={"Authorization": wrong})[0] == 401, path
            for header in odd:
                assert request(base + path, headers={"Authorization": header})[0] in (401, 500), (path, header)
        status, body = request(f"{base}/archive/texts.json?_shape=array", headers={"Authorization": good})
        assert status == 200 and len(json.loads(body)) == 2


def run_serve(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(fanwen_command("serve", *args), capture_output=True, text=True, timeout=60,
                          env={**{k: v for k, v in os.environ.items() if k != "FANWEN_PASSWORD_HASH"},
                               "PYTHONPATH": str(REPO), **(env or {})})


def test_refuses_to_publish_beyond_loopback_without_auth(tmp_path):
    archive = tmp_path / "archive.db"
    build_hostile_archive(archive)
    for host in ("0.0.0.0", "::", "192.0.2.7", "example.org"):
        result = run_serve("--archive", str(archive), "--host", host)
        assert result.returncode != 0 and "refusing to serve" in result.stderr and "--auth" in result.stderr, host
    result = run_serve("--archive", str(archive), "--host", "0.0.0.0", "--auth", "reader")
    assert result.returncode != 0 and "FANWEN_PASSWORD_HASH" in result.stderr


def test_loopback_hosts():
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.8.0.1", "::1", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "10.0.0.1", "localhost.example.org", ""))
    check_exposure("127.0.0.1", None, {})
    check_exposure("0.0.0.0", "reader", {"FANWEN_PASSWORD_HASH": "x"})
    with pytest.raises(ServeRefused):
        check_exposure("0.0.0.0", None, {"FANWEN_PASSWORD_HASH": "x"})


def test_datasette_csv_download_is_exact_not_formula_safe(hostile):
    """Datasette's own CSV (any table or query page) writes cells as stored; README says so and points to
    `fanwen export` for spreadsheets.  This pins that documented behaviour."""
    import csv
    import io

    base, archive = hostile
    status, body = request(f"{base}/archive.csv?" + urllib.parse.urlencode({"sql": "select text from texts order by id"}))
    assert status == 200
    cells = [row["text"] for row in csv.DictReader(io.StringIO(body))]
    with sqlite3.connect(f"file:{archive}?mode=ro", uri=True) as db:
        assert cells == [text for (text,) in db.execute("select text from texts order by id")]
    formula = '=HYPERLINK("http://127.0.0.1/")'
    status, body = request(f"{base}/archive.csv?" + urllib.parse.urlencode({"sql": "select :v as cell", "v": formula}))
    assert status == 200 and [row["cell"] for row in csv.DictReader(io.StringIO(body))] == [formula]
