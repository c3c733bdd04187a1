"""Shared fixtures: the replica sites over real HTTP, and one demo crawl per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from replica.loopback import free_port  # noqa: F401  (tests import it from here)
from replica.process import running_replicas

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).with_name("fixtures")


def fanwen_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "fanwen", *args]


def run_fanwen(*args: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    result = subprocess.run(
        fanwen_command(*args), cwd=cwd or REPO, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, f"fanwen {' '.join(args)} failed:\n{result.stdout}\n{result.stderr[-4000:]}"
    return result


@pytest.fixture(scope="session")
def replica_urls():
    with running_replicas(["huabo"]) as urls:
        yield urls


@pytest.fixture(scope="session")
def demo_archive(tmp_path_factory) -> Path:
    """``fanwen demo --no-serve`` run once in an empty directory; the archive it leaves."""
    workdir = tmp_path_factory.mktemp("demo")
    run_fanwen("demo", "--no-serve", cwd=workdir)
    archive = workdir / "archive.db"
    assert archive.exists()
    return archive
