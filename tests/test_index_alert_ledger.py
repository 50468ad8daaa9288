"""The alert ledger in the store, and the one-time import of the alerts.db an older regwatch kept beside it."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_digest_alerts import CONFIG, NOW, investigation_article
from test_digest_ledger import store_articles

from indexer import Store
from regwatch.app import App
from regwatch.app.pipeline import send_alerts
from regwatch.models import AlertRecord
from regwatch.settings import Settings

T0 = datetime(2026, 1, 12, 10, 0, tzinfo=UTC)

# The file regwatch kept until schema version 8, as its AlertLedger created it.
LEGACY_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    subscriber_id TEXT NOT NULL,
    article_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sending', 'pending', 'sent', 'failed')),
    error TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (subscriber_id, article_id)
)
"""


def write_legacy_ledger(path: Path, rows: list[tuple[str, str, str, str, str, datetime]]) -> None:
    """An alerts.db as the old ledger wrote it: WAL, times as ``isoformat()`` in UTC."""
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(LEGACY_SCHEMA)
        conn.executemany(
            "INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?)",
            [(s, a, m, status, e, when.astimezone(UTC).isoformat()) for s, a, m, status, e, when in rows],
        )
    os.chmod(path, 0o600)


def open_home_store(home: Path) -> Store:
    return Store.from_settings(Settings(env={}), home)


def test_a_marked_alert_is_known_and_its_send_time_is_the_last_sent(store: Store) -> None:
    ledger = store.alert_ledger
    ledger.mark("ana", ["a1", "a2"], "<alert-1@regwatch>", "sending", now=T0)
    assert ledger.known("ana") == {"a1": "sending", "a2": "sending"} and ledger.last_sent("ana") is None
    ledger.mark("ana", ["a1", "a2"], "<alert-1@regwatch>", "sent", now=T0 + timedelta(seconds=2))
    ledger.mark("ana", ["a3"], "<alert-2@regwatch>", "pending", now=T0 + timedelta(hours=1), error="421")
    assert ledger.last_sent("ana") == T0 + timedelta(seconds=2)
    assert ledger.known("bob") == {} and ledger.last_sent("bob") is None
    assert ledger.records("ana")[-1] == AlertRecord(
        "ana", "a3", "<alert-2@regwatch>", "pending", "421", T0 + timedelta(hours=1)
    )


def test_an_unknown_alert_status_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="sending, pending, sent, failed"):
        store.alert_ledger.mark("ana", ["a1"], "<alert-1@regwatch>", "delivered", now=T0)
    assert store.alert_ledger.records() == []


def test_an_older_homes_alerts_db_is_imported_once_then_left_renamed(home: Path) -> None:
    legacy = home / "alerts.db"
    write_legacy_ledger(
        legacy,
        [
            ("ana", "a1", "<alert-1@regwatch>", "sent", "", T0),
            ("ana", "a2", "<alert-2@regwatch>", "failed", "550 5.7.1 rejected", T0 + timedelta(hours=1)),
            ("bob", "a1", "<alert-3@regwatch>", "pending", "421 busy", T0 + timedelta(hours=2)),
        ],
    )
    with open_home_store(home) as store:
        assert [(r.subscriber_id, r.article_id, r.status) for r in store.alert_ledger.records()] == [
            ("ana", "a1", "sent"),
            ("ana", "a2", "failed"),
            ("bob", "a1", "pending"),
        ]
        assert store.alert_ledger.last_sent("ana") == T0
        assert store.alert_ledger.records("bob")[0].error == "421 busy"
    assert not legacy.exists()
    imported = home / "alerts.db.imported"
    assert imported.exists() and stat.S_IMODE(imported.stat().st_mode) == 0o600
    assert not (home / "alerts.db-wal").exists()
    with open_home_store(home) as store:  # a second open finds nothing to import
        assert len(store.alert_ledger.records()) == 3
    assert sorted(p.name for p in home.iterdir() if p.name.startswith("alerts")) == ["alerts.db.imported"]


def test_rows_the_store_already_has_win_over_the_imported_ones(home: Path) -> None:
    with open_home_store(home) as store:
        store.alert_ledger.mark("ana", ["a1"], "<alert-new@regwatch>", "sent", now=T0 + timedelta(days=1))
    write_legacy_ledger(home / "alerts.db", [("ana", "a1", "<alert-old@regwatch>", "pending", "421", T0)])
    with open_home_store(home) as store:
        [record] = store.alert_ledger.records()
    assert (record.message_id, record.status) == ("<alert-new@regwatch>", "sent")


def test_an_unreadable_alerts_db_is_reported_kept_and_tried_again(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (home / "alerts.db").write_bytes(b"not a database, " * 64)
    with caplog.at_level(logging.ERROR, logger="indexer"), open_home_store(home) as store:
        assert store.alert_ledger.records() == []
    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert "cannot import the alert ledger" in line and "alerts.db" in line
    assert (home / "alerts.db").exists() and not (home / "alerts.db.imported").exists()


def test_an_article_alerted_before_the_upgrade_is_not_alerted_again(home: Path, tmp_path: Path) -> None:
    """The point of the import: the old ledger's "sent" rows keep holding after the upgrade."""
    config = tmp_path / "alerts.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    article = investigation_article()
    write_legacy_ledger(
        home / "alerts.db",
        [("ana", article.id, "<alert-before@regwatch>", "sent", "", NOW - timedelta(hours=2))],
    )
    with App.load(home, config) as app:  # no SMTP: a new alert would land in the outbox
        store_articles(app, article)
        assert send_alerts(app, now=NOW) == []
        store_articles(app, investigation_article("after-the-upgrade", seen=NOW - timedelta(minutes=5)))
        [outcome] = send_alerts(app, now=NOW)
    assert (outcome.subscriber_id, outcome.status, outcome.items) == ("ana", "sent", 1)
    [alert] = list(app.outbox.glob("*.eml"))
    assert b"after-the-upgrade" in alert.read_bytes() and b"/probe" not in alert.read_bytes()
