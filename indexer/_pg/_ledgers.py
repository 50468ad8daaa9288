"""The fetch, digest and alert ledgers on PostgreSQL (see ``indexer._fetch_ledger``, ``_digest_ledger``,
``_alert_ledger`` for what each records).

The digest ledger's one rule, that a delivered digest is recorded again only as
delivered (``force`` aside), is checked inside the upsert itself (``ON CONFLICT
… DO UPDATE … WHERE``), on the row as it is when the statement locks it: two
processes recording one digest at once cannot slip a "pending" over a "delivered".
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from regwatch.models import ALERT_STATUSES, DIGEST_STATUSES, AlertRecord, DigestRecord, utcnow

from .._alert_ledger import IMPORTED_SUFFIX, _read_legacy
from ._database import PgDatabase, as_json, execute, from_pg, period, row, rows, to_pg

log = logging.getLogger(__name__)


class PgFetchLedger:
    """The validators and outcome of each article page fetched, per source."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def record(
        self,
        url: str,
        source_id: str,
        status: int,
        *,
        etag: str = "",
        last_modified: str = "",
        content_hash: str = "",
        article_url: str = "",
        at: datetime | None = None,
    ) -> None:
        """Record one fetch of ``url``; a 304 keeps the stored hash and article, refreshing the rest."""
        with self._db.transaction(write=True) as conn:
            execute(
                conn,
                """
                INSERT INTO fetch_ledger AS f (url, source_id, status, etag, last_modified, content_hash,
                    article_url, first_fetched, last_fetched, last_changed)
                VALUES (:url, :source_id, :status, :etag, :last_modified, :content_hash, :article_url,
                    :now, :now, :now)
                ON CONFLICT (source_id, url) DO UPDATE SET
                    status = excluded.status,
                    etag = CASE WHEN excluded.etag != '' OR excluded.status != 304
                        THEN excluded.etag ELSE f.etag END,
                    last_modified = CASE WHEN excluded.last_modified != '' OR excluded.status != 304
                        THEN excluded.last_modified ELSE f.last_modified END,
                    content_hash = CASE WHEN excluded.status = 304 THEN f.content_hash
                        ELSE excluded.content_hash END,
                    article_url = CASE WHEN excluded.status = 304 THEN f.article_url
                        ELSE excluded.article_url END,
                    last_fetched = excluded.last_fetched,
                    last_changed = CASE WHEN excluded.status != 304 AND excluded.content_hash != f.content_hash
                        THEN excluded.last_changed ELSE f.last_changed END
                """,
                {
                    "url": url,
                    "source_id": source_id,
                    "status": int(status),
                    "etag": etag,
                    "last_modified": last_modified,
                    "content_hash": content_hash,
                    "article_url": article_url,
                    "now": to_pg(at or utcnow()),
                },
            )

    def validators(self, source_ids: Iterable[str]) -> dict[str, dict[str, dict[str, str]]]:
        ids = list(dict.fromkeys(source_ids))
        result: dict[str, dict[str, dict[str, str]]] = {sid: {} for sid in ids}
        if not ids:
            return result
        with self._db.transaction(write=False) as conn:
            found = rows(
                conn,
                """
                SELECT url, source_id, etag, last_modified FROM fetch_ledger
                WHERE source_id = ANY(CAST(:ids AS text[])) AND status IN (200, 304) AND content_hash != ''
                    AND (etag != '' OR last_modified != '')
                """,
                {"ids": ids},
            )
        for entry in found:
            result[entry["source_id"]][entry["url"]] = {
                "etag": entry["etag"],
                "last_modified": entry["last_modified"],
            }
        return result

    def entry(self, source_id: str, url: str) -> dict[str, Any] | None:
        with self._db.transaction(write=False) as conn:
            found = row(
                conn,
                "SELECT * FROM fetch_ledger WHERE source_id = :source AND url = :url",
                {"source": source_id, "url": url},
            )
        if found is None:
            return None
        entry = dict(found)
        for name in ("first_fetched", "last_fetched", "last_changed"):
            entry[name] = from_pg(entry[name])
        return entry

    def count(self, source_id: str | None = None) -> int:
        with self._db.transaction(write=False) as conn:
            if source_id is None:
                found = row(conn, "SELECT count(*) AS n FROM fetch_ledger")
            else:
                found = row(
                    conn, "SELECT count(*) AS n FROM fetch_ledger WHERE source_id = :id", {"id": source_id}
                )
        return int(found["n"]) if found else 0


class PgDigestLedger:
    """The digests recorded per (subscriber, period): what makes digest delivery exactly once."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def get(self, subscriber_id: str, period_: date) -> DigestRecord | None:
        with self._db.transaction(write=False) as conn:
            found = row(
                conn,
                "SELECT * FROM digests WHERE subscriber_id = :subscriber AND period = :period",
                {"subscriber": subscriber_id, "period": period(period_)},
            )
        return _to_digest(found) if found else None

    def record(
        self,
        subscriber_id: str,
        period_: date,
        message_id: str,
        status: str,
        watermark: datetime | None,
        location: str = "",
        error: str = "",
        article_ids: Sequence[str] = (),
        *,
        force: bool = False,
    ) -> None:
        """Create or update the ledger row of (subscriber, period), with the SQLite ledger's rules.

        Recording anything but "delivered" over a delivered digest raises ValueError unless ``force``.
        """
        if status not in DIGEST_STATUSES:
            raise ValueError(f"digest status must be one of {', '.join(DIGEST_STATUSES)}, got {status!r}")
        now = to_pg(utcnow())
        day = period(period_)
        with self._db.transaction(write=True) as conn:
            written = row(
                conn,
                """
                INSERT INTO digests AS d (subscriber_id, period, message_id, status, watermark, location, error,
                    article_ids, attempts, created_at, updated_at, delivered_at)
                VALUES (:subscriber_id, :period, :message_id, :status, :watermark, :location, :error,
                    CAST(:article_ids AS jsonb), :attempt, :now, :now, :delivered_at)
                ON CONFLICT (subscriber_id, period) DO UPDATE SET
                    message_id = excluded.message_id,
                    status = excluded.status,
                    watermark = coalesce(excluded.watermark, d.watermark),
                    location = CASE WHEN excluded.location = '' THEN d.location ELSE excluded.location END,
                    error = excluded.error,
                    article_ids = CASE WHEN :has_ids THEN excluded.article_ids ELSE d.article_ids END,
                    attempts = d.attempts + excluded.attempts,
                    updated_at = excluded.updated_at,
                    delivered_at = coalesce(excluded.delivered_at, d.delivered_at)
                WHERE d.status != 'delivered' OR excluded.status = 'delivered' OR :force
                RETURNING 1 AS written
                """,
                {
                    "subscriber_id": subscriber_id,
                    "period": day,
                    "message_id": message_id,
                    "status": status,
                    "watermark": to_pg(watermark),
                    "location": location,
                    "error": error,
                    "article_ids": as_json(list(article_ids)),
                    "has_ids": bool(article_ids),
                    "attempt": int(status != "pending" or bool(error)),
                    "now": now,
                    "delivered_at": now if status == "delivered" else None,
                    "force": bool(force),
                },
            )
            if written is None:
                kept = row(
                    conn,
                    "SELECT message_id FROM digests WHERE subscriber_id = :s AND period = :p",
                    {"s": subscriber_id, "p": day},
                )
                raise ValueError(
                    f"the digest of {subscriber_id} for {day.isoformat()} was already delivered "
                    f"({kept['message_id'] if kept else '?'}); pass force=True to send it again"
                )
        log.debug("Digest of %s for %s recorded as %s (%s)", subscriber_id, day, status, message_id)

    def last_watermark(self, subscriber_id: str) -> datetime | None:
        with self._db.transaction(write=False) as conn:
            found = row(
                conn,
                """
                SELECT watermark FROM digests
                WHERE subscriber_id = :s AND status = 'delivered' AND watermark IS NOT NULL
                ORDER BY period DESC, watermark DESC LIMIT 1
                """,
                {"s": subscriber_id},
            )
        return from_pg(found["watermark"]) if found else None

    def pending(self) -> list[DigestRecord]:
        with self._db.transaction(write=False) as conn:
            found = rows(
                conn, "SELECT * FROM digests WHERE status = 'pending' ORDER BY period, subscriber_id"
            )
        return [_to_digest(entry) for entry in found]

    def recent(self, limit: int = 50, status: str | None = None) -> list[DigestRecord]:
        """The latest rows (of one status, or any), most recently updated first: the ops console's view."""
        where = "WHERE status = :status" if status is not None else ""
        with self._db.transaction(write=False) as conn:
            found = rows(
                conn,
                f"SELECT * FROM digests {where} ORDER BY updated_at DESC, subscriber_id LIMIT :limit",
                {"status": status, "limit": limit},
            )
        return [_to_digest(entry) for entry in found]


def _to_digest(entry: Mapping[str, Any]) -> DigestRecord:
    return DigestRecord(
        subscriber_id=entry["subscriber_id"],
        period=entry["period"],
        message_id=entry["message_id"],
        status=entry["status"],
        watermark=from_pg(entry["watermark"]),
        location=entry["location"],
        error=entry["error"],
        article_ids=list(entry["article_ids"]),
        attempts=entry["attempts"],
        created_at=from_pg(entry["created_at"]),
        updated_at=from_pg(entry["updated_at"]),
        delivered_at=from_pg(entry["delivered_at"]),
    )


class PgAlertLedger:
    """Which articles each subscriber was alerted about: one row per (subscriber, article)."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def known(self, subscriber_id: str) -> dict[str, str]:
        with self._db.transaction(write=False) as conn:
            found = rows(
                conn, "SELECT article_id, status FROM alerts WHERE subscriber_id = :s", {"s": subscriber_id}
            )
        return {entry["article_id"]: entry["status"] for entry in found}

    def last_sent(self, subscriber_id: str) -> datetime | None:
        with self._db.transaction(write=False) as conn:
            found = row(
                conn,
                "SELECT max(updated_at) AS at FROM alerts WHERE subscriber_id = :s AND status = 'sent'",
                {"s": subscriber_id},
            )
        return from_pg(found["at"]) if found else None

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
        if status not in ALERT_STATUSES:
            raise ValueError(f"alert status must be one of {', '.join(ALERT_STATUSES)}, got {status!r}")
        stamp = to_pg(now)
        with self._db.transaction(write=True) as conn:
            execute(
                conn,
                """
                INSERT INTO alerts (subscriber_id, article_id, message_id, status, error, updated_at)
                VALUES (:s, :a, :m, :status, :error, :at)
                ON CONFLICT (subscriber_id, article_id) DO UPDATE SET
                    message_id = excluded.message_id, status = excluded.status,
                    error = excluded.error, updated_at = excluded.updated_at
                """,
                [
                    {
                        "s": subscriber_id,
                        "a": a,
                        "m": message_id,
                        "status": status,
                        "error": error,
                        "at": stamp,
                    }
                    for a in article_ids
                ],
            )

    def records(self, subscriber_id: str | None = None) -> list[AlertRecord]:
        sql, params = "SELECT * FROM alerts", {}
        if subscriber_id is not None:
            sql, params = sql + " WHERE subscriber_id = :s", {"s": subscriber_id}
        with self._db.transaction(write=False) as conn:
            found = rows(conn, sql + " ORDER BY subscriber_id, article_id", params)
        return [
            AlertRecord(
                subscriber_id=entry["subscriber_id"],
                article_id=entry["article_id"],
                message_id=entry["message_id"],
                status=entry["status"],
                error=entry["error"],
                updated_at=from_pg(entry["updated_at"]),
            )
            for entry in found
        ]

    def import_file(self, path: Path) -> int:
        """Bring in the rows of an older regwatch's ``alerts.db`` once, then rename it (as on SQLite)."""
        path = Path(path)
        if not path.exists():
            return 0
        try:
            legacy = _read_legacy(path)
        except sqlite3.Error as exc:
            log.error(
                "cannot import the alert ledger %s (%s): alerts it recorded may be sent again; fix or remove it",
                path,
                exc,
            )
            return 0
        with self._db.transaction(write=True) as conn:
            imported = sum(
                execute(
                    conn,
                    """
                    INSERT INTO alerts (subscriber_id, article_id, message_id, status, error, updated_at)
                    VALUES (:s, :a, :m, :status, :error, :at) ON CONFLICT (subscriber_id, article_id) DO NOTHING
                    """,
                    {"s": s, "a": a, "m": m, "status": st, "error": e, "at": to_pg(from_text(at))},
                )
                for s, a, m, st, e, at in legacy
            )
        for suffix in ("", "-wal", "-shm"):
            old = path.with_name(path.name + suffix)
            try:
                old.rename(path.with_name(path.name + IMPORTED_SUFFIX + suffix))
            except FileNotFoundError:
                continue
        log.info("imported %d alert ledger row(s) from %s into %s", imported, path, self._db.shown)
        return imported


def from_text(value: str | None) -> datetime | None:
    from .._schema import from_db

    return from_db(value)
