"""``fanwen extract`` as a user runs it: saved pages (files, directories or stdin) in, JSON lines out."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

import fanwen.extract_command as extract_command
from fanwen.cli import main
from pipelines.rules import GENERIC_RULES
from records.texts import CleaningReport, Removal

from .conftest import FIXTURES, REPO, fanwen_command

GOLD = FIXTURES / "gold"


def run_extract(*args: str, stdin: bytes | None = None) -> SimpleNamespace:
    """The command in-process (fast); test_real_process runs it as a user does."""
    result = CliRunner().invoke(main, ["extract", *args], input=stdin)
    return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout_bytes, stderr=result.stderr_bytes)


def lines(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]


def documents(result) -> list[dict]:
    """The texts printed (not the skipped or failed pages' lines)."""
    assert result.returncode == 0, result.stderr.decode()
    return [line for line in lines(result) if "text" in line]


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


def test_empty_and_binary_input_print_why_there_is_no_text():
    result = run_extract("--json", "-", "--url", "http://unknown.example/", stdin=b"")
    assert lines(result) == [{"path": "-", "url": "http://unknown.example/", "skipped": "empty_body"}]
    assert result.returncode == 0 and b"empty_body" in result.stderr
    result = run_extract("--json", "-", "--url", "http://unknown.example/", stdin=bytes(range(256)) * 64)
    assert [line["skipped"] for line in lines(result)] == ["not_text"] and b"not_text" in result.stderr


def test_unknown_profile_is_a_usage_error():
    result = run_extract("--json", "-", "--url", "http://x/", "--profile", "nosuchsite", stdin=b"<p>x</p>")
    assert result.returncode == 2 and b"nosuchsite" in result.stderr


# -- many pages in one process ----------------------------------------------------------------

def saved_pages(tmp_path):
    """A folder as a user saves pages: nested pages of several suffixes, and files that are not pages."""
    folder = tmp_path / "saved"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(GOLD / "huabo_10001.html", folder / "a.html")
    shutil.copy(GOLD / "mirror_1.html", folder / "sub" / "b.HTM")
    shutil.copy(GOLD / "diyifanwen_09.html", folder / "sub" / "c.shtml")
    (folder / "notes.txt").write_text("not a page", encoding="utf-8")
    (folder / "sub" / "logo.png").write_bytes(b"\x89PNG\r\n")
    return folder


def test_files_and_a_directory_in_one_call_print_every_text_with_its_path(tmp_path):
    folder = saved_pages(tmp_path)
    single = tmp_path / "single.page"  # a file named on the command line is read whatever its suffix
    shutil.copy(GOLD / "ruiwen_collection_gap_2.html", single)
    docs = documents(run_extract(str(single), str(folder)))
    paths = [doc["path"] for doc in docs]
    assert paths[0] == str(single) and len(set(paths[:-3])) == 1 and len(paths) > 3
    assert paths[-3:] == [str(folder / "a.html"), str(folder / "sub" / "b.HTM"), str(folder / "sub" / "c.shtml")]
    want = expected("mirror_1")["documents"][0]["text"]
    assert next(doc for doc in docs if doc["path"].endswith("b.HTM"))["text"] == want
    assert all(doc["url"].startswith("file://") for doc in docs)  # no URL given: a file's own


def test_a_broken_page_does_not_stop_the_batch(tmp_path, monkeypatch):
    folder = saved_pages(tmp_path)
    cleaner = extract_command.extract_page

    def fail_on_diyifanwen(body, url, rules, content_type=None):
        if url.endswith("c.shtml"):
            raise RecursionError("maximum recursion depth exceeded")
        return cleaner(body, url, rules, content_type)

    monkeypatch.setattr(extract_command, "extract_page", fail_on_diyifanwen)
    missing = str(tmp_path / "gone.html")
    result = run_extract(missing, str(folder))
    assert result.returncode == 1
    printed = lines(result)
    assert printed[0]["path"] == missing and printed[0]["error"].startswith("unreadable: ")
    failure = next(line for line in printed if line["path"].endswith("c.shtml"))
    assert failure["error"].startswith("cleaning failed: RecursionError") and "text" not in failure
    assert {line["path"] for line in printed if "text" in line} == {str(folder / "a.html"), str(folder / "sub" / "b.HTM")}
    stderr = result.stderr.decode()
    assert f"error: {missing}: unreadable" in stderr and "2 of 4 pages failed" in stderr


def test_profile_by_url_when_known_generic_otherwise(tmp_path, monkeypatch):
    from crawler.profiles import load_profile

    folder = saved_pages(tmp_path)
    url = expected("huabo_10001")["documents"][0]["url"]
    url_map = tmp_path / "urls.tsv"
    url_map.write_text(f"# saved by hand\n{folder / 'a.html'}\t{url}\n", encoding="utf-8")
    used = {}
    cleaner = extract_command.extract_page

    def spy(body, page_url, rules, content_type=None):
        used[page_url] = rules
        return cleaner(body, page_url, rules, content_type)

    monkeypatch.setattr(extract_command, "extract_page", spy)
    docs = documents(run_extract(str(folder), "--url-map", str(url_map)))
    assert used[url] == load_profile("huabo").extract
    others = [u for u in used if u != url]
    assert len(others) == 2 and all(used[u] is GENERIC_RULES and u.startswith("file://") for u in others)
    assert next(doc for doc in docs if doc["path"].endswith("a.html"))["url"] == url
    used.clear()
    documents(run_extract(str(folder), "--url-map", str(url_map), "--generic"))
    assert all(rules is GENERIC_RULES for rules in used.values()) and len(used) == 3


def test_a_missing_or_malformed_url_map_is_a_usage_error_before_any_page(tmp_path):
    folder = saved_pages(tmp_path)
    missing = run_extract(str(folder), "--url-map", str(tmp_path / "no-such.tsv"))
    assert missing.returncode == 2 and b"--url-map: no such file" in missing.stderr and missing.stdout == b""
    malformed = tmp_path / "urls.tsv"
    malformed.write_text(f"{folder / 'a.html'} http://no-tab.example/\n", encoding="utf-8")
    result = run_extract(str(folder), "--url-map", str(malformed))
    assert result.returncode == 2 and b"--url-map: line 1: expected PATH<TAB>URL" in result.stderr and result.stdout == b""


def test_url_names_one_page_only(tmp_path):
    folder = saved_pages(tmp_path)
    result = run_extract(str(folder), "--url", "http://unknown.example/")
    assert result.returncode == 2 and b"--url-map" in result.stderr


def test_explain_adds_the_cleaning_record_and_lists_removals_on_stderr():
    result = run_extract(str(GOLD / "huabo_10001.html"), "--url", expected("huabo_10001")["documents"][0]["url"], "--explain")
    [doc] = documents(result)
    cleaning = doc["cleaning"]
    assert cleaning["removed"], "the gold page has boilerplate in its main block"
    stderr = result.stderr.decode().splitlines()
    assert len(stderr) > len(cleaning["removed"])
    assert stderr[0].startswith(str(GOLD / "huabo_10001.html")) and f"{len(doc['text'])} chars kept" in stderr[0]
    for (reason, chars, text), line in zip(cleaning["removed"], stderr[1:]):
        assert line.split()[:3] == [reason, str(chars), "chars"]
        assert line.endswith(" ".join(text.split())[:40])
    assert "cleaning" not in documents(run_extract(str(GOLD / "huabo_10001.html")))[0]


def test_removal_listing_reads_every_form_of_the_cleaning_record():
    report = CleaningReport(removed=(Removal("tail:related_list", 120, "相关阅读：\n  安全生产工作总结范文" + "字" * 60),))
    as_row = [("tail:related_list", 120, "相关阅读：\n  安全生产工作总结范文" + "字" * 60)]
    assert extract_command.removed_items(report) == as_row
    assert extract_command.removed_items(report.as_json()) == as_row
    assert extract_command.removed_items({"removed": [{"reason": "hidden", "chars": 3, "text": "abc"}]}) == [("hidden", 3, "abc")]
    assert extract_command.removed_items(None) == []
    text = SimpleNamespace(part=2, text="正文", cleaning=report)
    [header, line] = extract_command.explain_lines("p.html", text)
    assert header == "p.html (part 2): 2 chars kept, 1 removed"
    assert line.split()[:3] == ["tail:related_list", "120", "chars"] and line.endswith("相关阅读： 安全生产工作总结范文" + "字" * 24)


def test_extract_imports_neither_scrapy_nor_the_archive_nor_profiles_in_generic_mode():
    """`fanwen extract` is timed as a whole process against trafilatura: its start-up is the cleaning core's."""
    heavy = ("scrapy", "twisted", "datasette", "sqlite_utils", "archive.database", "crawler.profiles")
    program = (
        "import sys; from click.testing import CliRunner; from fanwen.cli import main; "
        f"r = CliRunner().invoke(main, ['extract', '--generic', {str(GOLD / 'mirror_1.html')!r}]); "
        f"assert r.exit_code == 0, r.output; print(' '.join(m for m in {heavy!r} if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", program], cwd=REPO, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == []


def test_the_fanwen_command_runs_extract_without_importing_click():
    """`fanwen extract` is a whole process raced against trafilatura: click's import is a share of its start-up."""
    program = (
        "import sys; sys.argv = ['fanwen', 'extract', '--generic', " + repr(str(GOLD / "mirror_1.html")) + "]\n"
        "from fanwen.launcher import main\n"
        "status = main(); assert status == 0, status\n"
        "print('click' in sys.modules, file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", program], cwd=REPO, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    assert result.stderr.split() == ["False"] and json.loads(result.stdout.splitlines()[0])["text"]


def test_extract_reads_the_same_options_through_the_click_group_and_alone():
    args = ["--generic", "--explain", str(GOLD / "mirror_1.html")]
    through_group = run_extract(*args)
    alone = subprocess.run(fanwen_command("extract", *args), cwd=REPO, capture_output=True, timeout=120,
                           env={**os.environ, "PYTHONPATH": str(REPO)})
    assert through_group.returncode == alone.returncode == 0
    assert through_group.stdout == alone.stdout and through_group.stderr == alone.stderr
    helped = run_extract("--help")
    assert helped.returncode == 0 and b"--url-map" in helped.stdout and b"--explain" in helped.stdout


def test_cli_default_archive_is_the_archive_modules():
    from archive import database
    from fanwen import cli

    assert cli.DEFAULT_ARCHIVE == database.DEFAULT_ARCHIVE


@pytest.mark.parametrize("name", ["extract", "sites", "profile", "crawl"])
def test_every_command_is_listed_and_found(name):
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0 and f"  {name} " in result.output
    assert main.get_command(None, name) is not None
