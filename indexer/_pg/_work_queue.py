"""The work queue on PostgreSQL: leases on due work, claimed by any number of workers, and the workers' registry.

A piece of work is a ``(kind, key)`` pair: ("crawl", source id), ("tag", article id),
("index", cluster target), ("digest", subscriber id)… What is due is the caller's to
say (the schedule, the articles awaiting tags, the cluster ledger, the digest ledger);
this component only makes sure each piece is worked on by one worker at a time:

* :meth:`PgWorkQueue.claim`, in one transaction, offers the due keys (``INSERT … ON
  CONFLICT DO NOTHING``, in key order: the only statement that may wait for another
  claim, always in the same order, so claims never deadlock), then takes up to ``limit``
  of those that are free or whose lease expired with ``SELECT … FOR UPDATE SKIP
  LOCKED``: a key another worker is claiming at that instant is skipped, never waited
  for, and never given to two workers.
* A lease runs until ``leased_until``; the worker's heartbeat (:meth:`heartbeat`) moves
  it on while the work runs. A worker that dies stops renewing, its leases expire, and
  the next claim of those keys takes them over (``attempts`` then counts 2 or more).
* :meth:`release` deletes the row when the work is done (or given up): the table holds
  only what is offered or in flight.

Every time is the server's ``now()``, so workers on hosts whose clocks differ agree on
when a lease expires. Consumers stay idempotent all the same (upserts keyed on the
canonical URL, the digest ledger's exactly-once protocol): a lease keeps two workers
from doing one piece of work at once; it cannot undo work a dead worker half did.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from .._types import Lease, WorkerInfo
from ._database import PgDatabase, as_json, execute, from_pg, rows

log = logging.getLogger(__name__)


class PgWorkQueue:
    """Leases on due work ("work_leases") and the live workers ("workers") in one PostgreSQL database."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    # -- work ------------------------------------------------------------------------------

    def claim(
        self, kind: str, keys: Sequence[str], worker_id: str, lease_seconds: float, limit: int
    ) -> list[Lease]:
        """Lease up to ``limit`` of ``keys`` (due work of ``kind``) to ``worker_id``; return what it got.

        A key held by another worker under an unexpired lease, or being claimed by one at
        this instant, is skipped. An expired lease is taken over (its ``previous_worker``
        says whose it was). Offered keys of ``kind`` that are no longer due and free are
        dropped on the way.
        """
        wanted = sorted(set(keys))
        if not wanted or limit <= 0:
            return []
        with self._db.transaction(write=True) as conn:
            execute(
                conn,
                "INSERT INTO work_leases (kind, key) SELECT :kind, k FROM unnest(CAST(:keys AS text[])) AS k "
                "ORDER BY k ON CONFLICT (kind, key) DO NOTHING",
                {"kind": kind, "keys": wanted},
            )
            found = rows(
                conn,
                """
                WITH free AS (
                    SELECT kind, key, worker_id AS previous_worker FROM work_leases
                    WHERE kind = :kind AND key = ANY(CAST(:keys AS text[]))
                        AND (worker_id IS NULL OR leased_until < now())
                    ORDER BY key LIMIT :limit
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE work_leases w SET worker_id = :worker, claimed_at = now(),
                    leased_until = now() + make_interval(secs => :lease), attempts = w.attempts + 1
                FROM free WHERE w.kind = free.kind AND w.key = free.key
                RETURNING w.key, w.leased_until, w.attempts, free.previous_worker
                """,
                {
                    "kind": kind,
                    "keys": wanted,
                    "worker": worker_id,
                    "lease": float(lease_seconds),
                    "limit": limit,
                },
            )
            # Offered keys no longer due (done by another worker, or no longer scheduled): drop them,
            # skipping any a concurrent claim holds locked.
            execute(
                conn,
                """
                DELETE FROM work_leases WHERE (kind, key) IN (
                    SELECT kind, key FROM work_leases
                    WHERE kind = :kind AND NOT (key = ANY(CAST(:keys AS text[])))
                        AND (worker_id IS NULL OR leased_until < now())
                    FOR UPDATE SKIP LOCKED
                )
                """,
                {"kind": kind, "keys": wanted},
            )
        leases = [
            Lease(
                kind=kind,
                key=entry["key"],
                worker_id=worker_id,
                leased_until=from_pg(entry["leased_until"]),  # type: ignore[arg-type]
                attempts=int(entry["attempts"]),
                previous_worker=entry["previous_worker"] or "",
            )
            for entry in found
        ]
        return sorted(leases, key=lambda lease: lease.key)

    def release(self, kind: str, keys: Sequence[str], worker_id: str) -> int:
        """Drop ``worker_id``'s leases on ``keys`` (done or given up); return how many it still held.

        Fewer than asked means a lease expired and another worker took the work over.
        """
        if not keys:
            return 0
        with self._db.transaction(write=True) as conn:
            return execute(
                conn,
                "DELETE FROM work_leases WHERE kind = :kind AND key = ANY(CAST(:keys AS text[])) "
                "AND worker_id = :worker",
                {"kind": kind, "keys": list(keys), "worker": worker_id},
            )

    def leases(self, worker_id: str | None = None) -> list[Lease]:
        """The leases held (expired or not), by kind and key; only ``worker_id``'s when given."""
        sql = (
            "SELECT kind, key, worker_id, leased_until, attempts FROM work_leases WHERE worker_id IS NOT NULL"
        )
        params: dict[str, Any] = {}
        if worker_id is not None:
            sql += " AND worker_id = :worker"
            params["worker"] = worker_id
        with self._db.transaction(write=False) as conn:
            found = rows(conn, sql + " ORDER BY kind, key", params)
        return [
            Lease(
                kind=entry["kind"],
                key=entry["key"],
                worker_id=entry["worker_id"],
                leased_until=from_pg(entry["leased_until"]),  # type: ignore[arg-type]
                attempts=int(entry["attempts"]),
            )
            for entry in found
        ]

    # -- workers ---------------------------------------------------------------------------

    def register(self, worker_id: str, host: str, pid: int, roles: Sequence[str]) -> None:
        """Record a worker as started now (its heartbeat too); drop the rows of workers silent for a day.

        A worker killed leaves its row (`regwatch workers --all` shows it stale); a day on, it goes.
        """
        with self._db.transaction(write=True) as conn:
            execute(conn, "DELETE FROM workers WHERE heartbeat_at < now() - interval '1 day'")
            execute(
                conn,
                """
                INSERT INTO workers (worker_id, host, pid, roles, started_at, heartbeat_at)
                VALUES (:worker, :host, :pid, CAST(:roles AS jsonb), now(), now())
                ON CONFLICT (worker_id) DO UPDATE SET host = excluded.host, pid = excluded.pid,
                    roles = excluded.roles, started_at = excluded.started_at,
                    heartbeat_at = excluded.heartbeat_at, stopping = false, current_work = ''
                """,
                {"worker": worker_id, "host": host, "pid": pid, "roles": as_json(list(roles))},
            )

    def heartbeat(
        self, worker_id: str, lease_seconds: float, current_work: str = "", stopping: bool = False
    ) -> int:
        """Say the worker is alive and what it works on, and renew its leases; return how many it holds."""
        with self._db.transaction(write=True) as conn:
            execute(
                conn,
                "UPDATE workers SET heartbeat_at = now(), current_work = :work, stopping = :stopping "
                "WHERE worker_id = :worker",
                {"worker": worker_id, "work": current_work, "stopping": stopping},
            )
            return execute(
                conn,
                "UPDATE work_leases SET leased_until = now() + make_interval(secs => :lease) "
                "WHERE worker_id = :worker",
                {"worker": worker_id, "lease": float(lease_seconds)},
            )

    def unregister(self, worker_id: str) -> int:
        """Remove a stopping worker and release whatever it still holds; return the leases released."""
        with self._db.transaction(write=True) as conn:
            released = execute(
                conn, "DELETE FROM work_leases WHERE worker_id = :worker", {"worker": worker_id}
            )
            execute(conn, "DELETE FROM workers WHERE worker_id = :worker", {"worker": worker_id})
        return released

    def workers(self, stale_after: float) -> list[WorkerInfo]:
        """Every registered worker, the live first; ``live``: a heartbeat within ``stale_after`` seconds."""
        with self._db.transaction(write=False) as conn:
            found = rows(
                conn,
                """
                SELECT worker_id, host, pid, roles, started_at, heartbeat_at, stopping, current_work,
                    heartbeat_at >= now() - make_interval(secs => :stale) AS live
                FROM workers ORDER BY live DESC, started_at, worker_id
                """,
                {"stale": float(stale_after)},
            )
        return [
            WorkerInfo(
                worker_id=entry["worker_id"],
                host=entry["host"],
                pid=int(entry["pid"]),
                roles=list(entry["roles"]),
                started_at=from_pg(entry["started_at"]),  # type: ignore[arg-type]
                heartbeat_at=from_pg(entry["heartbeat_at"]),  # type: ignore[arg-type]
                stopping=bool(entry["stopping"]),
                current_work=entry["current_work"],
                live=bool(entry["live"]),
            )
            for entry in found
        ]
