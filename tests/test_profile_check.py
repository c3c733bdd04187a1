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
