"""The digest ledger: the store's ``digest_ledger`` component, one row per subscriber and period.

What makes digest delivery exactly once (the protocol is ``digests.DigestDelivery``'s):
a digest is recorded "pending" with no error before each attempt ("sending"), then
delivered, failed (for good) or pending with the error (to retry). A row recorded
delivered can be recorded again only as delivered (``force`` aside), so no later
step can send it twice.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Sequence
from datetime import date, datetime

from regwatch.models import DIGEST_STATUSES, DigestRecord, utcnow

from ._database import Database
from ._schema import from_db, to_db

log = logging.getLogger(__name__)


class SqliteDigestLedger:
    """The digests recorded per (subscriber, period) (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, subscriber_id: str, period: date) -> DigestRecord | None:
        with self._db.transaction(write=False) as conn:
            row = conn.execute(
                "SELECT * FROM digests WHERE subscriber_id = ? AND period = ?",
                (subscriber_id, _period(period)),
            ).fetchone()
        return _to_digest(row) if row else None

    def record(
        self,
        subscriber_id: str,
        period: date,
        message_id: str,
        status: str,
        watermark: datetime | None,
        location: str = "",
        error: str = "",
        article_ids: Sequence[str] = (),
        *,
        force: bool = False,
    ) -> None:
        """Create or update the ledger row of (subscriber, period).

        ``status`` is "pending" (about to send, or a failure worth retrying),
        "delivered", or "failed" (permanently). Each recorded outcome of a send
        counts as an attempt: delivered, failed, or pending with an ``error``. A watermark, location or article ids left empty keep the stored
        ones, so "delivered" can be recorded with just the message id; ``error``
        always replaces the stored one. Recording anything but "delivered" over a
        delivered digest raises ValueError unless ``force`` (a deliberate resend):
        that is what keeps delivery exactly-once.
        """
        if status not in DIGEST_STATUSES:
            raise ValueError(f"digest status must be one of {', '.join(DIGEST_STATUSES)}, got {status!r}")
        now = to_db(utcnow())
        key = (subscriber_id, _period(period))
        with self._db.transaction(write=True) as conn:
            row = conn.execute(
                "SELECT status, message_id FROM digests WHERE subscriber_id = ? AND period = ?", key
            ).fetchone()
            if row is not None and row["status"] == "delivered" and status != "delivered" and not force:
                raise ValueError(
                    f"the digest of {subscriber_id} for {key[1]} was already delivered "
                    f"({row['message_id']}); pass force=True to send it again"
                )
            conn.execute(
                """
                INSERT INTO digests (subscriber_id, period, message_id, status, watermark, location, error,
                    article_ids, attempts, created_at, updated_at, delivered_at)
                VALUES (:subscriber_id, :period, :message_id, :status, :watermark, :location, :error,
                    :article_ids, :attempt, :now, :now, :delivered_at)
                ON CONFLICT (subscriber_id, period) DO UPDATE SET
                    message_id = excluded.message_id,
                    status = excluded.status,
                    watermark = coalesce(excluded.watermark, digests.watermark),
                    location = CASE WHEN excluded.location = '' THEN digests.location ELSE excluded.location END,
                    error = excluded.error,
                    article_ids = CASE WHEN :has_ids THEN excluded.article_ids ELSE digests.article_ids END,
                    attempts = digests.attempts + excluded.attempts,
                    updated_at = excluded.updated_at,
                    delivered_at = coalesce(excluded.delivered_at, digests.delivered_at)
                """,
                {
                    "subscriber_id": subscriber_id,
                    "period": key[1],
                    "message_id": message_id,
                    "status": status,
                    "watermark": to_db(watermark),
                    "location": location,
                    "error": error,
                    "article_ids": json.dumps(list(article_ids)),
                    "has_ids": bool(article_ids),
                    "attempt": int(status != "pending" or bool(error)),
                    "now": now,
                    "delivered_at": now if status == "delivered" else None,
                },
            )
        log.debug("Digest of %s for %s recorded as %s (%s)", subscriber_id, key[1], status, message_id)

    def last_watermark(self, subscriber_id: str) -> datetime | None:
        """The watermark of the subscriber's newest delivered digest (pending and failed ones don't count)."""
        with self._db.transaction(write=False) as conn:
            row = conn.execute(
                """
                SELECT watermark FROM digests
                WHERE subscriber_id = ? AND status = 'delivered' AND watermark IS NOT NULL
                ORDER BY period DESC, watermark DESC LIMIT 1
                """,
                (subscriber_id,),
            ).fetchone()
        return from_db(row["watermark"]) if row else None

    def pending(self) -> list[DigestRecord]:
        """Digests recorded as pending (not yet delivered, retryable), oldest period first."""
        with self._db.transaction(write=False) as conn:
            rows = conn.execute(
                "SELECT * FROM digests WHERE status = 'pending' ORDER BY period, subscriber_id"
            ).fetchall()
        return [_to_digest(row) for row in rows]

    def recent(self, limit: int = 50, status: str | None = None) -> list[DigestRecord]:
        """The latest rows (of one status, or any), most recently updated first: the ops console's view."""
        sql, params = "SELECT * FROM digests", []
        if status is not None:
            sql, params = sql + " WHERE status = ?", [status]
        with self._db.transaction(write=False) as conn:
            rows = conn.execute(
                sql + " ORDER BY updated_at DESC, subscriber_id LIMIT ?", [*params, limit]
            ).fetchall()
        return [_to_digest(row) for row in rows]


def _period(period: date) -> str:
    return (period.date() if isinstance(period, datetime) else period).isoformat()


def _to_digest(row: sqlite3.Row) -> DigestRecord:
    return DigestRecord(
        subscriber_id=row["subscriber_id"],
        period=date.fromisoformat(row["period"]),
        message_id=row["message_id"],
        status=row["status"],
        watermark=from_db(row["watermark"]),
        location=row["location"],
        error=row["error"],
        article_ids=json.loads(row["article_ids"]),
        attempts=row["attempts"],
        created_at=from_db(row["created_at"]),
        updated_at=from_db(row["updated_at"]),
        delivered_at=from_db(row["delivered_at"]),
    )
