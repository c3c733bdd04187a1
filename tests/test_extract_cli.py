"""``fanwen extract`` as a user runs it: a saved page (file or stdin) in, JSON lines out."""

from __future__ import annotations

import json
import os
import subprocess
from types import SimpleNamespace

from click.testing import CliRunner

from fanwen.cli import main

from .conftest import FIXTURES, REPO, fanwen_command

GOLD = FIXTURES / "gold"


def run_extract(*args: str, stdin: bytes | None = None) -> SimpleNamespace:
    """The command in-process (fast); test_real_process runs it as a user does."""
    result = CliRunner().invoke(main, ["extract", *args], input=stdin)
    return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout_bytes, stderr=result.stderr_bytes)


def documents(result) -> list[dict]:
    assert result.returncode == 0, result.stderr.decode()
    return [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]


def test_real_process_reads_stdin_and_prints_utf8_json_lines():
    want = expected("huabo_10001")["documents"][0]
    result = subprocess.run(
        fanwen_command("extract", "--json", "-", "--url", want["url"]), check=False, cwd=REPO, capture_output=True, timeout=120,
        input=(GOLD / "huabo_10001.html").read_bytes(), env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    [doc] = documents(result)
    assert doc["text"] == want["text"] and doc["truncated"] is want["truncated"] and doc["published"] == want["published"]


def expected(name: str) -> dict:
    return json.loads((GOLD / f"{name}.expected.json").read_text(encoding="utf-8"))


def test_collection_page_from_a_file_prints_one_object_per_text():
    record = expected("ruiwen_collection_gap_2")
    url = record["documents"][0]["url"]
    docs = documents(run_extract("--json", str(GOLD / "ruiwen_collection_gap_2.html"), "--url", url))
    assert [d["part"] for d in docs] == [1, 2, 3, 4]
    for got, want in zip(docs, record["documents"]):
        for field in ("url", "title", "published", "text", "truncated", "genre", "part"):
            assert got[field] == want[field], field
        assert isinstance(got["placeholders"], list) and isinstance(got["next_pages"], list)


def test_stdin_gbk_page_with_profile_by_name_and_next_pages():
    record = expected("diyifanwen_09")
    want = record["documents"][0]
    body = (GOLD / "diyifanwen_09.html").read_bytes()
    [doc] = documents(run_extract("--json", "-", "--url", want["url"], "--profile", "diyifanwen", stdin=body))
    assert doc["text"] == want["text"] and doc["title"] == want["title"]
    assert doc["next_pages"] == want["next_pages"] and len(doc["next_pages"]) == 2


def test_generic_mode_and_unknown_site():
    """A URL no profile knows falls back to generic mode; --generic forces it."""
    want = expected("mirror_1")["documents"][0]
    page = str(GOLD / "mirror_1.html")
    [doc] = documents(run_extract("--json", page, "--url", "http://unknown.example/a/1.html"))
    assert doc["text"] == want["text"]
    [doc] = documents(run_extract("--json", page, "--url", want["url"], "--generic"))
    assert doc["text"] == want["text"]


def test_empty_and_binary_input_print_nothing_and_say_why():
    result = run_extract("--json", "-", "--url", "http://unknown.example/", stdin=b"")
    assert documents(result) == [] and b"empty_body" in result.stderr
    result = run_extract("--json", "-", "--url", "http://unknown.example/", stdin=bytes(range(256)) * 64)
    assert documents(result) == [] and b"not_text" in result.stderr


def test_unknown_profile_is_a_usage_error():
    result = run_extract("--json", "-", "--url", "http://x/", "--profile", "nosuchsite", stdin=b"<p>x</p>")
    assert result.returncode == 2 and b"nosuchsite" in result.stderr
