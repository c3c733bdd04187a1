"""Citations of docs/ lead somewhere: every cited file and heading exists, and every link to a heading.

Comments, docstrings, TOML comments and Markdown cite a section as
``docs/site-families.md, "Truncation notices"`` (several headings may follow:
``docs/site-families.md, "出国留学网" and "学习啦"``).  A heading renamed without its
citations, or a citation of notes that never were in the repository, fails here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SKIPPED_DIRS = {".git", ".venv", "venv", "node_modules", "build", "dist", "__pycache__",
                ".mypy_cache", ".pytest_cache", ".ruff_cache"}
SUFFIXES = {".py", ".toml", ".md", ".yml", ".yaml", ".cfg", ".html"}

DOC_PATH = re.compile(r"\bdocs/([\w.-]+\.md)\b")
_QUOTED = r'"[^"\n]+"'
# Between two cited headings: a comma, "and" or both, possibly across a comment's line break.
_NEXT = r"(?:,\s*(?:#\s*)?(?:and\s+)?|\s+(?:#\s*)?and\s+)"
CITATION = re.compile(rf"\bdocs/([\w.-]+\.md), ({_QUOTED}(?:{_NEXT}{_QUOTED})*)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
# A citation broken over two lines, which CITATION would not see.
SPLIT_CITATION = re.compile(r'\bdocs/[\w.-]+\.md,(?: "[^"\n]*\n|[ \t]*\n\s*(?:#\s*)?")')
# A cross-reference inside one doc: (see "Heading").
SEE = re.compile(r'\bsee ("[^"\n]+")')
# A Markdown link to a heading of the same file: [text](#anchor).
ANCHOR_LINK = re.compile(r"\]\(#([^)\s]+)\)")
# Research notes kept outside the repository; built from parts so this file does not cite them.
RESEARCH_NOTES = re.compile(r"\b" + "sites" + r"\.md\b|" + "fts" + r"-perf\b")
# Edited separately; their citations of the notes are still to be rewritten.
NOT_YET_REWRITTEN: set[str] = set()


def _source_files() -> list[Path]:
    files = []
    for folder, dirs, names in os.walk(REPO):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info"))
        files += [Path(folder, name) for name in sorted(names) if Path(name).suffix in SUFFIXES]
    return files


def _headings(doc: Path) -> set[str]:
    found, fenced = set(), False
    for line in doc.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (match := HEADING.match(line)):
            found |= {match.group(1), match.group(1).replace("`", "")}
    return found


def _citations() -> list[tuple[str, str, str]]:
    """(file citing, doc cited, heading cited) for every citation with a heading."""
    cited = []
    for path in _source_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        where = str(path.relative_to(REPO))
        for match in CITATION.finditer(text):
            cited += [(where, match.group(1), heading[1:-1]) for heading in re.findall(_QUOTED, match.group(2))]
    return cited


def test_citations_are_found():
    cited = {doc for _, doc, _ in _citations()}
    assert {"site-families.md", "search.md"} <= cited


def test_every_cited_doc_exists():
    missing = sorted(
        (str(path.relative_to(REPO)), name)
        for path in _source_files()
        for name in DOC_PATH.findall(path.read_text(encoding="utf-8", errors="replace"))
        if not (REPO / "docs" / name).is_file()
    )
    assert missing == []


def test_citations_stay_on_one_line():
    split = sorted(
        (str(path.relative_to(REPO)), match.group(0))
        for path in _source_files()
        for match in SPLIT_CITATION.finditer(path.read_text(encoding="utf-8", errors="replace"))
    )
    assert split == []


def test_every_cited_heading_exists():
    headings = {doc.name: _headings(doc) for doc in (REPO / "docs").glob("*.md")}
    broken = sorted((where, doc, heading) for where, doc, heading in _citations()
                    if heading not in headings.get(doc, set()))
    assert broken == []


@pytest.mark.parametrize("name", ["site-families.md", "search.md"])
def test_cross_references_inside_a_doc_exist(name):
    doc = REPO / "docs" / name
    headings = _headings(doc)
    broken = [quoted for quoted in SEE.findall(doc.read_text(encoding="utf-8")) if quoted[1:-1] not in headings]
    assert broken == []


def _anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_links_to_headings_inside_a_file_lead_to_one():
    docs = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    broken = sorted(
        (doc.name, anchor)
        for doc in docs
        for anchor in ANCHOR_LINK.findall(doc.read_text(encoding="utf-8"))
        if anchor not in {_anchor(heading) for heading in _headings(doc)}
    )
    assert broken == []


def test_anchors_are_made_as_github_makes_them():
    assert _anchor("Write path, per stage and per function (issues 2 and 20)") == \
        "write-path-per-stage-and-per-function-issues-2-and-20"
    assert _anchor("`fanwen export` 的 CSV") == "fanwen-export-的-csv"


def _research_note_citations(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
            if RESEARCH_NOTES.search(line)]


def test_nothing_cites_research_notes_outside_the_repository():
    offenders = {
        str(path.relative_to(REPO)): lines
        for path in _source_files()
        if str(path.relative_to(REPO)) not in NOT_YET_REWRITTEN and (lines := _research_note_citations(path))
    }
    assert offenders == {}
