"""Replica pages at real weight (issue 20): sized like real pages, full of chrome, and cleaned to the same texts.

At weight ``real`` every article, list and home page carries what real pages of
its family carry around the text (replica/page_weight.py): an inlined
stylesheet and scripts, a menu of hundreds of links, ad code, long related and
ranking lists, friend links.  None of it may reach a clean text: a crawl of the
real-weight replicas must archive exactly what a crawl of the light ones does.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tomllib

import pytest

from replica.page_weight import family_weight, page_sizes, page_targets
from replica.process import replica_request_counts, running_replicas
from replica.site import SITES_DIR, SiteDefinition, load_site, site_class

from .conftest import REPO, run_fanwen
from .replica_crawl import renamed_profile

# One site of each family (deyu has huabo's layout and no Crawl-delay, so it crawls fast).
FAMILY_SITES = ("deyu", "diyifanwen", "ruiwen", "xuexila", "liuxue86")
# Crawled in two groups, each in one crawl at both weights: a crawl's start and finish cost more CPU
# than these sites' pages, and one crawl of all five at both weights takes twice as long as a group.
CRAWL_GROUPS = (("deyu", "ruiwen"), ("diyifanwen", "xuexila", "liuxue86"))


def _fresh_site(name: str, weight: str):
    """A site built anew, not the one ``load_site`` keeps: determinism must not come from a cache."""
    definition = SiteDefinition.model_validate(tomllib.loads((SITES_DIR / f"{name}.toml").read_text(encoding="utf-8")))
    return site_class(definition.layout)(definition, weight)


@pytest.mark.parametrize("name", FAMILY_SITES)
def test_pages_are_within_their_familys_range(name):
    site = load_site(name, "real")
    family = family_weight(site.definition.layout)
    for kind, sizes in page_sizes(site).items():
        low, high = family.size_range(kind)
        assert sizes and all(low <= size <= high for size in sizes), (kind, min(sizes), max(sizes), low, high)
    # the bounds: articles 40-200 KB
    assert 40 * 1024 <= family.size_range("article")[0] and family.size_range("article")[1] <= 200 * 1024


@pytest.mark.parametrize("name", FAMILY_SITES)
def test_light_pages_carry_no_chrome(name):
    light, real = load_site(name), load_site(name, "real")
    article = light.articles[0].path
    light_page, real_page = light.respond(article).body, real.respond(article).body
    assert len(light_page) < 40 * 1024 < len(real_page)
    assert b"ICP" not in light_page and b"ICP" in real_page


@pytest.mark.parametrize("name", FAMILY_SITES)
def test_real_pages_carry_the_chrome(name):
    site = load_site(name, "real")
    codec = "gb18030" if site.definition.encoding != "utf-8" else "utf-8"
    targets = page_targets(site)
    for kind in ("article", "list", "home"):
        page = site.respond(targets[kind][0]).body.decode(codec)
        assert page.count("<a ") >= 300, kind  # menus, related and ranking lists, friend links
        assert page.count("<script") >= 5, kind  # statistics, ad code, mobile redirect, footer scripts
        styles = page.split('<style type="text/css">', 1)[1].split("</style>", 1)[0]
        assert len(styles) > 8000, kind  # the inlined site stylesheet
        assert "友情链接" in page and "热门标签" in page and "ICP备" in page, kind
        assert page.count("<h1") <= 1, kind  # no heading a title selector could take for the text's


def test_real_pages_are_deterministic():
    """The same bytes from a new site object and from another process with another hash seed."""
    sample = {name: load_site(name, "real") for name in ("huabo", "ruiwen", "diyifanwen")}

    def digest(site) -> str:
        targets = page_targets(site)
        chosen = [*targets["home"], *targets["list"][:2], *targets["article"][:5]]
        return hashlib.sha256(b"".join(site.respond(target).body for target in chosen)).hexdigest()

    here = {name: digest(site) for name, site in sample.items()}
    assert here == {name: digest(_fresh_site(name, "real")) for name in sample}
    script = (
        "import hashlib, json\n"
        "from replica.page_weight import page_targets\n"
        "from replica.site import load_site\n"
        "out = {}\n"
        f"for name in {list(sample)!r}:\n"
        "    site = load_site(name, 'real'); targets = page_targets(site)\n"
        "    chosen = [*targets['home'], *targets['list'][:2], *targets['article'][:5]]\n"
        "    out[name] = hashlib.sha256(b''.join(site.respond(t).body for t in chosen)).hexdigest()\n"
        "print(json.dumps(out))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(REPO)}, check=True)
    assert json.loads(result.stdout) == here


def test_unknown_weight_is_refused():
    with pytest.raises(ValueError, match="unknown page weight"):
        _fresh_site("huabo", "heavy")


# -- a real crawl of both weights ---------------------------------------------------------------

def _texts(archive, site: str) -> dict[tuple[str, int], tuple]:
    """(URL path, part) -> what the archive holds of that text, for one site name."""
    connection = sqlite3.connect(archive)
    rows = connection.execute(
        "select url, part, text, title, published, truncated, category from texts where site = ?", [site])
    found = {("/" + url.split("/", 3)[3], part): tuple(rest) for url, part, *rest in rows}
    connection.close()
    return found


@pytest.fixture(scope="module", params=CRAWL_GROUPS, ids="+".join)
def crawled(request, tmp_path_factory):
    """A group of family sites crawled at both weights in one crawl: each real-weight replica under a
    copy of its profile named ``<site>_real``; (texts, requests served) by site and weight."""
    sites = request.param
    workdir = tmp_path_factory.mktemp("weights")
    profiles = workdir / "profiles"
    for site in sites:
        renamed_profile(profiles, site, f"{site}_real")
    with running_replicas(sites, weight="light") as light, running_replicas(sites, weight="real") as real:
        bases = [*(f"--base-url={site}={url}" for site, url in light.items()),
                 *(f"--base-url={site}_real={url}" for site, url in real.items())]
        run_fanwen("crawl", *sites, *(f"{site}_real" for site in sites), "--archive",
                   str(workdir / "archive.db"), *bases, "--delay", "0", "--concurrency", "8",
                   "-s", "LOG_LEVEL=WARNING", "-s", f"FANWEN_PROFILE_DIRS={profiles}", cwd=workdir, timeout=180)
        requests = {weight: {site: replica_request_counts(url) for site, url in urls.items()}
                    for weight, urls in (("light", light), ("real", real))}
    archive = workdir / "archive.db"
    texts = {site: {"light": _texts(archive, site), "real": _texts(archive, f"{site}_real")} for site in sites}
    return texts, requests


def test_real_weight_crawl_archives_the_same_texts(crawled):
    for name, found in crawled[0].items():
        light, real = found["light"], found["real"]
        assert len(light) == sum(len(article.expected_texts) for article in load_site(name).articles), name
        assert set(real) == set(light), name
        differing = sorted(key for key in light if real[key] != light[key])
        assert differing == [], name


def test_real_weight_crawl_fetches_the_same_pages(crawled):
    """The chrome's links sit outside every container a profile follows: the crawl asks for the same URLs."""
    requests = crawled[1]
    assert requests["real"] == requests["light"]
