"""Pure URL decisions of the crawler: canonical article/list URLs, and which redirects to follow."""

from __future__ import annotations

import ipaddress
from urllib.parse import parse_qsl, urlsplit

from w3lib.url import url_query_cleaner

# Query parameters that say where a visitor came from, not which page it is: share
# buttons (from, share_source, isappinstalled), WeChat (scene, clicktime, enterid),
# Alibaba/Baidu click tracking (spm, fr, wfr), and every utm_*.
TRACKING_PARAMETERS = frozenset({
    "from", "spm", "share_source", "share_medium", "isappinstalled", "scene", "clicktime", "enterid",
    "fr", "wfr", "fromid", "source", "share_from", "timestamp", "gclid", "fbclid", "bd_vid",
})


def is_tracking_parameter(name: str) -> bool:
    name = name.lower()
    return name.startswith("utm_") or name in TRACKING_PARAMETERS


def canonical_url(url: str) -> str:
    """``url`` without tracking parameters and fragment; other parameters keep their order."""
    query = urlsplit(url).query
    tracking = sorted({name for name, _ in parse_qsl(query, keep_blank_values=True) if is_tracking_parameter(name)})
    if not tracking:
        return url.split("#", 1)[0]
    return url_query_cleaner(url, tracking, remove=True, unique=False)


def _is_private_host(host: str) -> bool:
    """Loopback, private, link-local or unspecified addresses, and ``localhost`` names."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name: where it points is not known without resolving it
    return address.is_private or address.is_loopback or address.is_link_local or address.is_unspecified


def redirect_refusal(source: str, target: str, visited: list[str] | tuple[str, ...] = ()) -> str | None:
    """Why a redirect from ``source`` to ``target`` must not be followed, or None to follow it.

    Refused: a scheme other than http(s); a URL already visited in this redirect
    chain (a loop); a jump from a public host to a loopback or private address
    (server-side request forgery: a public site must not steer the crawler into
    the network it runs in).  A private host redirecting within private hosts
    is fine (the replicas; an intranet mirror).
    """
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https"):
        return "redirect_not_http"
    if target == source or target in visited:
        return "redirect_loop"
    if _is_private_host(parts.hostname or "") and not _is_private_host(urlsplit(source).hostname or ""):
        return "redirect_to_private"
    return None
