"""The Atom feed of new texts (canned query ``new_texts`` + plugins/atom_feed.py): valid Atom, read by a feed reader, filtered."""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
import urllib.parse

import feedparser
import lxml.etree
import lxml.html
import pytest

from fanwen.serve import datasette_instance

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
FEED_SIZE = 50
# A text whose characters XML cannot carry (a form feed, as a Word paste leaves): the feed must stay well-formed.
CONTROL_TITLE = "关于\x0c文明城市的讲话"


@pytest.fixture(scope="module")
def archive(demo_archive, tmp_path_factory):
    path = tmp_path_factory.mktemp("atom") / "archive.db"
    shutil.copy(demo_archive, path)
    from archive.database import Archive, TextToArchive
    from records.texts import ExtractedText

    with Archive(path) as opened:
        opened.save_texts([TextToArchive("huabo", None, "2030-01-01T00:00:00+00:00", ExtractedText(
            url="http://127.0.0.1:9/control.html", title=CONTROL_TITLE, published="2030-01-01",
            text="同志们：\x0c创建文明城市。<b>不是标记</b>", truncated=False, genre="讲话稿"))])
    return path


@pytest.fixture(scope="module")
def datasette(archive):
    return datasette_instance(archive)


def feed_response(datasette, params: dict):
    response = asyncio.run(datasette.client.get("/archive/new_texts.atom", params=params))
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("application/atom+xml")
    return response


def expected_texts(archive, site: str = "", genre: str = "", word: str = "") -> list[tuple[int, str, str, int]]:
    """Newest first, as archived: (id, title, url, part), filtered by substring like the search box."""
    connection = sqlite3.connect(archive)
    rows = connection.execute(
        "select id, title, url, part from texts where (? = '' or site = ?) and (? = '' or genre = ?) "
        "and (? = '' or title like ? or text like ?) order by id desc limit ?",
        [site, site, genre, genre, word, f"%{word}%", f"%{word}%", FEED_SIZE]).fetchall()
    connection.close()
    return rows


def assert_valid_atom(body: bytes) -> lxml.etree._Element:
    """The RFC 4287 rules a feed reader relies on, checked on the XML tree."""
    feed = lxml.etree.fromstring(body)  # well-formed XML, or this raises
    assert feed.tag == f"{ATOM}feed"

    def one(parent, name):
        found = parent.findall(f"{ATOM}{name}")
        assert len(found) == 1, (name, len(found))
        return found[0]

    def absolute_iri(value):
        parts = urllib.parse.urlsplit(value)
        assert parts.scheme and (parts.netloc or parts.path), value

    absolute_iri(one(feed, "id").text)
    assert one(feed, "title").text
    assert RFC3339.match(one(feed, "updated").text)
    links = {link.get("rel", "alternate"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    absolute_iri(links["self"])
    entries = feed.findall(f"{ATOM}entry")
    # An author on the feed, or on every entry.
    assert feed.find(f"{ATOM}author/{ATOM}name") is not None or all(e.find(f"{ATOM}author") is not None for e in entries)
    ids = []
    for entry in entries:
        ids.append(one(entry, "id").text)
        absolute_iri(ids[-1])
        assert one(entry, "title").text
        assert RFC3339.match(one(entry, "updated").text)
        alternate = [link for link in entry.findall(f"{ATOM}link") if link.get("rel", "alternate") == "alternate"]
        assert len(alternate) <= 1 and (alternate or entry.find(f"{ATOM}content") is not None)
        for link in alternate:
            absolute_iri(link.get("href"))
        content = entry.find(f"{ATOM}content")
        assert content is None or content.get("type") in ("text", "html", "xhtml")
    assert len(ids) == len(set(ids))
    return feed


def read_as_a_feed_reader(response):
    parsed = feedparser.parse(response.content, response_headers={
        "content-type": response.headers["content-type"], "content-location": str(response.url)})
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def entry_id(url: str, part: int) -> str:
    return url if part == 1 else f"{url}#part-{part}"


@pytest.mark.parametrize("filters", [
    {},
    {"site": "deyu"},
    {"genre": "讲话稿"},
    {"q": "文明"},
    {"site": "huabo", "genre": "讲话稿", "q": "文明"},
])
def test_feed_is_valid_atom_with_the_newest_texts(datasette, archive, filters):
    response = feed_response(datasette, filters)
    assert_valid_atom(response.content)
    parsed = read_as_a_feed_reader(response)
    expected = expected_texts(archive, filters.get("site", ""), filters.get("genre", ""), filters.get("q", ""))
    assert expected, filters
    assert [entry.title for entry in parsed.entries] == [title.replace("\x0c", "\ufffd") for _, title, _, _ in expected]
    assert [entry.link for entry in parsed.entries] == [f"http://localhost/archive/texts/{i}" for i, _, _, _ in expected]
    assert [entry.id for entry in parsed.entries] == [entry_id(url, part) for _, _, url, part in expected]
    for value in filters.values():
        assert value in parsed.feed.title  # a reader's list of feeds tells them apart


def test_entries_link_to_the_speech_page_and_carry_the_text(datasette, archive):
    parsed = read_as_a_feed_reader(feed_response(datasette, {"site": "ruiwen"}))
    connection = sqlite3.connect(archive)
    entry = parsed.entries[0]
    text_id = int(entry.link.rsplit("/", 1)[1])
    title, text = connection.execute("select title, text from texts where id = ?", [text_id]).fetchone()
    connection.close()
    assert entry.content[0].value == text  # newlines and Chinese punctuation as archived
    page = asyncio.run(datasette.client.get(urllib.parse.urlsplit(entry.link).path))
    assert lxml.html.fromstring(page.text).xpath("string(//article//h1)") == title


def test_control_characters_and_markup_stay_text(datasette):
    parsed = read_as_a_feed_reader(feed_response(datasette, {"q": "不是标记"}))
    assert [entry.title for entry in parsed.entries] == ["关于\ufffd文明城市的讲话"]
    assert parsed.entries[0].content[0].type == "text/plain"
    assert "<b>不是标记</b>" in parsed.entries[0].content[0].value


def test_feed_without_matches_is_empty_not_an_error(datasette):
    response = feed_response(datasette, {"q": "鲸落海底", "site": "huabo"})
    assert assert_valid_atom(response.content).findall(f"{ATOM}entry") == []
    assert read_as_a_feed_reader(response).entries == []


def test_query_page_links_its_feed_for_readers_to_discover(datasette):
    response = asyncio.run(datasette.client.get("/archive/new_texts", params={"site": "huabo"}))
    doc = lxml.html.fromstring(response.text)
    feeds = doc.xpath("//link[@rel='alternate'][@type='application/atom+xml']/@href")
    assert feeds == ["/archive/new_texts.atom?site=huabo"]
    assert "/archive/new_texts.atom?site=huabo" in doc.xpath("//p[@class='export-links']/a/@href")


def test_feed_follows_the_archive_name(demo_archive, tmp_path):
    # fanwen serve names the database after the file; the entries' links must follow it.
    renamed = tmp_path / "speeches.db"
    shutil.copy(demo_archive, renamed)
    response = asyncio.run(datasette_instance(renamed).client.get("/speeches/new_texts.atom"))
    links = [entry.link for entry in read_as_a_feed_reader(response).entries]
    assert links and all(link.startswith("http://localhost/speeches/texts/") for link in links)
