"""Start Datasette on the archive with the project's configuration (datasette_config/)."""

from __future__ import annotations

import os
import sys
import tempfile
from importlib.resources import files
from pathlib import Path

import yaml


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
    if "archive" in databases and archive.stem != "archive":
        databases[archive.stem] = databases.pop("archive")
    return metadata


def datasette_arguments(archive: Path, metadata_path: Path, host: str = "127.0.0.1", port: int = 8001) -> list[str]:
    return [
        "serve", str(archive),
        "--metadata", str(metadata_path),
        "--host", host,
        "--port", str(port),
        # Bound every query so one runaway request cannot hold the archive.
        "--setting", "sql_time_limit_ms", "3000",
        # Facet suggestions run a GROUP BY per column on every table page and
        # dominate page cost on long texts (research/fts-perf.md).
        "--setting", "suggest_facets", "off",
        "--setting", "allow_csv_stream", "on",
        "--setting", "default_page_size", "50",
    ]


def serve_archive(archive: str | Path, host: str = "127.0.0.1", port: int = 8001) -> None:
    """Replace this process with Datasette serving ``archive`` (never returns)."""
    archive = Path(archive)
    handle, metadata_path = tempfile.mkstemp(prefix="fanwen-metadata-", suffix=".yml")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        yaml.safe_dump(metadata_for(archive), out, allow_unicode=True, sort_keys=False)
    arguments = datasette_arguments(archive, Path(metadata_path), host, port)
    os.execv(sys.executable, [sys.executable, "-m", "datasette", *arguments])
