"""Site profiles are validated on load; errors name the file and the field."""

from __future__ import annotations

import pytest

from crawler.profiles import ProfileError, load_profile, load_profile_file, profile_paths

GOOD = '''
name = "demo_site"
display_name = "示例范文网"
start_urls = ["https://www.example.org/"]
[navigation]
list_url_pattern = '/list/'
article_links = ["ul.list a"]
article_url_pattern = '/a/\\d+\\.html$'
[extract]
body = ["div.content"]
'''


def write(tmp_path, text, name="demo_site"):
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_profiles_load():
    assert "huabo" in profile_paths()
    for name in profile_paths():
        assert load_profile(name).name == name


def test_valid_profile(tmp_path):
    profile = load_profile_file(write(tmp_path, GOOD))
    assert profile.politeness.obey_robots is True and profile.politeness.download_delay >= 1
    assert profile.rebased("http://127.0.0.1:9000").start_urls == ["http://127.0.0.1:9000/"]


@pytest.mark.parametrize(
    "broken, field",
    [
        (GOOD.replace('body = ["div.content"]', 'body = ["div..content"]'), "extract.body"),
        (GOOD.replace("[extract]", "[extract]\nbdy = []"), "extract.bdy"),
        (GOOD.replace("'/list/'", "'/list/('"), "navigation.list_url_pattern"),
        (GOOD.replace('"https://www.example.org/"', '"www.example.org"'), "start_urls"),
        (GOOD.replace('article_links = ["ul.list a"]\n', ""), "navigation.article_links"),
    ],
)
def test_errors_name_the_field(tmp_path, broken, field):
    with pytest.raises(ProfileError) as error:
        load_profile_file(write(tmp_path, broken))
    assert field in str(error.value) and "demo_site.toml" in str(error.value)


def test_name_must_match_file(tmp_path):
    with pytest.raises(ProfileError, match="must equal the file name"):
        load_profile_file(write(tmp_path, GOOD, name="other"))


def test_unknown_profile_lists_known_ones():
    with pytest.raises(ProfileError, match="huabo"):
        load_profile("no_such_site")


def test_user_profile_directory_overrides(tmp_path):
    write(tmp_path, GOOD)
    assert load_profile("demo_site", [str(tmp_path)]).display_name == "示例范文网"
