"""Per-source crawl history and health state: the store's ``source_states`` component.

Three tables: ``crawl_runs``, one row per source per run (its counters, whether it
failed, its first failure; :meth:`SqliteSourceStates.health` reads the latest
run, the last success and the failures since); ``source_state``, the
:class:`~regwatch.models.SourceHealthState` carried from run to run (the
weighted failure score that disables a source, its volume average, its last
index latency); and ``source_discovery``, how each ``auto`` source is followed:
the :class:`~regwatch.models.Discovery` its last discovery made (method,
address, learned pattern, why, what it turned down). What the health state
becomes is decided by ``crawlers.next_health``; :meth:`SqliteSourceStates.record_run`
saves it with the run, in one transaction.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import datetime
from typing import Any

from regwatch.models import COUNTERS, CrawlFailure, CrawlStats, Discovery, SourceHealthState, utcnow

from ._database import Database
from ._schema import from_db, to_db
from ._types import SourceHealth

log = logging.getLogger(__name__)


class SqliteSourceStates:
    """Each source's runs and health state (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record_run(
        self,
        run: CrawlStats,
        health: SourceHealthState,
        *,
        failed: bool,
        started: datetime,
        finished: datetime,
    ) -> None:
        """Record one run of one source and the health state it led to, together.

        ``failed`` (errors and nothing stored, see ``crawlers.run_failed``) counts
        towards the consecutive failures; the run's first failure is kept as the
        source's last error even when the run succeeded.
        """
        first = run.failures[0] if run.failures else run.index_failure
        counts = {name: getattr(run, name) for name in COUNTERS}
        with self._db.transaction(write=True) as conn:
            conn.execute(
                """
                INSERT INTO crawl_runs (source_id, started, finished, ok, pages_fetched, new, updated,
                    duplicate, errors, error_class, error_message, error_messages, error_url, error_reason,
                    error_status, counts)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                (
                    run.source_id,
                    to_db(started),
                    to_db(finished),
                    int(not failed),
                    run.pages_fetched,
                    run.new,
                    run.updated,
                    run.duplicate,
                    run.errors,
                    first.error_class if first else "",
                    first.message if first else "",
                    json.dumps([failure.message for failure in run.failures]),
                    first.url if first else "",
                    first.reason if first else "",
                    first.status if first else None,
                    json.dumps(counts),
                ),
            )
            _save_state(conn, health)

    def health(self) -> list[SourceHealth]:
        """Per source (with runs or articles): its latest run, success, error and output."""
        with self._db.transaction(write=False) as conn:
            latest = conn.execute(
                """
                SELECT source_id, finished, new + updated + duplicate AS items, counts,
                    row_number() OVER (PARTITION BY source_id ORDER BY started DESC, run DESC) AS nth
                FROM crawl_runs
                """
            ).fetchall()
            successes = conn.execute(
                """
                SELECT source_id, max(started) AS started, max(finished) AS finished
                FROM crawl_runs WHERE ok = 1 GROUP BY source_id
                """
            ).fetchall()
            errors = conn.execute(
                """
                SELECT source_id, finished, error_class, error_url, error_reason, error_status FROM (
                    SELECT *, row_number() OVER (PARTITION BY source_id ORDER BY started DESC, run DESC) AS nth
                    FROM crawl_runs WHERE error_class != '')
                WHERE nth = 1
                """
            ).fetchall()
            failures = conn.execute(
                """
                SELECT r.source_id, count(*) AS n FROM crawl_runs r
                WHERE r.ok = 0 AND r.started > coalesce(
                    (SELECT max(s.started) FROM crawl_runs s WHERE s.source_id = r.source_id AND s.ok = 1), '')
                GROUP BY r.source_id
                """
            ).fetchall()
            articles = conn.execute(
                "SELECT source_id, count(*) AS n, max(published) AS newest FROM articles GROUP BY source_id"
            ).fetchall()
        health: dict[str, SourceHealth] = {}

        def of(source_id: str) -> SourceHealth:
            return health.setdefault(source_id, SourceHealth(source_id=source_id))

        for row in latest:
            if row["nth"] == 1:
                entry = of(row["source_id"])
                entry.last_run, entry.items_last_run = from_db(row["finished"]), int(row["items"])
                entry.last_run_counts = {k: int(v) for k, v in json.loads(row["counts"] or "{}").items()}
        for row in successes:
            of(row["source_id"]).last_success = from_db(row["finished"])
        for row in errors:
            entry = of(row["source_id"])
            entry.last_failure = CrawlFailure(
                row["error_class"], row["error_url"], row["error_reason"], status=row["error_status"]
            )
            entry.last_error_at = from_db(row["finished"])
        for row in failures:
            of(row["source_id"]).consecutive_failures = int(row["n"])
        for row in articles:
            entry = of(row["source_id"])
            entry.total_articles, entry.newest_item = int(row["n"]), from_db(row["newest"])
        return [health[key] for key in sorted(health)]

    def runs(self, source_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """The source's latest runs, newest first: times, counts, whether it succeeded, its errors."""
        with self._db.transaction(write=False) as conn:
            rows = conn.execute(
                "SELECT * FROM crawl_runs WHERE source_id = ? ORDER BY started DESC, run DESC LIMIT ?",
                (source_id, limit),
            ).fetchall()
        return [
            {
                "started": from_db(row["started"]),
                "finished": from_db(row["finished"]),
                "ok": bool(row["ok"]),
                "pages_fetched": row["pages_fetched"],
                "new": row["new"],
                "updated": row["updated"],
                "duplicate": row["duplicate"],
                "errors": row["errors"],
                "error_class": row["error_class"],
                "error_url": row["error_url"],
                "error_reason": row["error_reason"],
                "error_status": row["error_status"],
                "counts": json.loads(row["counts"] or "{}"),
                "error_messages": json.loads(row["error_messages"]),
            }
            for row in rows
        ]

    def all(self) -> dict[str, SourceHealthState]:
        """Every source's health state (sources never recorded have none)."""
        with self._db.transaction(write=False) as conn:
            rows = conn.execute("SELECT * FROM source_state").fetchall()
        return {row["source_id"]: _to_state(row) for row in rows}

    def get(self, source_id: str) -> SourceHealthState:
        """A source's health state; a fresh one when it was never recorded."""
        with self._db.transaction(write=False) as conn:
            row = conn.execute("SELECT * FROM source_state WHERE source_id = ?", (source_id,)).fetchone()
        return _to_state(row) if row is not None else SourceHealthState(source_id)

    def save(self, state: SourceHealthState) -> None:
        """Keep a source's health state changed outside a run (ops turning it off or on)."""
        with self._db.transaction(write=True) as conn:
            _save_state(conn, state)

    def discoveries(self) -> dict[str, Discovery]:
        """Each ``auto`` source's latest discovery, by source id."""
        with self._db.transaction(write=False) as conn:
            rows = conn.execute("SELECT source_id, discovery FROM source_discovery").fetchall()
        found = {}
        for row in rows:
            try:
                found[row["source_id"]] = Discovery.from_dict(json.loads(row["discovery"]))
            except (ValueError, TypeError) as exc:  # written by another version: discovered again
                log.warning(
                    "source=%s stored discovery unreadable (%s): it is discovered again",
                    row["source_id"],
                    exc,
                )
        return found

    def save_discovery(self, source_id: str, discovery: Discovery) -> None:
        """Keep a source's discovery (a new one replaces the last, found or not)."""
        with self._db.transaction(write=True) as conn:
            conn.execute(
                """
                INSERT INTO source_discovery (source_id, method, address, discovery, discovered_at)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (source_id) DO UPDATE SET method = excluded.method, address = excluded.address,
                    discovery = excluded.discovery, discovered_at = excluded.discovered_at
                """,
                (
                    source_id,
                    discovery.method,
                    discovery.address,
                    json.dumps(discovery.to_dict()),
                    to_db(discovery.discovered_at or utcnow()),
                ),
            )


def _save_state(conn: sqlite3.Connection, health: SourceHealthState) -> None:
    conn.execute(
        """
        INSERT INTO source_state (source_id, failure_score, disabled_at, disabled_reason, latency_ms,
            items_found, avg_items, runs, low_volume, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (source_id) DO UPDATE SET failure_score = excluded.failure_score,
            disabled_at = excluded.disabled_at, disabled_reason = excluded.disabled_reason,
            latency_ms = excluded.latency_ms, items_found = excluded.items_found,
            avg_items = excluded.avg_items, runs = excluded.runs, low_volume = excluded.low_volume,
            updated_at = excluded.updated_at
        """,
        (
            health.source_id,
            health.failure_score,
            to_db(health.disabled_at),
            health.disabled_reason,
            health.latency_ms,
            health.items_found,
            health.avg_items,
            health.runs,
            int(health.low_volume),
            to_db(utcnow()),
        ),
    )


def _to_state(row: sqlite3.Row) -> SourceHealthState:
    return SourceHealthState(
        source_id=row["source_id"],
        failure_score=float(row["failure_score"]),
        disabled_at=from_db(row["disabled_at"]),
        disabled_reason=row["disabled_reason"],
        latency_ms=row["latency_ms"],
        items_found=int(row["items_found"]),
        avg_items=row["avg_items"],
        runs=int(row["runs"]),
        low_volume=bool(row["low_volume"]),
    )
