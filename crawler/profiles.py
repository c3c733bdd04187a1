"""Site profiles: a site is data (a TOML file), validated when loaded.

A profile says where a site's lists start, how to walk from list pages to
article pages, how politely to do it, and how to extract the text (the
``[extract]`` table, read by the cleaning core).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from functools import lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipelines.rules import ExtractionRules, RulesError, check_selectors

# Read through importlib.resources so profiles load from a zipped egg too (Scrapyd).
BUNDLED_PROFILES: Traversable = files("crawler") / "profiles"


class ProfileError(ValueError):
    """A profile file that cannot be used; the message names the file and the field."""


def _check_pattern(value: str) -> str:
    try:
        re.compile(value)
    except re.error as error:
        raise ValueError(f"invalid regular expression {value!r}: {error}") from None
    return value


class Navigation(BaseModel):
    """How the spider walks the site: start page → list pages → article pages."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    list_links: list[str] = []
    """CSS selectors of links from a start page to the category list pages."""
    list_url_pattern: str
    """Regex (searched in the absolute URL) a list page's URL matches."""
    article_links: list[str]
    """CSS selectors of article links on a list page."""
    article_url_pattern: str
    """Regex (searched in the absolute URL) an article page's URL matches."""
    next_list_page: list[str] = []
    """CSS selectors of the list's next-page link."""
    category: list[str] = []
    """CSS selectors whose text on a list page names the category."""
    sitemaps: list[str] = []
    """Sitemap (or sitemap index) URLs, absolute or relative to the first start URL; their lastmod
    dates tell an incremental crawl which archived articles changed."""
    max_list_pages: int = Field(default=500, ge=1)
    """Stop following a category's pager after this many pages (endless-pagination guard)."""
    max_article_pages: int = Field(default=20, ge=1)
    """Stop following an article's continuation pages after this many pages."""

    _selectors = field_validator("list_links", "article_links", "next_list_page", "category")(check_selectors)
    _patterns = field_validator("list_url_pattern", "article_url_pattern")(_check_pattern)


class Politeness(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    download_delay: float = Field(default=2.0, ge=0)
    concurrency: int = Field(default=2, ge=1, le=64)
    obey_robots: bool = True


class Schedule(BaseModel):
    """When ``fanwen schedule run`` crawls the site."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cron: str
    """A cron expression (5 fields; a 6th field gives seconds), in UTC."""

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from croniter import croniter

        if not croniter.is_valid(value):
            raise ValueError(f"invalid cron expression {value!r}")
        return value


class SiteProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    display_name: str
    description: str = ""
    start_urls: list[str] = Field(min_length=1)
    other_hosts: list[str] = []
    """Further hosts serving the same site (mobile ``m.``, ``mip.``, a second domain), for choosing
    a profile by URL (``fanwen extract``); subdomains of start_urls' hosts match without listing."""
    navigation: Navigation
    politeness: Politeness = Politeness()
    extract: ExtractionRules = ExtractionRules()
    schedule: Schedule | None = None

    @field_validator("extract", mode="before")
    @classmethod
    def _extraction_rules(cls, value: object) -> ExtractionRules:
        if isinstance(value, ExtractionRules):
            return value
        if not isinstance(value, dict):
            raise ValueError("must be a table")
        return ExtractionRules.from_mapping(value)

    @field_validator("start_urls")
    @classmethod
    def _absolute_http(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
                raise ValueError(f"start URL must be absolute http(s): {url!r}")
        return urls

    def rebased(self, base_url: str) -> SiteProfile:
        """The same profile pointed at another origin (a mirror, or the bundled replica)."""
        base = urlsplit(base_url)
        if base.scheme not in ("http", "https") or not base.netloc:
            raise ProfileError(f"base URL must be absolute http(s): {base_url!r}")
        urls = [urlunsplit((base.scheme, base.netloc, *urlsplit(u)[2:])) for u in self.start_urls]
        return self.model_copy(update={"start_urls": urls})

    @property
    def domains(self) -> list[str]:
        return sorted({urlsplit(url).hostname or "" for url in self.start_urls})


def _format_validation_error(path: Path | Traversable, error: ValidationError) -> str:
    problems = []
    for issue in error.errors():
        field = ".".join(str(part) for part in issue["loc"]) or "(top level)"
        cause = issue.get("ctx", {}).get("error")
        if isinstance(cause, RulesError):  # the [extract] table is validated by the cleaning core's own rules
            problems.append(f"  {field}.{cause.field}: {cause.message}")
        else:
            problems.append(f"  {field}: {issue['msg']}")
    return f"invalid site profile {path}:\n" + "\n".join(problems)


def _stem(path: Path | Traversable) -> str:
    return path.name.removesuffix(".toml")


def load_profile_file(path: Path | Traversable) -> SiteProfile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ProfileError(f"cannot read site profile {path}: {error}") from None
    try:
        profile = SiteProfile.model_validate(data)
    except ValidationError as error:
        raise ProfileError(_format_validation_error(path, error)) from None
    if profile.name != _stem(path):
        raise ProfileError(f"invalid site profile {path}:\n  name: {profile.name!r} must equal the file name {_stem(path)!r}")
    return profile


def profile_paths(extra_dirs: Sequence[str] = ()) -> dict[str, Path | Traversable]:
    """Profile name → file; a user directory's profile overrides a bundled one of the same name."""
    paths: dict[str, Path | Traversable] = {}
    for directory in (BUNDLED_PROFILES, *map(Path, extra_dirs)):
        if not directory.is_dir():
            raise ProfileError(f"profile directory {directory} does not exist (FANWEN_PROFILE_DIRS)")
        for path in sorted(directory.iterdir(), key=lambda entry: entry.name):
            if path.name.endswith(".toml") and path.is_file():
                paths[_stem(path)] = path
    return paths


def load_profile(name: str, extra_dirs: Sequence[str] = ()) -> SiteProfile:
    paths = profile_paths(extra_dirs)
    if name not in paths:
        known = ", ".join(sorted(paths)) or "none"
        raise ProfileError(f"no site profile named {name!r} (known: {known})")
    return load_profile_file(paths[name])


def _site_domain(host: str) -> str:
    """``www.diyifanwen.com`` → ``diyifanwen.com``: the part its sister hosts (m., mip.) share."""
    return host.removeprefix("www.")


@lru_cache(maxsize=8)
def _loadable_profiles(extra_dirs: tuple[str, ...]) -> tuple[SiteProfile, ...]:
    """Every profile that loads, read once per process (``fanwen extract`` asks per page)."""
    profiles = []
    for path in profile_paths(extra_dirs).values():
        try:
            profiles.append(load_profile_file(path))
        except ProfileError:
            continue
    return tuple(profiles)


def profile_for_url(url: str, extra_dirs: list[str] | tuple[str, ...] = ()) -> SiteProfile | None:
    """The profile of the site serving ``url``, or None (the caller then uses generic rules).

    An exact host:port match wins (replica sites share 127.0.0.1 on different
    ports); otherwise the host, or any host it is a subdomain of, must be one
    of a profile's hosts.
    """
    parts = urlsplit(url if "//" in url else f"//{url}")
    host = (parts.hostname or "").lower()
    if not host:
        return None
    netloc = parts.netloc.lower().rpartition("@")[2]
    return _profile_for_host(netloc, host, tuple(extra_dirs))


@lru_cache(maxsize=1024)
def _profile_for_host(netloc: str, host: str, extra_dirs: tuple[str, ...]) -> SiteProfile | None:
    by_host: SiteProfile | None = None
    for profile in _loadable_profiles(tuple(extra_dirs)):
        own = [urlsplit(u) for u in profile.start_urls]
        if any(netloc == u.netloc.lower() for u in own):
            return profile
        if by_host is None:
            hosts = {_site_domain((u.hostname or "").lower()) for u in own}
            hosts.update(_site_domain(h.lower()) for h in profile.other_hosts)
            if any(host == h or host.endswith("." + h) for h in hosts if h):
                by_host = profile
    return by_host
