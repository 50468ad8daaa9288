"""Per-source crawl history and health state: the store's ``source_states`` component.

Three tables: ``crawl_runs``, one row per source per run (what it fetched, stored
and failed on; :meth:`SqliteSourceStates.health` reads the latest run, the last
success and the failures since), ``source_state``, what source health carries
from run to run (the weighted failure score that disables a source, its volume
average, its last index latency), and ``source_discovery``, how each ``auto``
source is followed: the :class:`~regwatch.models.Discovery` its last discovery
made (method, address, learned pattern, why, what it turned down).
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from regwatch.errors import SOURCE_ERROR_CLASSES
from regwatch.models import CrawlStats, Discovery, utcnow

from ._database import Database
from ._schema import from_db, to_db
from ._types import SourceHealth

log = logging.getLogger(__name__)

# "timeout: ...", "[timeout] ...", "timeout - ..." name the error class of a crawl error message.
_ERROR_CLASS_RE = re.compile(r"^\s*\[?(" + "|".join(SOURCE_ERROR_CLASSES) + r")\b\]?", re.IGNORECASE)


def _error_class(message: str) -> str:
    found = _ERROR_CLASS_RE.match(message)
    return found.group(1).lower() if found else "other"


@dataclass
class SourceState:
    """A source's health state between runs (see ``source_state`` in the schema)."""

    source_id: str
    failure_score: float = 0.0
    disabled_at: datetime | None = None
    disabled_reason: str = ""
    latency_ms: int | None = None
    items_found: int = 0
    avg_items: float | None = None  # moving average of items listed per successful run
    runs: int = 0  # successful runs in that average
    low_volume: bool = False


class SqliteSourceStates:
    """Each source's runs and health state (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record_run(self, stats: CrawlStats, started: datetime, finished: datetime) -> None:
        """Record one run of one source.

        A run fails when it had errors and collected nothing; a run that
        collected items despite some errors succeeds, but its first error is
        still kept as the source's last error. The error class is read from the
        start of the first message ("timeout: ...", "[dns] ..."), else "other".
        """
        items = stats.new + stats.updated + stats.duplicate + stats.not_modified  # 304: known, unchanged
        had_errors = stats.errors > 0 or bool(stats.error_messages)
        ok = not (had_errors and items == 0)
        message = stats.error_messages[0] if stats.error_messages else ""
        if had_errors and not message:
            message = f"{stats.errors} errors"
        with self._db.transaction(write=True) as conn:
            conn.execute(
                """
                INSERT INTO crawl_runs (source_id, started, finished, ok, pages_fetched, new, updated,
                    duplicate, errors, error_class, error_message, error_messages)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                (
                    stats.source_id,
                    to_db(started),
                    to_db(finished),
                    int(ok),
                    stats.pages_fetched,
                    stats.new,
                    stats.updated,
                    stats.duplicate,
                    stats.errors,
                    _error_class(message) if message else "",
                    message,
                    json.dumps(list(stats.error_messages)),
                ),
            )
        if not ok:
            # The crawl already logged the failure as one WARNING line; this is the ledger's note.
            log.info("source=%s run recorded as failed: %s", stats.source_id, message)

    def health(self) -> list[SourceHealth]:
        """Per source (with runs or articles): its latest run, success, error and output."""
        with self._db.transaction(write=False) as conn:
            latest = conn.execute(
                """
                SELECT source_id, finished, new + updated + duplicate AS items,
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
                SELECT source_id, finished, error_class, error_message FROM (
                    SELECT *, row_number() OVER (PARTITION BY source_id ORDER BY started DESC, run DESC) AS nth
                    FROM crawl_runs WHERE error_message != '')
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
        for row in successes:
            of(row["source_id"]).last_success = from_db(row["finished"])
        for row in errors:
            entry = of(row["source_id"])
            entry.last_error, entry.last_error_class = row["error_message"], row["error_class"]
            entry.last_error_at = from_db(row["finished"])
        for row in failures:
            of(row["source_id"]).consecutive_failures = int(row["n"])
        for row in articles:
            entry = of(row["source_id"])
            entry.total_articles, entry.newest_item = int(row["n"]), from_db(row["newest"])
        return [health[key] for key in sorted(health)]

    def all(self) -> dict[str, SourceState]:
        with self._db.transaction(write=False) as conn:
            rows = conn.execute("SELECT * FROM source_state").fetchall()
        return {row["source_id"]: _to_state(row) for row in rows}

    def get(self, source_id: str) -> SourceState:
        with self._db.transaction(write=False) as conn:
            row = conn.execute("SELECT * FROM source_state WHERE source_id = ?", (source_id,)).fetchone()
        return _to_state(row) if row is not None else SourceState(source_id)

    def save(self, state: SourceState) -> None:
        with self._db.transaction(write=True) as conn:
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
                    state.source_id,
                    state.failure_score,
                    to_db(state.disabled_at),
                    state.disabled_reason,
                    state.latency_ms,
                    state.items_found,
                    state.avg_items,
                    state.runs,
                    int(state.low_volume),
                    to_db(utcnow()),
                ),
            )

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


def _to_state(row: sqlite3.Row) -> SourceState:
    return SourceState(
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
