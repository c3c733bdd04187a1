"""The cleaner's scorecard, in one run: real pages, over-deletion traps, the gold corpus, speed.

    python benchmarks/cleaning_scorecard.py --realpages DIR [--rounds 3] [--parts realpages,traps,gold,speed]

Each part prints a markdown table:

* **realpages**: char-bag F1 (mean, median) of fanwen's generic mode, readability-lxml and
  trafilatura (defaults, favor_precision) on the real pages of ``DIR/cwced``, scored by the
  dataset's own ``DIR/extract_eval.py`` (loaded from there at run time, so the figures are its own);
* **traps**: the over-deletion corpus of ``replica.trap_pages``: sentences that carry
  boilerplate's words inside speeches (kept whole?), the speech paragraphs (kept?), the pages'
  boilerplate (leaked?) and the truncated flag (right?);
* **gold**: text F1 and leaked boilerplate on ``tests/fixtures/gold``, through
  ``evaluation/gold_scoring.py``;
* **speed**: ``fanwen extract --generic`` over every ``DIR/cwced/html`` page as one process against
  one process of trafilatura over the same bytes (wall time, start-up included, alternating rounds),
  and fanwen's time per page in-process (the slowest page must stay under 1 s).

Without ``--realpages`` the parts that need it say so and are skipped. readability-lxml and
trafilatura come with the ``bench`` extra (``pip install -e ".[bench]"``).
"""

# No `from __future__ import annotations`: extract_eval.py loads this file for its --py adapter without
# registering it in sys.modules, where dataclasses would look string annotations up.
import argparse
import compileall
import contextlib
import importlib
import importlib.util
import io
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

PARTS = ("realpages", "traps", "gold", "speed")
SLOW_PAGE_SECONDS = 1.0
# The scorer gives an adapter the decoded page only; the URL matters to generic mode only for resolving links.
REALPAGE_URL = "http://realpages.invalid/page.html"


# -- fanwen as the scorer's --py adapter ---------------------------------------------------------

def fanwen_generic_text(html: str) -> str:
    """``f(html: str) -> str`` for ``extract_eval.py run --py``: fanwen's generic mode, texts joined."""
    from pipelines.extraction import extract_texts
    from records.texts import FetchedPage

    page = FetchedPage(url=REALPAGE_URL, body=html.encode("utf-8"), content_type="text/html; charset=utf-8")
    return "\n\n".join(text.text for text in extract_texts([page]).texts)


# -- a. real pages -------------------------------------------------------------------------------

FANWEN_SCORER_NAME = "fanwen-generic"
# (label, the scorer's own adapter name, or None for fanwen through --py)
REALPAGE_EXTRACTORS = (
    ("fanwen (generic)", None),
    ("readability-lxml", "readability"),
    ("trafilatura", "trafilatura"),
    ("trafilatura (favor_precision)", "trafilatura-precision"),
)


def load_scorer(realpages: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("extract_eval", realpages / "extract_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def command_line(argv: list[str]) -> Iterator[None]:
    saved = sys.argv
    sys.argv = argv
    try:
        yield
    finally:
        sys.argv = saved


def run_scorer(scorer: ModuleType, data: Path, extractor_args: list[str]) -> dict:
    """One ``extract_eval.py run``, in this process, through the scorer's own command line; its result file."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "result.json"
        argv = ["extract_eval.py", "run", "--data", str(data), *extractor_args, "--out", str(out)]
        with command_line(argv), contextlib.redirect_stdout(io.StringIO()):
            scorer.main()
        return json.loads(out.read_text(encoding="utf-8"))


def realpages_results(realpages: Path) -> list[tuple[str, dict]]:
    scorer = load_scorer(realpages)
    data = realpages / "cwced"
    results = []
    for label, adapter in REALPAGE_EXTRACTORS:
        if adapter is None:
            args = ["--py", f"{Path(__file__).resolve()}:{fanwen_generic_text.__name__}", "--name", FANWEN_SCORER_NAME]
        else:
            args = ["--extractor", adapter]
        results.append((label, run_scorer(scorer, data, args)))
    return results


def realpages_table(results: list[tuple[str, dict]]) -> str:
    rows = ["| extractor | version | pages | errors | empty | char-bag F1 mean | F1 median | P | R | pages/s (scorer) |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    ours = fanwen_version()
    for label, result in results:
        summary = result["summary"]
        bag = summary.get("char_bag", {})
        version = ours if result["extractor"] == FANWEN_SCORER_NAME else result["version"]
        rows.append(f"| {label} | {version} | {summary['pages']} | {summary['errors']} | {summary['empty_output']} "
                    f"| {bag.get('f1', 0):.3f} | {bag.get('f1_median', 0):.3f} | {bag.get('p', 0):.3f} "
                    f"| {bag.get('r', 0):.3f} | {summary.get('pages_per_s') or 0:.1f} |")
    return "\n".join(rows)


# -- b. over-deletion traps ----------------------------------------------------------------------

@dataclass
class TrapTally:
    """Counts over the trap corpus for one extractor."""

    traps: int = 0
    traps_kept: int = 0
    paragraphs: int = 0
    paragraphs_kept: int = 0
    pages: int = 0
    pages_leaking: int = 0
    truncated_judged: int = 0  # pages whose output has a truncated flag (fanwen's; the others have none)
    truncated_right: int = 0


def share(kept: int, total: int) -> str:
    return f"{kept / total:.3f} ({kept}/{total})" if total else "–"


def squash(text: str) -> str:
    """What a whole-sentence match compares: NFKC, no whitespace (extractors re-wrap lines differently)."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def trap_occurrences(page, output: str) -> tuple[int, int]:
    """(occurrences in the speech, occurrences kept whole) of the page's trap sentences: a sentence a
    speech says twice must survive twice."""
    speech = squash("\n".join(page.speech))
    total = kept = 0
    for sentence in dict.fromkeys(squash(s) for s in page.trap_sentences if squash(s)):
        expected = max(1, speech.count(sentence))
        total += expected
        kept += min(expected, output.count(sentence))
    return total, kept


def tally_traps(pages: Sequence, extract: Callable[[object], tuple[str, bool | None]]) -> TrapTally:
    tally = TrapTally()
    for page in pages:
        text, truncated = extract(page)
        output = squash(text)
        traps, kept = trap_occurrences(page, output)
        tally.traps += traps
        tally.traps_kept += kept
        tally.paragraphs += len(page.speech)
        tally.paragraphs_kept += sum(squash(paragraph) in output for paragraph in page.speech)
        tally.pages += 1
        tally.pages_leaking += any(squash(phrase) in output for phrase in page.boilerplate if squash(phrase))
        if truncated is not None:
            tally.truncated_judged += 1
            tally.truncated_right += truncated == page.truncated
    return tally


def fanwen_trap_extractor(generic: bool) -> Callable[[object], tuple[str, bool]]:
    from fanwen.extract_command import extract_page, rules_for_url

    def run(page) -> tuple[str, bool]:
        rules, _ = rules_for_url(page.url, generic=generic)
        texts = extract_page(page.body, page.url, rules, page.content_type).texts
        return "\n\n".join(text.text for text in texts), any(text.truncated for text in texts)
    return run


def trafilatura_trap_extractor(page) -> tuple[str, None]:
    import trafilatura

    return trafilatura.extract(page.body, url=page.url) or "", None


def readability_trap_extractor(page) -> tuple[str, None]:
    import lxml.html
    from readability import Document

    summary = Document(page.body).summary(html_partial=True)
    return "\n".join(lxml.html.fromstring(summary).itertext()) if summary.strip() else "", None


def trap_extractors() -> list[tuple[str, Callable]]:
    chosen = [("fanwen (by URL)", fanwen_trap_extractor(generic=False)),
              ("fanwen (generic)", fanwen_trap_extractor(generic=True))]
    if installed("trafilatura"):
        chosen.append(("trafilatura", trafilatura_trap_extractor))
    if installed("readability"):
        chosen.append(("readability-lxml", readability_trap_extractor))
    return chosen


def traps_table(pages: Sequence) -> str:
    rows = ["| extractor | trap sentences kept whole | speech paragraphs kept | pages leaking boilerplate "
            "| truncated flag right |", "|---|---|---|---|---|"]
    for label, extract in trap_extractors():
        tally = tally_traps(pages, extract)
        truncated = share(tally.truncated_right, tally.truncated_judged)
        rows.append(f"| {label} | {share(tally.traps_kept, tally.traps)} "
                    f"| {share(tally.paragraphs_kept, tally.paragraphs)} "
                    f"| {tally.pages_leaking}/{tally.pages} | {truncated} |")
    return "\n".join(rows)


def trap_corpus_summary(pages: Sequence) -> str:
    layouts = sorted({page.layout for page in pages})
    truncated = sum(page.truncated for page in pages)
    return (f"{len(pages)} pages ({len(layouts)} layouts: {', '.join(layouts)}), "
            f"{sum(trap_occurrences(p, '')[0] for p in pages)} trap sentences, "
            f"{sum(len(p.speech) for p in pages)} speech paragraphs, {truncated} truncated pages")


# -- c. gold corpus ------------------------------------------------------------------------------

def gold_table(gold_dir: Path | None) -> str:
    from evaluation import gold_scoring as quality

    gold = quality.load_gold(gold_dir or quality.GOLD)
    rows = [f"{len(gold)} pages, {sum(len(page.documents) for page in gold)} texts", "",
            "| extractor | text F1 mean | F1 min | text P | text R | leaked boilerplate | truncated acc. |",
            "|---|---|---|---|---|---|---|"]
    for name, extractor in quality.EXTRACTORS.items():
        if name == "trafilatura" and not installed("trafilatura"):
            continue
        summary = quality.evaluate(name, extractor, gold, rounds=1)
        rows.append(f"| {name} | {summary.mean('f1'):.3f} | {summary.min_f1:.3f} | {summary.mean('precision'):.3f} "
                    f"| {summary.mean('recall'):.3f} | {summary.leaks} | {summary.rate('truncated_ok'):.2f} |")
    return "\n".join(rows)


# -- d. speed ------------------------------------------------------------------------------------

# trafilatura's side of the race: one process, each page's bytes as read from disk (as fanwen gets them).
TRAFILATURA_PROGRAM = """
import sys
import trafilatura
for path in sys.argv[1:]:
    with open(path, "rb") as handle:
        text = trafilatura.extract(handle.read())
    if text:
        sys.stdout.write(text + "\\n")
"""


def fanwen_command(files: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "fanwen", "extract", "--generic", *files]


def trafilatura_command(files: Sequence[str]) -> list[str]:
    return [sys.executable, "-c", TRAFILATURA_PROGRAM, *files]


def timed_run(command: list[str]) -> tuple[float, int]:
    """Wall seconds of the whole process (start-up included) and its exit status."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    if completed.returncode not in (0, 1):  # 1: fanwen extract reports a page it failed on, and goes on
        raise RuntimeError(f"{shlex.join(command[:5])} … exited {completed.returncode}: "
                           f"{completed.stderr.decode('utf-8', 'replace')[-500:]}")
    return elapsed, completed.returncode


def race(commands: dict[str, list[str]], rounds: int) -> dict[str, list[float]]:
    """Wall times per command, alternating which goes first so neither always meets a warmer cache."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    names = list(commands)
    for number in range(rounds):
        for name in names if number % 2 == 0 else reversed(names):
            times[name].append(timed_run(commands[name])[0])
    return times


FANWEN_PROCESS, TRAFILATURA_PROCESS = "fanwen extract --generic", "trafilatura (python -c)"


def race_table(pages: int, times: dict[str, list[float]], trivial: dict[str, list[float]]) -> str:
    rows = ["| process | pages | wall s best | wall s median | pages/s (best) | pages/s (median) "
            "| start-up s (1 empty page, best) |", "|---|---|---|---|---|---|---|"]
    for name, seconds in times.items():
        best, median = min(seconds), statistics.median(seconds)
        rows.append(f"| {name} | {pages} | {best:.2f} | {median:.2f} | {pages / best:.1f} | {pages / median:.1f} "
                    f"| {min(trivial[name]):.2f} |")
    ratio = statistics.median(times[TRAFILATURA_PROCESS]) / statistics.median(times[FANWEN_PROCESS])
    rows.append("")
    rows.append(f"fanwen's speed / trafilatura's (median wall times, start-up included): {ratio:.2f}")
    # Each round runs both processes back to back: its own ratio shows how far the median can move.
    each = [traf / fanwen for traf, fanwen in zip(times[TRAFILATURA_PROCESS], times[FANWEN_PROCESS])]
    rows.append(f"each round's own ratio, in order: {', '.join(f'{value:.2f}' for value in each)}")
    return "\n".join(rows)


@dataclass(frozen=True)
class PageTime:
    name: str
    wall: float
    cpu: float


def per_page_times(files: Sequence[Path], rounds: int) -> list[PageTime]:
    """fanwen's generic mode on each page in this process: the median of ``rounds`` passes after a warm-up."""
    from fanwen.extract_command import extract_page
    from pipelines.rules import GENERIC_RULES

    bodies = [(path, path.read_bytes()) for path in files]
    extract_page(bodies[0][1], REALPAGE_URL, GENERIC_RULES)
    samples: dict[str, list[tuple[float, float]]] = {path.name: [] for path, _ in bodies}
    for _ in range(max(1, rounds)):
        for path, body in bodies:
            wall, cpu = time.perf_counter(), time.process_time()
            extract_page(body, path.resolve().as_uri(), GENERIC_RULES)
            samples[path.name].append((time.perf_counter() - wall, time.process_time() - cpu))
    return [PageTime(name, statistics.median(w for w, _ in got), statistics.median(c for _, c in got))
            for name, got in samples.items()]


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def page_time_table(times: list[PageTime]) -> str:
    slowest = max(times, key=lambda t: t.wall)
    over = [t.name for t in times if t.wall > SLOW_PAGE_SECONDS]
    walls = [t.wall for t in times]
    return "\n".join([
        "| pages | wall ms median | wall ms p95 | wall ms max | CPU ms max | slowest page | pages over 1 s |",
        "|---|---|---|---|---|---|---|",
        f"| {len(times)} | {1000 * statistics.median(walls):.0f} | {1000 * percentile(walls, 0.95):.0f} "
        f"| {1000 * slowest.wall:.0f} | {1000 * max(t.cpu for t in times):.0f} | {slowest.name} "
        f"| {len(over)}{' (' + ', '.join(over) + ')' if over else ''} |",
    ])


# What `fanwen extract` imports: byte-compiled before the race (see byte_compile_project).
EXTRACT_PACKAGES = ("records", "pipelines", "fanwen")


def byte_compile_project() -> None:
    """Compile the modules `fanwen extract` imports to bytecode, as pip does when it installs a package.

    trafilatura's modules were compiled when pip installed them; this project is installed
    in editable mode, whose sources are compiled on first import only where Python may write
    bytecode (not where PYTHONDONTWRITEBYTECODE is set, as in some CI images): each timed
    run would then compile them again, a cost no installed copy of the project pays.
    """
    for package in EXTRACT_PACKAGES:
        compileall.compile_dir(str(REPO / package), quiet=2)


def speed_report(realpages: Path, rounds: int) -> str:
    byte_compile_project()
    files = sorted((realpages / "cwced" / "html").glob("*.html"))
    paths = [str(path) for path in files]
    with tempfile.TemporaryDirectory() as scratch:
        empty = Path(scratch) / "empty.html"
        empty.write_bytes(b"<html><body></body></html>")
        trivial = race({FANWEN_PROCESS: fanwen_command([str(empty)]),
                        TRAFILATURA_PROCESS: trafilatura_command([str(empty)])}, rounds)
    times = race({FANWEN_PROCESS: fanwen_command(paths), TRAFILATURA_PROCESS: trafilatura_command(paths)}, rounds)
    return "\n\n".join([
        f"Whole processes over the {len(files)} pages of cwced/html, {rounds} alternating rounds "
        f"(both from bytecode: {', '.join(EXTRACT_PACKAGES)} compiled first, as pip compiles an installed package):",
        race_table(len(files), times, trivial),
        f"fanwen in-process, generic mode, per page (median of {rounds} passes):",
        page_time_table(per_page_times(files, rounds)),
    ])


# -- the run -------------------------------------------------------------------------------------

def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def fanwen_version() -> str:
    """The commit the cleaner was measured at, marked when the working tree differs from it."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}{'+changes' if dirty else ''}"


def package_versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for name in ("trafilatura", "readability-lxml", "lxml"):
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} missing")
    return ", ".join(found)


def section(title: str, build: Callable[[], str]) -> None:
    print(f"\n## {title}\n", flush=True)
    started = time.perf_counter()
    print(build())
    print(f"\n({time.perf_counter() - started:.0f} s)", flush=True)


def load_trap_pages() -> tuple[Sequence | None, str]:
    try:
        module = importlib.import_module("replica.trap_pages")
    except ImportError as error:
        return None, f"skipped: replica.trap_pages is not importable ({error})"
    return list(module.trap_pages()), ""


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realpages", type=Path, help="the real-pages folder (cwced/, extract_eval.py, README.md)")
    parser.add_argument("--gold", type=Path, help="the gold corpus (default: tests/fixtures/gold)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of the speed part")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    args = parser.parse_args(argv)
    parts = [part.strip() for part in args.parts.split(",") if part.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    if args.realpages and not (args.realpages / "extract_eval.py").is_file():
        parser.error(f"{args.realpages} holds no extract_eval.py: not a real-pages folder")

    print("# Cleaning scorecard\n")
    print(f"`{shlex.join(['python', *sys.argv])}`\n")
    print(f"fanwen {fanwen_version()}, Python {sys.version.split()[0]}, {package_versions()}, {os.cpu_count()} CPUs")
    no_realpages = "skipped: no --realpages DIR given"
    if "realpages" in parts:
        section("Real pages (cwced, scored by its extract_eval.py)", lambda: realpages_table(
            realpages_results(args.realpages)) if args.realpages else no_realpages)
    if "traps" in parts:
        pages, why_not = load_trap_pages()
        section("Over-deletion traps (replica.trap_pages)",
                lambda: f"{trap_corpus_summary(pages)}\n\n{traps_table(pages)}" if pages else why_not or "no pages")
    if "gold" in parts:
        section("Gold corpus (tests/fixtures/gold, via evaluation/gold_scoring.py)", lambda: gold_table(args.gold))
    if "speed" in parts:
        section("Speed on real-size pages (cwced/html)",
                lambda: speed_report(args.realpages, args.rounds) if args.realpages else no_realpages)


if __name__ == "__main__":
    main()
