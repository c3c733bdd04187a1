"""docs/reliability.md: every test a row names exists (as a collected pytest node); those that can skip say where."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "reliability.md"
NODE = re.compile(r"`(tests/test_[a-z_]+\.py::[A-Za-z0-9_]+(?:\[[^\]`]+\])?)`")
FILE = re.compile(r"`(tests/test_[a-z_]+\.py)`")
SKIP_SECTION = "## Where tests skip"
# What makes a test skip instead of run: pytest.skip(...), pytest.importorskip(...), a skip / skipif mark.
SKIPS = re.compile(r"\bpytest\.(?:skip|importorskip)\(|\bmark\.skip(?:if)?\b")
LOCAL_IMPORT = re.compile(r"^from \.([a-z_]+) import", re.MULTILINE)


def sections() -> tuple[str, str]:
    """(the rows' part of the doc, the "Where tests skip" section)."""
    doc = DOC.read_text(encoding="utf-8")
    start = doc.index(SKIP_SECTION)
    end = doc.index("\n## ", start + len(SKIP_SECTION))
    return doc[:start] + doc[end:], doc[start:end]


def table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| ") and "tests/" in line]


def can_skip(test_file: Path, seen: frozenset[Path] = frozenset()) -> bool:
    """Whether the file, or a test module it imports from (tests/test_browser_xss.py uses test_browser's), skips."""
    source = test_file.read_text(encoding="utf-8")
    if SKIPS.search(source):
        return True
    imported = {test_file.with_name(f"{name}.py") for name in LOCAL_IMPORT.findall(source)}
    return any(can_skip(module, seen | {test_file}) for module in imported - seen if module.exists())


def test_every_row_names_a_collected_test():
    rows = table_rows(sections()[0])
    named = {node for line in rows for node in NODE.findall(line)}
    assert rows and all(NODE.search(line) for line in rows)
    files = sorted({node.split("::")[0] for node in named})
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", *files], cwd=REPO, capture_output=True, text=True,
        timeout=120,
    ).stdout.splitlines()
    # A row may name a parametrised test as a whole (all its cases) or one case.
    known = set(collected) | {node.split("[")[0] for node in collected}
    assert sorted(named - known) == []


def test_every_test_that_can_skip_is_listed_where_it_skips():
    rows_part, skip_part = sections()
    listed = {name for line in table_rows(skip_part) for name in FILE.findall(line)}
    assert listed and all((REPO / name).exists() for name in listed)
    named_files = {node.split("::")[0] for line in table_rows(rows_part) for node in NODE.findall(line)}
    skipping = {name for name in named_files if can_skip(REPO / name)}
    assert sorted(skipping - listed) == []
