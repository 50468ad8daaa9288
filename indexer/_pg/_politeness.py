"""Per-domain politeness for a fleet of crawl processes: slots, pace and backoff in PostgreSQL.

A :class:`PgDomainPacer` is the :class:`~regwatch.models.DomainPacer` the crawl's
middleware asks before each request. One claim is one short transaction:

1. the domain's ``domain_pace`` row is created if new and locked (``FOR UPDATE``), so
   the claims on one domain take turns while other domains' go on in parallel;
2. a backoff still running (``backoff_until``, from a 429/503's Retry-After) or a
   next request not yet due (``next_allowed_at``) is a wait, with its length;
3. else the lowest free slot below the claimer's concurrency (``domain_slots``: no
   holder, or its lease ran out) is taken for ``lease`` seconds with
   ``FOR UPDATE SKIP LOCKED``, and the next request is due ``delay`` from now.

Every time is the server's (``clock_timestamp()``), so hosts whose clocks differ
agree on whose turn it is. A release clears the slot only if the releaser still
holds it: after an expired lease another process may.
"""

from __future__ import annotations

import logging
from datetime import datetime

from regwatch.models import DomainTurn

from ._database import PgDatabase, execute, row

log = logging.getLogger(__name__)

POLL = 0.2  # seconds: the longest a claimer waits before asking again while every slot is taken
_MIN_WAIT = 0.01

_TAKE_SLOT = """
UPDATE domain_slots SET holder = :holder, until = :now + make_interval(secs => :lease)
WHERE (domain, slot) = (
    SELECT domain, slot FROM domain_slots
    WHERE domain = :domain AND slot < :concurrency AND until <= :now
    ORDER BY slot LIMIT 1 FOR UPDATE SKIP LOCKED
)
RETURNING slot
"""

_BACK_OFF = """
INSERT INTO domain_pace (domain, backoff_until, backoff_reason)
VALUES (:domain, clock_timestamp() + make_interval(secs => :seconds), :reason)
ON CONFLICT (domain) DO UPDATE SET
    backoff_until = greatest(domain_pace.backoff_until, excluded.backoff_until),
    backoff_reason = CASE WHEN excluded.backoff_until > domain_pace.backoff_until
                          THEN excluded.backoff_reason ELSE domain_pace.backoff_reason END
"""


def _seconds(later: datetime, now: datetime) -> float:
    return max(_MIN_WAIT, (later - now).total_seconds())


class PgDomainPacer:
    """Domain slots, pace and backoff on one PostgreSQL store (see the module docstring)."""

    def __init__(self, db: PgDatabase, *, owns_db: bool = False) -> None:
        self.db = db
        self._owns_db = owns_db

    def claim(self, domain: str, holder: str, *, concurrency: int, delay: float, lease: float) -> DomainTurn:
        concurrency = max(1, int(concurrency))
        with self.db.transaction(write=True) as conn:
            execute(
                conn,
                "INSERT INTO domain_pace (domain) VALUES (:domain) ON CONFLICT DO NOTHING",
                {"domain": domain},
            )
            pace = row(
                conn,
                "SELECT clock_timestamp() AS now, next_allowed_at, backoff_until FROM domain_pace"
                " WHERE domain = :domain FOR UPDATE",
                {"domain": domain},
            )
            assert pace is not None
            now: datetime = pace["now"]
            if pace["backoff_until"] > now:
                return DomainTurn(None, _seconds(pace["backoff_until"], now), "backoff")
            if pace["next_allowed_at"] > now:
                return DomainTurn(None, _seconds(pace["next_allowed_at"], now), "delay")
            execute(
                conn,
                "INSERT INTO domain_slots (domain, slot) SELECT :domain, generate_series(0, :last)"
                " ON CONFLICT DO NOTHING",
                {"domain": domain, "last": concurrency - 1},
            )
            params = {"domain": domain, "holder": holder, "now": now, "lease": float(lease)}
            taken = row(conn, _TAKE_SLOT, {**params, "concurrency": concurrency})
            if taken is None:
                freed = row(
                    conn,
                    "SELECT min(until) AS until FROM domain_slots WHERE domain = :domain AND slot < :concurrency",
                    {"domain": domain, "concurrency": concurrency},
                )
                soonest = freed["until"] if freed and freed["until"] is not None else now
                return DomainTurn(None, min(POLL, _seconds(soonest, now)), "busy")
            if delay > 0:
                execute(
                    conn,
                    "UPDATE domain_pace SET next_allowed_at = :now + make_interval(secs => :delay)"
                    " WHERE domain = :domain",
                    {"domain": domain, "now": now, "delay": float(delay)},
                )
            return DomainTurn(int(taken["slot"]))

    def release(self, domain: str, slot: int, holder: str) -> None:
        with self.db.transaction(write=True) as conn:
            execute(
                conn,
                "UPDATE domain_slots SET holder = '', until = '1970-01-01 00:00:00+00'"
                " WHERE domain = :domain AND slot = :slot AND holder = :holder",
                {"domain": domain, "slot": int(slot), "holder": holder},
            )

    def back_off(self, domain: str, seconds: float, reason: str) -> None:
        with self.db.transaction(write=True) as conn:
            execute(
                conn, _BACK_OFF, {"domain": domain, "seconds": max(0.0, float(seconds)), "reason": reason}
            )

    def close(self) -> None:
        if self._owns_db:
            self.db.close()
