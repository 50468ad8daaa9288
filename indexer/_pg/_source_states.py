"""Per-source crawl history and health state on PostgreSQL: the ``source_states`` component.

The same two tables and rules as ``indexer._source_states`` (a run fails when it
had errors and collected nothing; the error class is read from the first message).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from regwatch.models import CrawlStats, utcnow

from .._source_states import SourceState, _error_class
from .._types import SourceHealth
from ._database import PgDatabase, as_json, execute, from_pg, row, rows, to_pg

log = logging.getLogger(__name__)


class PgSourceStates:
    """Each source's runs and health state."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def record_run(self, stats: CrawlStats, started: datetime, finished: datetime) -> None:
        items = stats.new + stats.updated + stats.duplicate + stats.not_modified
        had_errors = stats.errors > 0 or bool(stats.error_messages)
        ok = not (had_errors and items == 0)
        message = stats.error_messages[0] if stats.error_messages else ""
        if had_errors and not message:
            message = f"{stats.errors} errors"
        with self._db.transaction(write=True) as conn:
            execute(
                conn,
                """
                INSERT INTO crawl_runs (source_id, started, finished, ok, pages_fetched, new, updated,
                    duplicate, errors, error_class, error_message, error_messages)
                VALUES (:source_id, :started, :finished, :ok, :pages, :new, :updated, :duplicate, :errors,
                    :error_class, :message, CAST(:messages AS jsonb))
                """,
                {
                    "source_id": stats.source_id,
                    "started": to_pg(started),
                    "finished": to_pg(finished),
                    "ok": ok,
                    "pages": stats.pages_fetched,
                    "new": stats.new,
                    "updated": stats.updated,
                    "duplicate": stats.duplicate,
                    "errors": stats.errors,
                    "error_class": _error_class(message) if message else "",
                    "message": message,
                    "messages": as_json(list(stats.error_messages)),
                },
            )
        if not ok:
            log.info("source=%s run recorded as failed: %s", stats.source_id, message)

    def health(self) -> list[SourceHealth]:
        """Per source (with runs or articles): its latest run, success, error and output."""
        with self._db.transaction(write=False) as conn:
            latest = rows(
                conn,
                """
                SELECT DISTINCT ON (source_id) source_id, finished, new + updated + duplicate AS items
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
                SELECT DISTINCT ON (source_id) source_id, finished, error_class, error_message
                FROM crawl_runs WHERE error_message != '' ORDER BY source_id, started DESC, run DESC
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
        for entry in successes:
            of(entry["source_id"]).last_success = from_pg(entry["finished"])
        for entry in errors:
            found = of(entry["source_id"])
            found.last_error, found.last_error_class = entry["error_message"], entry["error_class"]
            found.last_error_at = from_pg(entry["finished"])
        for entry in failures:
            of(entry["source_id"]).consecutive_failures = int(entry["n"])
        for entry in articles:
            found = of(entry["source_id"])
            found.total_articles, found.newest_item = int(entry["n"]), from_pg(entry["newest"])
        return [health[key] for key in sorted(health)]

    def all(self) -> dict[str, SourceState]:
        with self._db.transaction(write=False) as conn:
            found = rows(conn, "SELECT * FROM source_state")
        return {entry["source_id"]: _to_state(entry) for entry in found}

    def get(self, source_id: str) -> SourceState:
        with self._db.transaction(write=False) as conn:
            entry = row(conn, "SELECT * FROM source_state WHERE source_id = :id", {"id": source_id})
        return _to_state(entry) if entry is not None else SourceState(source_id)

    def save(self, state: SourceState) -> None:
        with self._db.transaction(write=True) as conn:
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
                    "source_id": state.source_id,
                    "failure_score": float(state.failure_score),
                    "disabled_at": to_pg(state.disabled_at),
                    "disabled_reason": state.disabled_reason,
                    "latency_ms": state.latency_ms,
                    "items_found": state.items_found,
                    "avg_items": state.avg_items,
                    "runs": state.runs,
                    "low_volume": bool(state.low_volume),
                    "now": to_pg(utcnow()),
                },
            )


def _to_state(entry: Mapping[str, Any]) -> SourceState:
    return SourceState(
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
