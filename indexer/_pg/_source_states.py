"""Per-source crawl history and health state on PostgreSQL: the ``source_states`` component.

The same three tables and rules as ``indexer._source_states``: ``crawl_runs`` (each
run's counters, whether it failed, its first failure as a value), ``source_state``
(the :class:`~regwatch.models.SourceHealthState` carried from run to run, decided
by ``crawlers.next_health``, saved with its run in one transaction, or alone when
ops turn a source off or on) and ``source_discovery`` (each ``auto`` source's
latest :class:`~regwatch.models.Discovery`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from regwatch.models import COUNTERS, CrawlFailure, CrawlStats, Discovery, SourceHealthState, utcnow

from .._types import SourceHealth
from ._database import PgDatabase, as_json, execute, from_pg, row, rows, to_pg

log = logging.getLogger(__name__)

# A run's columns `runs` hands on as they are.
_RUN_FIELDS = (
    "pages_fetched",
    "new",
    "updated",
    "duplicate",
    "errors",
    "error_class",
    "error_url",
    "error_reason",
    "error_status",
)


class PgSourceStates:
    """Each source's runs and health state."""

    def __init__(self, db: PgDatabase) -> None:
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
        """Record one run of one source and the health state it led to, together (see the SQLite twin)."""
        first = run.failures[0] if run.failures else run.index_failure
        with self._db.transaction(write=True) as conn:
            execute(
                conn,
                """
                INSERT INTO crawl_runs (source_id, started, finished, ok, pages_fetched, new, updated,
                    duplicate, errors, error_class, error_message, error_messages, error_url, error_reason,
                    error_status, counts)
                VALUES (:source_id, :started, :finished, :ok, :pages, :new, :updated, :duplicate, :errors,
                    :error_class, :message, CAST(:messages AS jsonb), :error_url, :error_reason,
                    :error_status, CAST(:counts AS jsonb))
                """,
                {
                    "source_id": run.source_id,
                    "started": to_pg(started),
                    "finished": to_pg(finished),
                    "ok": not failed,
                    "pages": run.pages_fetched,
                    "new": run.new,
                    "updated": run.updated,
                    "duplicate": run.duplicate,
                    "errors": run.errors,
                    "error_class": first.error_class if first else "",
                    "message": first.message if first else "",
                    "messages": as_json([failure.message for failure in run.failures]),
                    "error_url": first.url if first else "",
                    "error_reason": first.reason if first else "",
                    "error_status": first.status if first else None,
                    "counts": as_json({name: getattr(run, name) for name in COUNTERS}),
                },
            )
            _save_state(conn, health)

    def health(self) -> list[SourceHealth]:
        """Per source (with runs or articles): its latest run, success, error and output."""
        with self._db.transaction(write=False) as conn:
            latest = rows(
                conn,
                """
                SELECT DISTINCT ON (source_id) source_id, finished, new + updated + duplicate AS items, counts
                FROM crawl_runs ORDER BY source_id, started DESC, run DESC
                """,
            )
            successes = rows(
                conn,
                "SELECT source_id, max(finished) AS finished FROM crawl_runs WHERE ok GROUP BY source_id",
            )
            errors = rows(
                conn,
                """
                SELECT DISTINCT ON (source_id) source_id, finished, error_class, error_url, error_reason,
                    error_status
                FROM crawl_runs WHERE error_class != '' ORDER BY source_id, started DESC, run DESC
                """,
            )
            failures = rows(
                conn,
                """
                SELECT r.source_id, count(*) AS n FROM crawl_runs r
                WHERE NOT r.ok AND r.started > coalesce(
                    (SELECT max(s.started) FROM crawl_runs s WHERE s.source_id = r.source_id AND s.ok),
                    '-infinity')
                GROUP BY r.source_id
                """,
            )
            articles = rows(
                conn,
                "SELECT source_id, count(*) AS n, max(published) AS newest FROM articles GROUP BY source_id",
            )
        health: dict[str, SourceHealth] = {}

        def of(source_id: str) -> SourceHealth:
            return health.setdefault(source_id, SourceHealth(source_id=source_id))

        for entry in latest:
            found = of(entry["source_id"])
            found.last_run, found.items_last_run = from_pg(entry["finished"]), int(entry["items"])
            found.last_run_counts = {k: int(v) for k, v in (entry["counts"] or {}).items()}
        for entry in successes:
            of(entry["source_id"]).last_success = from_pg(entry["finished"])
        for entry in errors:
            found = of(entry["source_id"])
            found.last_failure = CrawlFailure(
                entry["error_class"], entry["error_url"], entry["error_reason"], status=entry["error_status"]
            )
            found.last_error_at = from_pg(entry["finished"])
        for entry in failures:
            of(entry["source_id"]).consecutive_failures = int(entry["n"])
        for entry in articles:
            found = of(entry["source_id"])
            found.total_articles, found.newest_item = int(entry["n"]), from_pg(entry["newest"])
        return [health[key] for key in sorted(health)]

    def all(self) -> dict[str, SourceHealthState]:
        """Every source's health state (sources never recorded have none)."""
        with self._db.transaction(write=False) as conn:
            found = rows(conn, "SELECT * FROM source_state")
        return {entry["source_id"]: _to_state(entry) for entry in found}

    def get(self, source_id: str) -> SourceHealthState:
        """A source's health state; a fresh one when it was never recorded."""
        with self._db.transaction(write=False) as conn:
            entry = row(conn, "SELECT * FROM source_state WHERE source_id = :id", {"id": source_id})
        return _to_state(entry) if entry is not None else SourceHealthState(source_id)

    def runs(self, source_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """The source's latest runs, newest first: times, counts, whether it succeeded, its errors."""
        with self._db.transaction(write=False) as conn:
            found = rows(
                conn,
                """
                SELECT * FROM crawl_runs WHERE source_id = :id ORDER BY started DESC, run DESC LIMIT :limit
                """,
                {"id": source_id, "limit": limit},
            )
        return [
            {
                "started": from_pg(entry["started"]),
                "finished": from_pg(entry["finished"]),
                "ok": bool(entry["ok"]),
                **{name: entry[name] for name in _RUN_FIELDS},
                "counts": dict(entry["counts"] or {}),
                "error_messages": list(entry["error_messages"]),
            }
            for entry in found
        ]

    def save(self, state: SourceHealthState) -> None:
        """Keep a source's health state changed outside a run (ops turning it off or on)."""
        with self._db.transaction(write=True) as conn:
            _save_state(conn, state)

    def discoveries(self) -> dict[str, Discovery]:
        """Each ``auto`` source's latest discovery, by source id."""
        with self._db.transaction(write=False) as conn:
            found = rows(conn, "SELECT source_id, discovery FROM source_discovery")
        discovered = {}
        for entry in found:
            try:
                discovered[entry["source_id"]] = Discovery.from_dict(entry["discovery"])
            except (ValueError, TypeError) as exc:  # written by another version: discovered again
                log.warning(
                    "source=%s stored discovery unreadable (%s): it is discovered again",
                    entry["source_id"],
                    exc,
                )
        return discovered

    def save_discovery(self, source_id: str, discovery: Discovery) -> None:
        """Keep a source's discovery (a new one replaces the last, found or not)."""
        with self._db.transaction(write=True) as conn:
            execute(
                conn,
                """
                INSERT INTO source_discovery (source_id, method, address, discovery, discovered_at)
                VALUES (:source_id, :method, :address, CAST(:discovery AS jsonb), :at)
                ON CONFLICT (source_id) DO UPDATE SET method = excluded.method, address = excluded.address,
                    discovery = excluded.discovery, discovered_at = excluded.discovered_at
                """,
                {
                    "source_id": source_id,
                    "method": discovery.method,
                    "address": discovery.address,
                    "discovery": as_json(discovery.to_dict()),
                    "at": to_pg(discovery.discovered_at or utcnow()),
                },
            )


def _save_state(conn: Connection, health: SourceHealthState) -> None:
    execute(
        conn,
        """
        INSERT INTO source_state (source_id, failure_score, disabled_at, disabled_reason, latency_ms,
            items_found, avg_items, runs, low_volume, updated_at)
        VALUES (:source_id, :failure_score, :disabled_at, :disabled_reason, :latency_ms, :items_found,
            :avg_items, :runs, :low_volume, :now)
        ON CONFLICT (source_id) DO UPDATE SET failure_score = excluded.failure_score,
            disabled_at = excluded.disabled_at, disabled_reason = excluded.disabled_reason,
            latency_ms = excluded.latency_ms, items_found = excluded.items_found,
            avg_items = excluded.avg_items, runs = excluded.runs, low_volume = excluded.low_volume,
            updated_at = excluded.updated_at
        """,
        {
            "source_id": health.source_id,
            "failure_score": float(health.failure_score),
            "disabled_at": to_pg(health.disabled_at),
            "disabled_reason": health.disabled_reason,
            "latency_ms": health.latency_ms,
            "items_found": health.items_found,
            "avg_items": health.avg_items,
            "runs": health.runs,
            "low_volume": bool(health.low_volume),
            "now": to_pg(utcnow()),
        },
    )


def _to_state(entry: Mapping[str, Any]) -> SourceHealthState:
    return SourceHealthState(
        source_id=entry["source_id"],
        failure_score=float(entry["failure_score"]),
        disabled_at=from_pg(entry["disabled_at"]),
        disabled_reason=entry["disabled_reason"],
        latency_ms=entry["latency_ms"],
        items_found=int(entry["items_found"]),
        avg_items=entry["avg_items"],
        runs=int(entry["runs"]),
        low_volume=bool(entry["low_volume"]),
    )
