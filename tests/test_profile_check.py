"""`fanwen profile check`: what a profile extracts from a saved page, and which rules fired."""

from __future__ import annotations

import os
import subprocess

from replica.site import load_site

from .conftest import REPO, fanwen_command, run_fanwen


def test_check_shows_texts_and_the_rules_that_fired(tmp_path):
    site = load_site("ruiwen")
    collection = next(a for a in site.articles if a.shape and a.shape.parts)
    (tmp_path / "page.html").write_bytes(site.respond(collection.path).body)
    result = run_fanwen("profile", "check", "ruiwen", "page.html", "--url", f"https://www.ruiwen.com{collection.path}",
                        cwd=tmp_path)
    out = result.stdout
    assert "page decoded as gbk" in out.lower() or "page decoded as gb18030" in out.lower()
    assert "extract.body         'div.content': 1 element(s), used" in out
    assert "extract.title        'h1.title': 1 element(s), used" in out
    assert "extract.title        'h1': 1 element(s), matched, not used" in out
    assert "'.download_card': 1 element(s), used" in out
    assert "'.download-card': 0 element(s), no match" in out
    assert f"title:     {collection.expected_titles[0]}" in out
    assert f"collection: {collection.title}" in out
    assert f"published: {collection.published}" in out
    assert f"texts:     {len(collection.expected_texts)}" in out
    for text in collection.expected_texts:
        assert text in out


def test_check_says_when_the_generic_pass_found_the_body(tmp_path):
    huabo_page = load_site("huabo").respond(load_site("huabo").articles[0].path).body
    (tmp_path / "page.html").write_bytes(huabo_page)
    out = run_fanwen("profile", "check", "liuxue86", "page.html", cwd=tmp_path).stdout
    assert "no extract.body rule matched" in out


def test_check_reports_an_invalid_profile_by_field(tmp_path):
    (tmp_path / "broken.toml").write_text(
        'name = "broken"\ndisplay_name = "x"\nstart_urls = ["https://example.com/"]\n'
        '[navigation]\nlist_url_pattern = "/l/"\narticle_links = ["a"]\narticle_url_pattern = "/a/"\n'
        '[extract]\nbody = ["div..content"]\n', encoding="utf-8")
    (tmp_path / "page.html").write_text("<html><body><p>x</p></body></html>", encoding="utf-8")
    result = subprocess.run(fanwen_command("profile", "check", "broken.toml", "page.html"), cwd=tmp_path,
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60)
    assert result.returncode != 0
    assert "extract.body" in result.stderr and "div..content" in result.stderr


# A table-layout article page with no <tbody> in its source, as most such templates write it.
TABLE_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>读书心得体会_表格范文网</title></head>
<body><h1>读书心得体会</h1>
<div class="content"><table>
<tr><td><p>读一本好书，就是和许多高尚的人谈话。这个寒假我读了《平凡的世界》，书中孙少平在艰难中不放弃的精神深深打动了我。</p>
<p>他在黄原揽工的日子里，白天背石头，晚上借着煤油灯读书，这份坚持让我明白，环境可以艰苦，心却不能荒芜。</p></td></tr>
<tr><td class="ad">广告：范文下载</td></tr>
</table></div></body></html>
"""


def table_profile(tmp_path, body: str, drop: str) -> None:
    (tmp_path / "tables.toml").write_text(
        'name = "tables"\ndisplay_name = "表格范文网"\nstart_urls = ["https://www.example.com/"]\n'
        '[navigation]\nlist_url_pattern = "/list/"\narticle_links = ["a"]\narticle_url_pattern = "/a/"\n'
        f'[extract]\nbody = ["{body}"]\ndrop = ["{drop}"]\n', encoding="utf-8")
    (tmp_path / "page.html").write_text(TABLE_PAGE, encoding="utf-8")


def test_check_reports_a_devtools_selector_lxml_misses_with_the_fix(tmp_path):
    # Copied from the developer tools, which show the <tbody> a browser adds; lxml adds none.
    table_profile(tmp_path, "div.content > table > tbody > tr > td", "td.ad")
    result = subprocess.run(fanwen_command("profile", "check", "tables.toml", "page.html"), cwd=tmp_path,
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60)
    out = result.stdout
    assert "extract.body         'div.content > table > tbody > tr > td': 0 element(s), no match" in out
    assert ("  error    extract.body         'div.content > table > tbody > tr > td': "
            "0 element(s) in lxml's tree, 2 in a browser's") in out
    assert "why: implied <tbody>" in out
    assert "fix: 'div.content > table tr > td' matches the same 2 element(s) in both trees" in out
    assert "(the other 2 match as in lxml's tree)" in out  # title's h1, drop's td.ad
    assert result.returncode != 0
    assert "1 selector(s) match nothing in lxml's tree" in result.stderr


def test_check_warns_of_a_selector_that_matches_only_in_lxml(tmp_path):
    # Written from the page's source: it works on the site, but not in the developer tools.
    table_profile(tmp_path, "div.content > table > tr > td", "div.content > table > tr > td.ad")
    out = run_fanwen("profile", "check", "tables.toml", "page.html", cwd=tmp_path).stdout
    assert ("  warning  extract.body         'div.content > table > tr > td': "
            "2 element(s) in lxml's tree, 0 in a browser's") in out
    assert "  warning  extract.drop         'div.content > table > tr > td.ad'" in out
    assert "fix: 'div.content > table tr > td.ad' matches the same 1 element(s) in both trees" in out
    assert "读一本好书" in out and "广告" not in out.split("--- text 1")[1]


def test_check_says_when_every_selector_agrees(tmp_path):
    table_profile(tmp_path, "div.content td", "td.ad")
    out = run_fanwen("profile", "check", "tables.toml", "page.html", cwd=tmp_path).stdout
    assert "all 3 match as in lxml's tree" in out
