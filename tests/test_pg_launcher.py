"""postgresql/run.py, the launcher of a local server: a busy port gives the next one, data survives
a restart, and ``with`` stops only what it started."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_fixtures import launcher

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def run(server_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(ROOT / "postgresql" / "run.py"), "--dir", str(server_dir)]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def server_dir() -> Iterator[Path]:
    """A directory the server's user can reach (pytest's tmp_path is private to root)."""
    try:
        launcher.bin_dir()
    except launcher.ServerError as exc:
        pytest.skip(str(exc))
    parent = Path(tempfile.mkdtemp(prefix="regwatch-pg-launcher-"))
    parent.chmod(0o755)
    yield parent / "pg"
    shutil.rmtree(parent, ignore_errors=True)


def test_a_directory_the_server_user_cannot_reach_is_refused_with_the_fix(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root runs the server as another user")
    tmp_path.chmod(0o700)
    refused = run(tmp_path / "pg", "start")
    assert refused.returncode == 1
    assert "cannot reach" in refused.stderr and "chmod o+x" in refused.stderr


def test_a_busy_port_gives_the_next_one_and_the_data_survives_a_restart(server_dir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        wanted = busy.getsockname()[1]
        started = run(server_dir, "--port", str(wanted), "start")
        try:
            assert started.returncode == 0, started.stderr
            url = started.stdout.strip()
            assert url.startswith("postgresql://regwatch@127.0.0.1:") and url.endswith("/regwatch")
            assert int(url.rsplit(":", 1)[1].split("/")[0]) != wanted
            assert run(server_dir, "url").stdout.strip() == url
            server = launcher.Server(server_dir)
            server.admin("CREATE TABLE kept (x int)")  # in the postgres database
            assert run(server_dir, "stop").stdout.strip() == "stopped"
            assert run(server_dir, "url").returncode == 1
            assert run(server_dir, "start").returncode == 0
            assert server.admin("SELECT count(*) FROM kept") == "0"
        finally:
            run(server_dir, "stop")


def test_with_sets_the_store_url_and_stops_only_the_server_it_started(server_dir: Path) -> None:
    shown = run(
        server_dir, "with", "--", sys.executable, "-c", "import os; print(os.environ['REGWATCH_STORE_URL'])"
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip().startswith("postgresql://regwatch@127.0.0.1:")
    assert run(server_dir, "url").returncode == 1  # started by `with`, so stopped by it
    try:
        url = run(server_dir, "start").stdout.strip()
        assert run(server_dir, "with", "--", "true").returncode == 0
        assert run(server_dir, "url").stdout.strip() == url  # running before, so left running
    finally:
        run(server_dir, "stop")


def test_a_command_that_fails_gives_its_exit_status(server_dir: Path) -> None:
    assert run(server_dir, "with", "--", sys.executable, "-c", "raise SystemExit(3)").returncode == 3
