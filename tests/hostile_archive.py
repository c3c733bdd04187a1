"""An archive whose scraped texts try to run script in a reader's browser, and a served ``fanwen serve`` of it."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from archive.database import Archive, TextToArchive
from records.texts import ExtractedText

from .conftest import REPO, fanwen_command, free_port

# Each payload would set window.__xss (or open a dialog) if the page ran it.
SCRIPT_TITLE = "<script>window.__xss='title'</script>关于创建全国文明城市的讲话"
PAYLOAD_LINES = (
    "同志们：今天我们召开全国文明城市创建动员大会。",
    "<script>window.__xss='text-script';alert('text-script')</script>",
    "<img src=x onerror=\"window.__xss='img-onerror';alert(1)\">文明城市创建",
    "<a href=\"javascript:window.__xss='js-link'\">点此查看文明城市</a>",
    "<svg onload=\"window.__xss='svg'\"></svg>=HYPERLINK(\"http://127.0.0.1/\")",
    "\"><script>window.__xss='attr-break'</script>",
)
JAVASCRIPT_URL = "javascript:window.__xss='source-url'"


def build_hostile_archive(path: Path) -> None:
    texts = [
        ExtractedText(url="http://127.0.0.1:9/a/1.html", title=SCRIPT_TITLE, published="2025-03-01",
                      text="\n".join(PAYLOAD_LINES), truncated=False, genre="讲话稿"),
        ExtractedText(url=JAVASCRIPT_URL, title="<img src=x onerror=\"window.__xss='title-img'\">文明城市", published="2025-03-02",
                      text="文明城市创建工作要求\n</td></tr></table><script>window.__xss='table-break'</script>", truncated=False,
                      genre="讲话稿"),
    ]
    with Archive(path) as archive:
        archive.save_texts([TextToArchive("huabo", "<b onmouseover=alert(1)>栏目</b>", "2026-01-01T00:00:00+00:00", text)
                            for text in texts])


@contextmanager
def served_archive(archive: Path, *extra: str, env: dict | None = None):
    """``fanwen serve`` on a free loopback port; yields its base URL once it answers."""
    port = free_port()
    process = subprocess.Popen(
        fanwen_command("serve", "--archive", str(archive), "--port", str(port), *extra),
        cwd=archive.parent, env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                urllib.request.urlopen(f"{base}/-/versions.json", timeout=2).read()
                break
            except urllib.error.HTTPError:  # answering (e.g. 401 behind --auth) is up
                break
            except OSError:
                assert process.poll() is None, f"fanwen serve exited: {process.stderr.read().decode()[-2000:]}"
                assert time.monotonic() < deadline, "fanwen serve did not start"
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
