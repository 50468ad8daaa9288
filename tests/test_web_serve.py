"""`regwatch serve`: a real uvicorn on 127.0.0.1 answering the desk, the one local user said at start,
and no other address without accounts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from cli_helpers import Cli


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_runs_the_desk_on_loopback_as_the_one_local_user(desk_home: Path, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    command = [
        sys.executable,
        "-c",
        "from regwatch.app.cli import main; main()",
        "--home",
        str(desk_home),
        "--config",
        str(desk_home / "desk.yaml"),
        "serve",
        "--port",
        str(port),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGWATCH_")}
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 60
        body = b""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/?q=grok", timeout=5) as response:
                    body = response.read()
                    headers = response.headers
                break
            except OSError:
                assert process.poll() is None, log.read_text()
                time.sleep(0.2)
        assert b"4 results" in body, log.read_text()
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        started = log.read_text()
        assert f"regwatch desk on http://127.0.0.1:{port}/" in started and "one local user" in started
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode == 0, log.read_text()
    assert "Traceback" not in log.read_text()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::", "example.org"])
def test_serve_refuses_any_other_address_without_accounts(desk_home: Path, host: str) -> None:
    result = Cli(desk_home, desk_home / "desk.yaml")("serve", "--host", host, expect=1)
    assert "serves on a loopback address only" in result.output and "Traceback" not in result.output


def test_serve_has_help_with_an_example(cli: Cli) -> None:
    result = cli("serve", "--help")
    assert "Example:" in result.output and "regwatch" in result.output and "--port" in result.output
