"""Crawl a replica site B channel in a child process (a Twisted reactor runs once per process).

``crawl_channel`` writes a copy of the diyifanwen profile that starts at one
channel (the fault and trap channels are not linked from the main one) and
crawls it with the given Scrapy settings; ``python -m tests.replica_crawl``
is the child's entry point.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FAST = {"DOWNLOAD_DELAY": 0, "FANWEN_PROGRESS": "off", "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "LOG_LEVEL": "INFO"}


def channel_profile(directory: Path, name: str, *channels: str, **navigation: object) -> Path:
    """The diyifanwen profile renamed ``name``, starting at ``/fanwen/<channel>/`` of each channel;
    navigation fields overridden."""
    text = (REPO / "crawler" / "profiles" / "diyifanwen.toml").read_text(encoding="utf-8")
    text = text.replace('name = "diyifanwen"', f'name = "{name}"', 1)
    starts = json.dumps([f"https://www.diyifanwen.com/fanwen/{channel}/" for channel in channels])
    text = text.replace('start_urls = ["https://www.diyifanwen.com/fanwen/"]', f"start_urls = {starts}", 1)
    for key, value in navigation.items():
        text = text.replace("[navigation]\n", f"[navigation]\n{key} = {json.dumps(value)}\n", 1)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def renamed_profile(directory: Path, site: str, name: str) -> Path:
    """The shipped profile of ``site`` saved in ``directory`` as profile ``name``, otherwise unchanged
    (to crawl one site twice in one crawl, e.g. two replicas of it)."""
    text = (REPO / "crawler" / "profiles" / f"{site}.toml").read_text(encoding="utf-8")
    assert f'\nname = "{site}"\n' in text, f"profile {site} names itself otherwise"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.toml"
    path.write_text(text.replace(f'\nname = "{site}"\n', f'\nname = "{name}"\n', 1), encoding="utf-8")
    return path


def crawl(site: str, base_url: str, archive: Path, profile_dir: Path | None = None, timeout: float = 240,
          **settings: object) -> dict:
    """Crawl ``site`` at ``base_url`` into ``archive``; returns the crawl's Scrapy stats (JSON-able part).

    A setting given as None is not set (one of ``FAST`` is left to the profile)."""
    overrides = {key: value for key, value in {**FAST, **settings}.items() if value is not None}
    if profile_dir is not None:
        overrides["FANWEN_PROFILE_DIRS"] = [str(profile_dir)]
    args = json.dumps({"site": site, "base_url": base_url, "archive": str(archive), "overrides": overrides})
    result = subprocess.run(
        [sys.executable, "-m", "tests.replica_crawl", args], cwd=REPO, capture_output=True, text=True,
        timeout=timeout, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _main() -> None:
    from fanwen.crawl import run_crawls

    args = json.loads(sys.argv[1])
    stats = run_crawls([args["site"]], archive=args["archive"], base_urls={args["site"]: args["base_url"]},
                       overrides=args["overrides"])[args["site"]]
    print(json.dumps({key: value for key, value in stats.items() if isinstance(value, (int, float, str))}))


if __name__ == "__main__":
    _main()
