"""The packages form layers (README, "How the code is laid out"): imports point down only."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("records", "pipelines", "archive", "crawler", "fanwen", "replica", "evaluation", "datasette_config")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    # --no-cache: the copy's contracts must be judged on its own files.
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )


def _copy_of_the_code(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for package in PACKAGES:
        shutil.copytree(REPO / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_layers_hold():
    result = _lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("module", "upward", "contract"), [
    ("pipelines/text_rules.py", "from archive.database import Archive", "Layers"),
    ("archive/dedup.py", "from crawler.profiles import load_profile", "Layers"),
    ("records/texts.py", "from pipelines.rules import ExtractionRules", "Layers"),
    ("pipelines/decoding.py", "import sqlite3", "pure"),
    ("archive/warc_store.py", "import scrapy", "Scrapy"),
    ("crawler/urls.py", "from replica.corpus import generate_texts", "Replica"),
])
def test_an_import_pointing_up_is_refused(tmp_path, module, upward, contract):
    root = _copy_of_the_code(tmp_path)
    path = root / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{upward}  # deliberately upward\n", encoding="utf-8")
    result = _lint_imports(root)
    assert result.returncode != 0
    broken = [line for line in result.stdout.splitlines() if " BROKEN" in line]
    assert any(contract in line for line in broken), result.stdout
    assert module.replace("/", ".").removesuffix(".py") in result.stdout
