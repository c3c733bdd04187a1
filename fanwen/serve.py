"""Start Datasette on the archive with the project's configuration (datasette_config/)."""

from __future__ import annotations

import ipaddress
import os
import sys
import tempfile
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path

import yaml

from archive.database import Archive


def config_dir() -> Path:
    return Path(str(files("datasette_config")))


def metadata_for(archive: Path) -> dict:
    """The bundled metadata, with its database section keyed by the archive's Datasette name.

    Datasette names a database after its file's stem; the bundled metadata
    describes ``archive``, and an archive saved under another name must get
    the same titles, facets and column descriptions.
    """
    metadata = yaml.safe_load((config_dir() / "metadata.yml").read_text(encoding="utf-8"))
    databases = metadata.get("databases", {})
    name = archive.stem
    if "archive" in databases and name != "archive":
        databases[name] = databases.pop("archive")
        metadata["description_html"] = metadata.get("description_html", "").replace('"/archive/', f'"/{name}/')
        dashboards = metadata.get("plugins", {}).get("datasette-dashboards", {})
        if "archive" in dashboards:
            dashboards[name] = dashboards.pop("archive")
            metadata["description_html"] = metadata["description_html"].replace("/-/dashboards/archive", f"/-/dashboards/{name}")
        for dashboard in dashboards.values():
            for chart in dashboard.get("charts", {}).values():
                if chart.get("db") == "archive":
                    chart["db"] = name
    return metadata


# Read-only without further flags: Datasette 0.65 has no write API, opens a
# mutable database file with mode=ro, and we install no plugin that writes.
SETTINGS: dict[str, object] = {
    # Bound every query so one runaway request cannot hold the archive.
    "sql_time_limit_ms": 3000,
    # Facet suggestions run a GROUP BY per column on every table page and
    # dominate page cost on long texts (docs/search.md, "Datasette settings").
    "suggest_facets": False,
    # A facet is a GROUP BY over every row the page selects, and waits out this limit
    # before Datasette lists it as timed out; a search of many texts offers none
    # (plugins/archive_counts.py; docs/search.md, "A million texts").
    "facet_time_limit_ms": 120,
    "allow_csv_stream": True,
    # max_csv_mb counts characters, not bytes, and a capped download still ends
    # with HTTP 200 and an error line as its last row: a user would get a
    # silently cut file.  A streamed CSV holds only one batch in memory, so no
    # cap at all is the honest setting.
    "max_csv_mb": 0,
    "default_page_size": 50,
    # Table pages list many texts of thousands of characters each; show the
    # start of each cell there (the speech page and every export stay whole).
    "truncate_cells_html": 160,
}


def _setting_text(value: object) -> str:
    return ("on" if value else "off") if isinstance(value, bool) else str(value)


def datasette_arguments(archive: Path, metadata_path: Path, host: str = "127.0.0.1", port: int = 8001) -> list[str]:
    arguments = [
        "serve", str(archive),
        "--metadata", str(metadata_path),
        "--plugins-dir", str(config_dir() / "plugins"),
        "--template-dir", str(config_dir() / "templates"),
        "--host", host,
        "--port", str(port),
    ]
    for name, value in SETTINGS.items():
        arguments += ["--setting", name, _setting_text(value)]
    return arguments


def datasette_instance(archive: str | Path, **settings: object):
    """The same Datasette as ``fanwen serve`` runs, in process (for ``ds.client`` tests and benchmarks).

    ``settings`` override Datasette settings, e.g. ``max_returned_rows=50`` to page a small archive.
    """
    from datasette.app import Datasette

    archive = Path(archive)
    return Datasette(
        [str(archive)], metadata=metadata_for(archive), plugins_dir=str(config_dir() / "plugins"),
        template_dir=str(config_dir() / "templates"), settings={**SETTINGS, **settings},
    )


# `fanwen serve --auth` reads the password hash from here (never from the
# command line, where `ps` would show it); `datasette hash-password` makes one.
PASSWORD_HASH_VARIABLE = "FANWEN_PASSWORD_HASH"


class ServeRefused(ValueError):
    """The requested ``fanwen serve`` would publish the archive unsafely."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name other than localhost may resolve anywhere
        return False


def check_exposure(host: str, auth_user: str | None, environ: Mapping[str, str] | None = None) -> None:
    """Refuse to serve beyond this machine without a password, or a password that is not configured."""
    if environ is None:
        environ = os.environ
    if auth_user is None and not is_loopback(host):
        raise ServeRefused(
            f"refusing to serve on {host} without a password: anything but a loopback address "
            f"(127.0.0.1, ::1, localhost) needs --auth USER and {PASSWORD_HASH_VARIABLE} set"
        )
    if auth_user is not None and not environ.get(PASSWORD_HASH_VARIABLE):
        raise ServeRefused(
            f"--auth needs the password hash in the environment variable {PASSWORD_HASH_VARIABLE}; "
            f"make one with `datasette hash-password`"
        )


def with_password(metadata: dict, user: str) -> dict:
    """Put HTTP basic authentication (datasette-auth-passwords) in front of every page and API call."""
    plugins = metadata.setdefault("plugins", {})
    plugins["datasette-auth-passwords"] = {
        "http_basic_auth": True,
        f"{user}_password_hash": {"$env": PASSWORD_HASH_VARIABLE},
    }
    # Deny-by-default behind the wrapper too: only the configured account is an actor.
    metadata["allow"] = {"id": user}
    return metadata


def serve_archive(archive: str | Path, host: str = "127.0.0.1", port: int = 8001, auth_user: str | None = None) -> None:
    """Replace this process with Datasette serving ``archive`` (never returns)."""
    archive = Path(archive)
    check_exposure(host, auth_user)
    # Bring an older archive up to the current schema (e.g. build its search
    # index) before Datasette opens it read-only.
    Archive(archive).close()
    metadata = metadata_for(archive)
    if auth_user is not None:
        metadata = with_password(metadata, auth_user)
    handle, metadata_path = tempfile.mkstemp(prefix="fanwen-metadata-", suffix=".yml")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        yaml.safe_dump(metadata, out, allow_unicode=True, sort_keys=False)
    arguments = datasette_arguments(archive, Path(metadata_path), host, port)
    os.execv(sys.executable, [sys.executable, "-m", "datasette", *arguments])
