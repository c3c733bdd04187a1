"""Serve replica sites over real HTTP on loopback (Twisted, which Scrapy already brings).

Each site listens on its own port.  Once listening, one JSON line
``{"<site>": "http://127.0.0.1:<port>/"}`` is written to stdout so a parent
process (tests, ``fanwen demo``, benchmarks) knows where to point the crawler.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from resource import RUSAGE_SELF, getrusage
from typing import Any

from twisted.internet import reactor as _installed_reactor
from twisted.web import http, resource, server

from .page_weight import Weight
from .site import ReplicaResponse, ReplicaSite, load_site

# Twisted's interfaces declare methods without self, which type checkers read one argument short.
reactor: Any = _installed_reactor

CONTROL_PREFIX = "/__replica__/"


class ReplicaResource(resource.Resource):
    isLeaf = True

    def __init__(self, site: ReplicaSite, latency: float = 0.0) -> None:
        super().__init__()
        self.site = site
        self.latency = latency
        self.requests: Counter[str] = Counter()
        self.gone: dict[str, int] = {}  # path -> 404/410, set by POST /__replica__/gone
        # When each request arrived (time.monotonic(), target), for tests of the crawler's pace.
        self.arrivals: list[tuple[float, str]] = []
        # (index in arrivals, Retry-After seconds) of the request to answer 429, set by POST /__replica__/throttle
        self.throttled: tuple[int, int] | None = None

    def render_GET(self, request: server.Request) -> bytes | int:
        if request.path == CONTROL_PREFIX.encode() + b"requests":
            request.setHeader(b"Content-Type", b"application/json")
            return json.dumps(self.requests).encode()
        if request.path == CONTROL_PREFIX.encode() + b"cpu":
            # What serving has cost so far: benchmarks subtract it from the machine they share.
            usage = getrusage(RUSAGE_SELF)
            request.setHeader(b"Content-Type", b"application/json")
            return json.dumps({"cpu_seconds": usage.ru_utime + usage.ru_stime}).encode()
        if request.path == CONTROL_PREFIX.encode() + b"arrivals":
            request.setHeader(b"Content-Type", b"application/json")
            return json.dumps(self.arrivals).encode()
        self.requests[request.uri.decode("utf-8", "replace")] += 1
        self.arrivals.append((time.monotonic(), request.uri.decode("utf-8", "replace")))
        if self.throttled is not None and self.throttled[0] == len(self.arrivals) - 1:
            request.setResponseCode(429)
            request.setHeader(b"Retry-After", str(self.throttled[1]).encode())
            return b"too many requests\n"
        if (gone := self.gone.get(request.path.decode("utf-8", "replace"))) is not None:
            request.setResponseCode(gone)
            return b"gone\n"
        response = self.site.respond(request.uri.decode("utf-8", "replace"), origin=self._origin(request))
        if response.action:
            return self._fault_action(request, response.action)
        if self.latency:
            # Answer later without blocking other requests: a slow site, so a crawl is I/O-bound.
            reactor.callLater(self.latency, self._finish_late, request, response)
            return server.NOT_DONE_YET
        return self._answer(request, response)

    def _fault_action(self, request: server.Request, action: str) -> bytes | int:
        """A fault the crawler must survive: no answer at all, or a dropped connection."""
        if action == "reset":
            request.channel.transport.abortConnection()  # type: ignore[union-attr]  # connected while it answers
        return server.NOT_DONE_YET  # "hang": the client's timeout ends it

    def _finish_late(self, request: server.Request, response: ReplicaResponse) -> None:
        if not request.channel:  # the client went away
            return
        request.write(self._answer(request, response))
        request.finish()

    @staticmethod
    def _origin(request: server.Request) -> str:
        return "http://" + (request.getHeader(b"host") or b"127.0.0.1").decode("ascii", "replace")

    def _answer(self, request: server.Request, response: ReplicaResponse | None = None) -> bytes:
        response = response or self.site.respond(request.uri.decode("utf-8", "replace"), origin=self._origin(request))
        response = self.site.relaid(response)
        request.setResponseCode(response.status)
        if response.content_type:
            request.setHeader(b"Content-Type", response.content_type.encode("ascii"))
        for name, value in response.headers:
            request.setHeader(name.encode("ascii"), value.encode("ascii"))
        if response.last_modified is not None:
            # Conditional requests (If-None-Match / If-Modified-Since) get 304 Not Modified.
            modified = request.setLastModified(response.last_modified.timestamp())
            if request.setETag(response.etag.encode()) == http.CACHED or modified == http.CACHED:
                return b""
        return response.body

    def render_HEAD(self, request: server.Request) -> bytes:
        return self._answer(request)

    def render_POST(self, request: server.Request) -> bytes:
        """Change the site as time would: ``/__replica__/publish?count=N`` or ``/__replica__/edit?count=N``.

        Answers with the paths of the new or revised articles as JSON.
        """
        action = request.path.decode("ascii", "replace").removeprefix(CONTROL_PREFIX)
        if action == "gone":
            # ``/__replica__/gone?path=/x.html&status=410``: the page is deleted from now on.
            path = request.args[b"path"][0].decode("utf-8")
            self.gone[path] = int(request.args.get(b"status", [b"404"])[0])
            request.setHeader(b"Content-Type", b"application/json")
            return json.dumps([path]).encode()
        if action == "throttle":
            # ``/__replica__/throttle?after=N&retry_after=S``: the Nth request from now answers
            # 429 Too Many Requests with ``Retry-After: S``, whatever it asks for.  Answers with
            # that request's index in ``/__replica__/arrivals``.
            index = len(self.arrivals) + int(request.args[b"after"][0]) - 1
            self.throttled = (index, int(request.args.get(b"retry_after", [b"1"])[0]))
            request.setHeader(b"Content-Type", b"application/json")
            return json.dumps({"arrival": index}).encode()
        if action == "relayout":
            # ``/__replica__/relayout?rename=OLD&to=NEW``: a redesign; class OLD is called NEW from now on.
            old, new = request.args[b"rename"][0].decode("ascii"), request.args[b"to"][0].decode("ascii")
            self.site.rename_class(old, new)
            request.setHeader(b"Content-Type", b"application/json")
            return json.dumps(self.site.renamed_classes).encode()
        count = int(request.args.get(b"count", [b"1"])[0])
        change = {"publish": self.site.publish, "edit": self.site.edit}.get(action)
        if change is None:
            request.setResponseCode(404)
            return b"unknown replica action\n"
        request.setHeader(b"Content-Type", b"application/json")
        return json.dumps([article.path for article in change(count)]).encode()


def serve(
    site_names: Sequence[str], ports: dict[str, int] | None = None, host: str = "127.0.0.1", latency: float = 0.0,
    weight: Weight = "light",
) -> None:
    """Listen for every site, announce the URLs on stdout, run until SIGINT/SIGTERM.

    ``latency`` (seconds) delays every answer, like a distant or slow site;
    ``GET /__replica__/requests`` tells how often each target was requested,
    ``GET /__replica__/arrivals`` when each request arrived (``[monotonic seconds, target]``),
    ``GET /__replica__/cpu`` the CPU seconds the server has used.
    ``weight`` is the page weight of every site: ``light`` or ``real`` (page_weight.py).
    """
    urls: dict[str, str] = {}
    for name in site_names:
        site = load_site(name, weight)
        _ = site.articles  # build the corpus before announcing readiness
        port = (ports or {}).get(name, site.definition.default_port)
        factory = server.Site(ReplicaResource(site, latency))
        factory.log = lambda request: None  # type: ignore[method-assign]  # no access log: the crawler logs its requests
        listening = reactor.listenTCP(port, factory, interface=host)
        urls[name] = f"http://{host}:{listening.getHost().port}/"
    sys.stdout.write(json.dumps(urls) + "\n")
    sys.stdout.flush()
    reactor.run()
