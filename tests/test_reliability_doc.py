"""docs/reliability.md: every test a row names exists (as a collected pytest node)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NODE = re.compile(r"`(tests/test_[a-z_]+\.py::[A-Za-z0-9_]+(?:\[[^\]`]+\])?)`")


def test_every_row_names_a_collected_test():
    doc = (REPO / "docs" / "reliability.md").read_text(encoding="utf-8")
    rows = [line for line in doc.splitlines() if line.startswith("| ") and "tests/" in line]
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
