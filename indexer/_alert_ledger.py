"""The alert ledger: the store's ``alert_ledger`` component, one row per (subscriber, article).

Beside the digest ledger (keyed by subscriber and day) in the store of truth: an
alert is keyed by article, so each article alerts a subscriber once. The
protocol that writes it ("sending" before the attempt, then sent, pending or
failed) is ``digests.AlertDelivery``'s.

regwatch before schema version 8 kept this ledger in a file of its own beside the
store (``HOME/alerts.db``). :meth:`SqliteAlertLedger.import_file` brings its rows
in once, when the store is opened from the home dir, and renames the file
``alerts.db.imported``, so no alert is sent again after the upgrade.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from regwatch.models import ALERT_STATUSES, AlertRecord

from ._database import Database
from ._schema import from_db, to_db

log = logging.getLogger(__name__)

LEGACY_ALERT_LEDGER_FILE = "alerts.db"  # in the home dir, beside the store (regwatch before schema 8)
IMPORTED_SUFFIX = ".imported"


class SqliteAlertLedger:
    """Which articles each subscriber was alerted about (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def known(self, subscriber_id: str) -> dict[str, str]:
        """article id -> status, for every article this subscriber was (or is being) alerted about."""
        with self._db.transaction(write=False) as conn:
            rows = conn.execute(
                "SELECT article_id, status FROM alerts WHERE subscriber_id = ?", (subscriber_id,)
            ).fetchall()
        return {row["article_id"]: row["status"] for row in rows}

    def last_sent(self, subscriber_id: str) -> datetime | None:
        """When the subscriber's latest alert went out (None: never)."""
        with self._db.transaction(write=False) as conn:
            row = conn.execute(
                "SELECT max(updated_at) FROM alerts WHERE subscriber_id = ? AND status = 'sent'",
                (subscriber_id,),
            ).fetchone()
        return from_db(row[0])

    def mark(
        self,
        subscriber_id: str,
        article_ids: Sequence[str],
        message_id: str,
        status: str,
        *,
        now: datetime,
        error: str = "",
    ) -> None:
        """Record the alert ``message_id`` about ``article_ids`` as ``status`` (one of ALERT_STATUSES)."""
        if status not in ALERT_STATUSES:
            raise ValueError(f"alert status must be one of {', '.join(ALERT_STATUSES)}, got {status!r}")
        stamp = to_db(now)
        with self._db.transaction(write=True) as conn:
            conn.executemany(
                """
                INSERT INTO alerts (subscriber_id, article_id, message_id, status, error, updated_at)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (subscriber_id, article_id) DO UPDATE SET
                    message_id = excluded.message_id, status = excluded.status,
                    error = excluded.error, updated_at = excluded.updated_at
                """,
                [(subscriber_id, a, message_id, status, error, stamp) for a in article_ids],
            )

    def records(self, subscriber_id: str | None = None) -> list[AlertRecord]:
        """The ledger's rows (of one subscriber, or all), by subscriber and article."""
        sql, params = "SELECT * FROM alerts", []
        if subscriber_id is not None:
            sql, params = sql + " WHERE subscriber_id = ?", [subscriber_id]
        with self._db.transaction(write=False) as conn:
            rows = conn.execute(sql + " ORDER BY subscriber_id, article_id", params).fetchall()
        return [
            AlertRecord(
                subscriber_id=row["subscriber_id"],
                article_id=row["article_id"],
                message_id=row["message_id"],
                status=row["status"],
                error=row["error"],
                updated_at=from_db(row["updated_at"]),
            )
            for row in rows
        ]

    def import_file(self, path: Path) -> int:
        """Bring in the rows of an alert ledger file an older regwatch kept (``HOME/alerts.db``), once.

        Rows the store already holds win (they were written after the upgrade).
        The file is then renamed ``alerts.db.imported`` (its WAL and shm files
        alike), so the next open does nothing. Returns the rows imported; a file
        that cannot be read is logged and left in place (and tried again next time).
        """
        path = Path(path)
        if not path.exists():  # the usual case: no write lock taken
            return 0
        with self._db.transaction(write=True) as conn:
            if not path.exists():  # again under the write lock: another process imported it meanwhile
                return 0
            try:
                rows = _read_legacy(path)
            except sqlite3.Error as exc:
                log.error(
                    "cannot import the alert ledger %s (%s): alerts it recorded may be sent again; "
                    "fix or remove it",
                    path,
                    exc,
                )
                return 0
            imported = 0
            for row in rows:
                imported += conn.execute(
                    """
                    INSERT INTO alerts (subscriber_id, article_id, message_id, status, error, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (subscriber_id, article_id) DO NOTHING
                    """,
                    row,
                ).rowcount
        for suffix in ("", "-wal", "-shm"):
            old = path.with_name(path.name + suffix)
            try:
                old.rename(path.with_name(path.name + IMPORTED_SUFFIX + suffix))
            except FileNotFoundError:
                continue  # no such companion file (or another process renamed it first)
        log.info(
            "imported %d alert ledger row(s) from %s into %s; the old file is now %s%s",
            imported,
            path,
            self._db.path,
            path.name,
            IMPORTED_SUFFIX,
        )
        return imported


def _read_legacy(path: Path) -> list[tuple[str, str, str, str, str, str | None]]:
    """The rows of an old alerts.db, their times in the store's form; none when it has no table."""
    legacy = sqlite3.connect(path, timeout=30)
    try:
        if legacy.execute("SELECT 1 FROM sqlite_master WHERE name = 'alerts'").fetchone() is None:
            return []
        rows = legacy.execute(
            "SELECT subscriber_id, article_id, message_id, status, error, updated_at FROM alerts"
        ).fetchall()
    finally:
        legacy.close()
    return [(s, a, m, status, e, to_db(from_db(updated))) for s, a, m, status, e, updated in rows]
