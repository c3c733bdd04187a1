"""Start the replica server as a child process (for the demo, tests and benchmarks)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager


class ReplicaStartError(RuntimeError):
    pass


@contextmanager
def running_replicas(
    sites: Sequence[str] = (), *, any_port: bool = True, latency: float = 0.0, weight: str = "light"
) -> Iterator[dict[str, str]]:
    """Serve the replica sites in a subprocess; yield ``{site: base_url}``; stop it on exit.

    ``weight`` ``real`` serves pages with the chrome of real pages (40-200 KB; page_weight.py).
    """
    command = [sys.executable, "-m", "replica", *sites, "--latency", str(latency), "--weight", weight]
    if any_port:
        command.append("--any-port")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stderr is not None  # both PIPE
    try:
        announcement = process.stdout.readline()
        if not announcement:
            process.wait(timeout=10)
            raise ReplicaStartError(f"replica server exited ({process.returncode}): {process.stderr.read()[-2000:]}")
        yield json.loads(announcement)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def change_replica(base_url: str, action: str, count: int) -> list[str]:
    """Ask a running replica to ``publish`` new articles or ``edit`` existing ones; returns their paths."""
    import urllib.request

    request = urllib.request.Request(f"{base_url.rstrip('/')}/__replica__/{action}?count={count}", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def replica_request_counts(base_url: str) -> dict[str, int]:
    """How often the running replica answered each request target."""
    import urllib.request

    with urllib.request.urlopen(f"{base_url.rstrip('/')}/__replica__/requests", timeout=30) as response:
        return json.load(response)


def replica_cpu_seconds(base_url: str) -> float:
    """CPU seconds the running replica server has used so far."""
    import urllib.request

    with urllib.request.urlopen(f"{base_url.rstrip('/')}/__replica__/cpu", timeout=30) as response:
        return json.load(response)["cpu_seconds"]
