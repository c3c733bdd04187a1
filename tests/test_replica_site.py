"""The replica keeps rendered pages until the site changes, and never serves a stale one after."""

from __future__ import annotations

import hashlib

from replica.site import ReplicaSite, load_site


def fresh_site() -> ReplicaSite:
    # load_site's instance is shared by other tests; changing the site needs one of its own.
    return ReplicaSite(load_site("huabo").definition)


def test_pages_are_rendered_once_while_the_site_is_unchanged():
    site = fresh_site()
    first_list = site.list_url(site.definition.categories[0].slug)
    for target in (site.definition.routes.home, first_list, site.articles[0].path):
        assert site.respond(target, "http://a") is site.respond(target, "http://a")
    # The origin is part of the page (absolute links on the home page), so it is part of the key.
    assert site.respond(site.definition.routes.home, "http://a") is not site.respond(site.definition.routes.home, "http://b")


def test_published_articles_appear_on_home_and_list_pages_already_served():
    site = fresh_site()
    home, lists = site.definition.routes.home, {c.slug: site.list_url(c.slug) for c in site.definition.categories}
    before = {target: site.respond(target).body for target in (home, *lists.values())}
    published = site.publish(len(lists))
    for article in published:
        listed = site.respond(lists[article.category.slug]).body.decode(site.definition.encoding)
        assert article.path in listed
        assert article.title in site.respond(home).body.decode(site.definition.encoding)
    assert all(site.respond(target).body != body for target, body in before.items())


def test_edited_article_is_served_revised_with_a_new_etag():
    site = fresh_site()
    article = site.articles[0]
    old = site.respond(article.path)
    [edited] = site.edit(1)
    assert edited.id == article.id
    new = site.respond(article.path)
    assert new.body != old.body and new.etag != old.etag
    assert new.etag == hashlib.sha1(new.body).hexdigest()[:16]


def test_running_replica_reports_the_cpu_it_has_used():
    import urllib.request

    from replica.process import replica_cpu_seconds, running_replicas

    with running_replicas(["huabo"]) as urls:
        base = urls["huabo"]
        before = replica_cpu_seconds(base)
        for article in load_site("huabo").articles[:50]:
            urllib.request.urlopen(base.rstrip("/") + article.path, timeout=30).read()
        assert replica_cpu_seconds(base) > before >= 0
