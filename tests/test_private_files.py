"""A new home is 0700 and everything regwatch writes in it 0600; an existing home's user files are left alone.

Run under the common umask 022, with which a plain mkdir or open gives 0755
and 0644: the modes must come from regwatch, not from the environment.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cli_helpers import Cli
from ports import refused_port
from test_digest_alerts import CONFIG, NOW, investigation_article
from test_digest_ledger import store_articles

from regwatch.app import App
from regwatch.app.pipeline import deliver_digests, send_alerts
from regwatch.app.scheduler import LOCK_FILE, SchedulerLock


@pytest.fixture(autouse=True)
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes_under(root: Path) -> dict[str, int]:
    return {str(path.relative_to(root)): mode(path) for path in sorted(root.rglob("*"))}


def test_a_new_home_and_everything_regwatch_writes_in_it_are_owner_only(tmp_path: Path) -> None:
    home = tmp_path / "new" / "home"
    config = tmp_path / "alerts.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    Cli(home=home, config=config)("schedule", "--list")  # creates the home and the scheduler's job store
    lock = SchedulerLock(home / LOCK_FILE)
    lock.acquire()
    lock.release()
    smtp_down = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": refused_port(), "SMTP_RETRIES": 0, "SMTP_TIMEOUT": 5}
    with App.load(home, config, overrides=smtp_down) as app:
        store_articles(app, investigation_article())
        assert [o.status for o in send_alerts(app, now=NOW)] == ["pending"]
        assert {o.status for o in deliver_digests(app, now=NOW, force=True)} == {"pending"}  # spooled
        found = modes_under(home)  # while open: the SQLite WAL and shm files are there too
    with App.load(home, config) as app:  # no SMTP: the outbox
        assert {o.status for o in deliver_digests(app, now=NOW, force=True)} == {"delivered"}
        found |= modes_under(home)

    for name in ("regwatch.db", "regwatch.db-wal", "regwatch.db-shm", "digests.lock"):
        assert name in found, sorted(found)
    for name in ("scheduler.db", LOCK_FILE):
        assert name in found, sorted(found)
    assert any(name.startswith("spool/") for name in found) and any(
        name.startswith("outbox/") for name in found
    )
    assert mode(home) == 0o700
    assert mode(home.parent) == 0o755  # parents are the user's business
    wrong = {
        name: oct(value)
        for name, value in found.items()
        if value != (0o700 if (home / name).is_dir() else 0o600)
    }
    assert wrong == {}


def test_an_existing_home_keeps_its_mode_and_user_files_but_regwatch_files_are_tightened(
    tmp_path: Path,
) -> None:
    home = tmp_path / "shared"
    home.mkdir(mode=0o755)
    config = tmp_path / "alerts.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    with App.load(home, config) as app:
        store_articles(app, investigation_article())
        send_alerts(app, now=NOW)  # outbox, the lock
    # As an older regwatch left them (its outbox files were 0600 already: written through mkstemp).
    for path in home.rglob("*"):
        if path.suffix != ".eml":
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
    notes = home / "notes.txt"
    notes.write_text("the analyst's own file", encoding="utf-8")
    with App.load(home, config) as app:
        store_articles(app, investigation_article("second", seen=NOW))
        send_alerts(app, now=NOW + timedelta(hours=2))  # the next alert
        found = modes_under(home)  # while open: the SQLite WAL and shm files are there too
    assert mode(home) == 0o755 and mode(notes) == 0o644
    for name in ("regwatch.db", "regwatch.db-wal", "regwatch.db-shm", "digests.lock"):
        assert found[name] == 0o600, name
    assert found["outbox"] == 0o700
    assert {value for name, value in found.items() if name.startswith("outbox/")} == {0o600}
