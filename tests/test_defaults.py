"""Every FANWEN_* setting has one default, and a crawl gets it whatever settings module it runs with."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from scrapy.settings import SETTINGS_PRIORITIES, Settings
from scrapy.utils.test import get_crawler

from crawler.defaults import FANWEN_DEFAULTS, USER_AGENT
from crawler.profiles import load_profile
from crawler.spider_loader import spider_class_for

REPO = Path(__file__).resolve().parents[1]
CODE = ("records", "pipelines", "archive", "crawler", "fanwen")


def _project_crawler():
    """A crawler with what crawler/settings.py sets (get_crawler adds Scrapy's defaults for a test)."""
    project = Settings()
    project.setmodule("crawler.settings", priority="project")
    own = {name: project[name] for name in project if project.getpriority(name) == SETTINGS_PRIORITIES["project"]}
    return get_crawler(spider_class_for(load_profile("huabo")), own)


def test_a_crawl_without_the_project_settings_gets_the_same_defaults():
    with_project = _project_crawler()
    bare = get_crawler(spider_class_for(load_profile("huabo")))  # Scrapy's defaults only, as Scrapyd with another module
    for name, default in FANWEN_DEFAULTS.items():
        assert bare.settings.get(name) == default, name
        assert with_project.settings.get(name) == default, name
    assert with_project.settings.get("USER_AGENT") == USER_AGENT


def test_a_setting_given_for_the_crawl_wins_over_the_default():
    crawler = get_crawler(spider_class_for(load_profile("huabo")), {"FANWEN_EXTRACT_BATCH": 4})
    assert crawler.settings.getint("FANWEN_EXTRACT_BATCH") == 4


@pytest.mark.parametrize("package", CODE)
def test_every_setting_the_code_reads_is_declared(package):
    names = set()
    for path in (REPO / package).rglob("*.py"):
        names |= set(re.findall(r"settings\.get\w*\(\s*[\"'](FANWEN_\w+)", path.read_text(encoding="utf-8")))
    assert names <= set(FANWEN_DEFAULTS), sorted(names - set(FANWEN_DEFAULTS))


def test_the_project_settings_module_repeats_no_default():
    text = (REPO / "crawler" / "settings.py").read_text(encoding="utf-8")
    assert not re.findall(r"^FANWEN_\w+\s*[:=]", text, re.M)
    assert "fanwen-archive/0." not in text
