"""Crawl progress: a live table on a terminal, compact log lines when not interactive."""

from __future__ import annotations

import os
import pty
import subprocess

from .conftest import REPO, fanwen_command


def test_live_display_on_a_terminal(replica_urls, tmp_path):
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        fanwen_command("crawl", "huabo", "--archive", str(tmp_path / "archive.db"),
                       "--base-url", replica_urls["huabo"], "--delay", "0", "-s", "CLOSESPIDER_ITEMCOUNT=40"),
        stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "100", "TERM": "xterm"},
    )
    os.close(terminal)
    screen = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        screen += chunk
    assert process.wait(timeout=120) == 0
    text = screen.decode("utf-8", "replace")
    assert "crawling huabo" in text and "pages requested" in text and "articles archived" in text
    assert "[scrapy.core.engine] INFO" not in text  # the live table replaces the INFO log


def test_log_lines_when_not_interactive(replica_urls, tmp_path):
    result = subprocess.run(
        fanwen_command("crawl", "huabo", "--archive", str(tmp_path / "archive.db"),
                       "--base-url", replica_urls["huabo"], "--delay", "0", "-s", "CLOSESPIDER_ITEMCOUNT=40",
                       "-s", "FANWEN_PROGRESS_INTERVAL=0.2"),
        capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if "[crawler.extensions]" in line]
    assert lines and "requested" in lines[-1] and "pages/s" in lines[-1] and "elapsed" in lines[-1]
