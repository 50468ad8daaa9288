"""One scheduler leader among any number of hosts on one PostgreSQL store.

Every host may run ``regwatch schedule``; each is a candidate for one PostgreSQL
session advisory lock (``indexer.scheduler_election``). The one that gets it
leads: it runs the APScheduler jobs, kept in the store so they exist once. The
others stand by, try again every SCHEDULER_LEADER_RETRY_SECONDS, and say who
leads. When the leader dies its session ends, PostgreSQL releases the lock and a
standby takes over at its next try; the jobs' next run times are where the dead
leader left them, its missed runs fire within SCHEDULE_MISFIRE_GRACE, and the
start-up catch-up delivers any due digest. The leader checks its lock on the
lock's own connection as often; when it is lost (the server restarted, the
session was ended, the network failed) it stops its scheduler at once and stands
by again, because another host may already lead.

A leader whose store fails it while it starts or runs the jobs (an error rather than
a lost lock) steps down the same way, rather than ending the process.

Two leaders can overlap only while a partitioned leader has not yet noticed (at
most about the check interval plus the TCP timeouts the lock's connection sets);
the digest ledger's exactly-once protocol and the store's idempotent upserts keep
even that from sending or storing anything twice.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from regwatch.app import App
from regwatch.errors import RegwatchError

logger = logging.getLogger(__name__)

Lead = Callable[[threading.Event, Callable[[], bool], float], bool]


def candidate_name() -> str:
    """How this process names itself to the other candidates: host and pid."""
    return f"scheduler {socket.gethostname()} pid {os.getpid()}"


def run_elected(app: App, lead: Lead, stop_event: threading.Event) -> None:
    """Stand by until elected, lead until stopped or the lock is lost, and repeat until ``stop_event``.

    ``lead(stop_event, still_leading, check_every)`` runs the jobs and returns True when
    stopped, False when ``still_leading()`` said no.
    """
    from indexer import scheduler_election

    retry = float(app.settings["SCHEDULER_LEADER_RETRY_SECONDS"])
    app.store  # noqa: B018 - the store's schema first: a clear error if the store is unusable
    election = scheduler_election(app.settings, candidate_name())
    logger.info(
        "%s: electing a leader through the store %s (retry every %g s)",
        election.name,
        app.store_location,
        retry,
    )
    reported: str | None = None  # the leader last logged as such, so a standby logs each change once
    try:
        while not stop_event.is_set():
            try:
                won = election.try_acquire()
            except RegwatchError as exc:
                logger.error(
                    "scheduler: cannot reach the store to elect a leader (%s); retrying in %g s", exc, retry
                )
                stop_event.wait(retry)
                continue
            if won:
                reported = None
                logger.info("%s: elected leader; running the jobs", election.name)
                try:
                    if lead(stop_event, election.holding, retry):
                        break
                    logger.warning(
                        "%s: lost the leadership (its lock's connection to the store is gone); "
                        "jobs stopped, standing by",
                        election.name,
                    )
                except (RegwatchError, SQLAlchemyError) as exc:  # the store failed the leader: step down
                    logger.error(
                        "%s: the store failed while leading (%s); jobs stopped, standing by",
                        election.name,
                        exc,
                    )
                election.release()
                stop_event.wait(retry)  # a standby's turn first: this host may be the one cut off
                continue
            leader = election.holder() or "unknown"
            if leader != reported:
                logger.info(
                    "%s: standing by; the leader is %s; trying again every %g s",
                    election.name,
                    leader,
                    retry,
                )
                reported = leader
            stop_event.wait(retry)
    finally:
        election.close()


def while_no_leader(app: App, action: Callable[[], None]) -> bool:
    """Run ``action`` holding the leadership if no scheduler leads now; False (not run) if one does."""
    from indexer import scheduler_election

    election = scheduler_election(app.settings, f"{candidate_name()} (listing jobs)")
    try:
        if not election.try_acquire():
            return False
        action()
        return True
    finally:
        election.close()
