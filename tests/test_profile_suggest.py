"""`fanwen profile suggest` writes a profile that crawls an unknown site with no hand edits.

For every replica layout: one article page and one list page are fetched from
the running replica, `fanwen profile suggest` writes a profile into a temporary
profile directory, `fanwen crawl` crawls the replica with it unedited, and the
archived texts are scored against the replica's truth with the gold-corpus
scorer (evaluation/gold_scoring.py).  A text the crawl missed scores 0.
"""

from __future__ import annotations

import sqlite3
import tomllib

import pytest

from crawler.profiles import load_profile_file
from replica.process import running_replicas
from replica.site import load_site

from .conftest import run_fanwen
from .test_gold import scorer

# One line per replica layout: (replica site, its layout).
LAYOUTS = [
    ("huabo", "huabo"),
    ("ruiwen", "ruiwen"),
    ("xuexila", "xuexila"),
    ("liuxue86", "liuxue86"),
    ("diyifanwen", "dedecms"),
]
MEAN_F1_FLOOR = 0.95


def example_pages(site_name: str) -> tuple[str, str]:
    """Paths of one article page (a continued one where the layout has them) and its category's first list page."""
    site = load_site(site_name)
    plain = [a for a in site.articles if not (a.shape and a.shape.parts)]
    continued = [a for a in plain if a.page_count > 1]
    article = (continued or plain)[0]
    return article.path, site.list_url(article.category.slug)


def score_archive(archive, site_name: str, profile_name: str) -> tuple[float, int, int]:
    """Mean F1 over every text of the replica (missing texts score 0), texts expected, texts archived."""
    site = load_site(site_name)
    connection = sqlite3.connect(archive)
    archived = {
        ("/" + url.split("/", 3)[3], part): text
        for url, part, text in connection.execute("select url, part, text from texts where site = ?", [profile_name])
    }
    connection.close()
    scores = [
        scorer.text_scores(archived[(a.path, part)], text)[2] if (a.path, part) in archived else 0.0
        for a in site.articles
        for part, text in enumerate(a.expected_texts, start=1)
    ]
    return sum(scores) / len(scores), len(scores), len(archived)


@pytest.mark.parametrize("site_name,layout", LAYOUTS, ids=[layout for _, layout in LAYOUTS])
def test_suggested_profile_crawls_the_replica(tmp_path, site_name, layout):
    profile_dir = tmp_path / "profiles"
    profile_dir.mkdir()
    name = f"suggested_{layout}"
    archive = tmp_path / "archive.db"
    article_path, list_path = example_pages(site_name)
    with running_replicas([site_name]) as urls:
        origin = urls[site_name].rstrip("/")
        run_fanwen("profile", "suggest", origin + article_path, origin + list_path,
                   "-o", str(profile_dir / f"{name}.toml"), cwd=tmp_path)
        profile = load_profile_file(profile_dir / f"{name}.toml")  # validates
        assert profile.extract.body, "a body container was detected"
        run_fanwen("crawl", name, "--archive", str(archive), "--delay", "0", "--concurrency", "8",
                   "-s", f"FANWEN_PROFILE_DIRS={profile_dir}", "-s", "LOG_LEVEL=WARNING", cwd=tmp_path, timeout=300)
    mean_f1, expected, archived = score_archive(archive, site_name, name)
    assert mean_f1 >= MEAN_F1_FLOOR, (layout, mean_f1, expected, archived)
    assert archived == expected


def test_suggest_from_saved_files_needs_their_urls(tmp_path):
    site = load_site("ruiwen")
    article_path, list_path = example_pages("ruiwen")
    (tmp_path / "article.html").write_bytes(site.respond(article_path).body)
    (tmp_path / "list.html").write_bytes(site.respond(list_path, origin="http://www.example.com").body)
    result = run_fanwen("profile", "suggest", "article.html", "list.html", "--name", "example",
                        "--article-url", f"http://www.example.com{article_path}",
                        "--list-url", f"http://www.example.com{list_path}", cwd=tmp_path)
    data = tomllib.loads(result.stdout)
    assert data["name"] == "example"
    assert data["start_urls"][0] == "http://www.example.com/"
    assert data["extract"]["body"] == ["div.content"]
    assert data["extract"]["title"] == ["h1.title"]
    assert data["extract"]["site_name"] == "瑞文网"  # the GBK page was decoded, not guessed as Latin-1


@pytest.mark.parametrize("layout", sorted({page.layout for page in scorer.load_gold(scorer.GOLD)}))
def test_suggested_rules_on_the_gold_corpus(layout):
    """Rules suggested from a layout's first saved page extract all its pages (table layouts too: gold/wmjy)."""
    from fanwen.profile_suggest import parse_page, suggest
    from pipelines.extraction import extract_texts
    from pipelines.rules import ExtractionRules
    from records.texts import FetchedPage

    pages = [page for page in scorer.load_gold(scorer.GOLD) if page.layout == layout]
    found = suggest(parse_page(pages[0].body, pages[0].url, pages[0].content_type))
    rules = ExtractionRules(site_name=found.site_name, title=found.title, body=found.body, date=found.date,
                            next_page=found.next_page)
    f1s = []
    for page in pages:
        texts = extract_texts([FetchedPage(url=page.url, body=page.body, content_type=page.content_type)], rules).texts
        expected = "\n".join(doc["text"] for doc in page.documents)
        f1s.append(scorer.text_scores("\n".join(t.text for t in texts), expected)[2])
    assert sum(f1s) / len(f1s) >= MEAN_F1_FLOOR, (layout, found.body, f1s)


# An article block left between a layout table's rows (no <tr><td> around it), and a sidebar
# box with the same class before it: a browser moves the block out, before the table.
FOSTERED_ARTICLE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>关于读书的演讲稿_范文网</title></head>
<body>
<div class="side"><div class="text"><a href="/a/1.html">热门范文</a> <a href="/a/2.html">最新范文</a></div></div>
<div id="main">
<h1>关于读书的演讲稿</h1>
<table class="layout">
<tr><td class="info">发布时间：2024-03-01 来源：范文网</td></tr>
<div class="text">
<p>尊敬的老师、亲爱的同学们：大家好！今天我演讲的题目是《读书伴我成长》。书籍是人类进步的阶梯，也是我们成长路上最好的朋友。</p>
<p>从小，妈妈就给我讲书里的故事。上学以后，我学会了自己读书，从童话到历史，从科学到诗歌，每一本书都为我打开一扇新的窗户。</p>
<p>读书让我学会思考。遇到难题时，书中人物的经历常常给我启发，让我知道困难并不可怕，只要肯想办法，总能找到出路。</p>
<p>同学们，让我们多读书、读好书，让书香伴随我们一路成长。我的演讲完毕，谢谢大家！</p>
</div>
</table>
</div>
</body></html>
"""


def test_suggest_avoids_a_selector_that_matches_differently_in_a_browser():
    from dataclasses import replace

    from fanwen.profile_suggest import parse_page, suggest
    from pipelines.selector_trees import agrees

    page = parse_page(FOSTERED_ARTICLE.encode("utf-8"), "https://www.example.com/a/123.html")
    assert page.browser_root is not None
    # From lxml's tree alone the table is the nearest ancestor that tells the block apart from
    # the sidebar's; in a browser's tree the block is no longer in the table.
    lxml_only = suggest(replace(page, browser_root=None))
    assert lxml_only.body == ["table.layout div.text"]
    assert not agrees("table.layout div.text", page.root, page.browser_root)

    found = suggest(page)
    assert found.body == ["#main div.text"]
    assert agrees("#main div.text", page.root, page.browser_root)
    assert found.title == ["h1"] and found.date == ["td.info"]
    assert not any("browser" in note for note in found.notes)


def test_a_container_whose_tag_has_a_colon_gets_a_selector_cssselect_accepts():
    """A real page's body sat in <sohu_cms_include:business_articlefrag1>; suggest raised cssselect's ExpressionError."""
    from fanwen.profile_suggest import css_for, parse_page
    from pipelines.rules import compiled_selector

    paragraphs = "".join(f"<p>同志们，第{n}项工作要抓紧落实，确保各项任务按期完成，人民群众满意。</p>" for n in range(8))
    page_html = (
        "<html><head><meta charset='utf-8'><title>讲话</title></head><body><div class='nav'><a href='/'>首页</a></div>"
        f"<sohu_cms_include:business_articlefrag1 class='article-text'>{paragraphs}</sohu_cms_include:business_articlefrag1>"
        "</body></html>"
    )
    page = parse_page(page_html.encode("utf-8"), "https://www.example.com/a/1.html")
    container = next(element for element in page.root.iter() if isinstance(element.tag, str) and ":" in element.tag)
    selector = css_for(container, page.root)
    assert ":" not in selector.split(".")[0]
    assert compiled_selector(selector)(page.root)[0] is container
