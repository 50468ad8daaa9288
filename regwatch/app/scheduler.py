"""`regwatch schedule`: APScheduler 3.x in the foreground.

Jobs live in a persistent SQLAlchemy job store in the home dir
(``scheduler.db``): one crawl job per enabled source on its schedule (a source
turned off in its state, by ops or after repeated failures, is skipped when its
job fires), one digest job per subscriber (the config's and the web desk's, the
latter followed every SCHEDULE_JOB_SYNC seconds) at their send time in their own timezone. Jobs are
module-level functions taking only strings, so the store can persist them.

* ``max_instances=1`` and ``coalesce=True``: a slow crawl never overlaps itself
  and a backlog of missed runs collapses into one.
* ``misfire_grace_time`` is SCHEDULE_MISFIRE_GRACE (default an hour, not
  APScheduler's one second), so a scheduler that was down at send time still
  sends the missed digest once when it comes back. The digest ledger makes that
  exactly once, and a catch-up pass at start-up delivers any digest that is due
  today and not yet delivered.
* A job whose definition did not change keeps its persisted next run time
  (replacing it would forget a misfire); changed or removed ones are updated.
* SQLite store: one scheduler per home dir, an exclusive lock on ``scheduler.lock``.
* PostgreSQL store: any number of hosts run ``regwatch schedule`` and one leads
  (:mod:`regwatch.app.leader`): the jobs live in the store (``scheduler_jobs``), so
  they exist once and a new leader carries on with its predecessor's next run
  times; only the leader runs a scheduler at all. A job's arguments name the
  leader's home and config, so a new leader rewrites them and keeps the run times.
* SIGTERM and SIGINT shut down cleanly, waiting for running jobs.

DST: APScheduler 3.11's CronTrigger mishandles the repeated hour of an autumn
change. Asked for the fire time after the second 01:30 of 25 Oct 2026 in
Europe/London, it answers that same 01:30 again, and the scheduler's loop over
due run times never ends (tests/test_scheduler.py pins this). So digests use
:class:`LocalTimeTrigger`, which computes each subscriber's local send time with
zoneinfo (a time skipped in spring fires as the clock jumps past it, at the same
UTC instant CronTrigger picks; a repeated time fires once, at its first
occurrence), and cron crawl schedules use :class:`SteadyCronTrigger`, a
CronTrigger that always moves forward (at the autumn change an hourly crawl may
then skip the repeated hour: a crawl less, never a stalled scheduler).

Just over 500 lines, on purpose: the job store persists each job by reference to
this module (``regwatch.app.scheduler:crawl_job``, and the pickled trigger's class
``regwatch.app.scheduler.LocalTimeTrigger``), so the job functions and the triggers
stay here, beside the scheduler that writes them; moving them would orphan every
job already stored. The leader election is :mod:`regwatch.app.leader`'s.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import pickle
import signal
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from time import monotonic
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from regwatch.app import App, pipeline
from regwatch.errors import ConfigError, RegwatchError
from regwatch.models import WEEKDAYS, Subscriber
from regwatch.private import private_file
from regwatch.sources import schedule_trigger_args

logger = logging.getLogger(__name__)

JOBSTORE_FILE = "scheduler.db"
LOCK_FILE = "scheduler.lock"
CRAWL_LEASE_MARGIN = 60.0  # seconds past CRAWL_PROCESS_TIMEOUT: the cycle's stories, tags and index after it


@contextlib.contextmanager
def _crawl_lease(app: App, source_id: str) -> Iterator[bool]:
    """On a PostgreSQL store, hold the source's crawl lease as a worker would (True), or yield
    False when a `regwatch worker` holds it: a source is never crawled by two processes at once.

    The lease lasts as long as a crawl may (CRAWL_PROCESS_TIMEOUT, after which the crawl
    subprocess is killed) and is released when the cycle ends. SQLite: always True.
    """
    queue = app.store.work_queue if app.store_engine == "postgresql" else None
    if queue is None:
        yield True
        return
    holder = f"scheduler {socket.gethostname()} pid {os.getpid()}"
    lease = float(app.settings["CRAWL_PROCESS_TIMEOUT"]) + CRAWL_LEASE_MARGIN
    if not queue.claim("crawl", [source_id], holder, lease, 1):
        logger.info("crawl %s skipped: a worker is crawling it now", source_id)
        yield False
        return
    try:
        yield True
    finally:
        queue.release("crawl", [source_id], holder)


def crawl_job(home: str, config_path: str | None, source_id: str) -> None:
    """Scheduled: the crawl cycle of one source (crawl in a subprocess, stories, tag, index, alerts)."""
    try:
        with App.load(home, config_path) as app, _crawl_lease(app, source_id) as ours:
            if not ours:
                return
            # A source turned off (by ops on the desk, or after repeated hard failures) is skipped.
            summary = pipeline.crawl_cycle(app, [source_id], skip_disabled=True)
            for alert in summary.alerts:
                logger.info("alert %s: %s (%d items)", alert.subscriber_id, alert.status, alert.items)
            for s in summary.crawl:
                logger.info(
                    "crawl %s: %d fetched, %d new, %d updated, %d errors",
                    s.source_id,
                    s.pages_fetched,
                    s.new,
                    s.updated,
                    s.errors,
                )
    except RegwatchError as exc:
        logger.error("crawl %s failed: %s", source_id, exc)


def digest_job(home: str, config_path: str | None, subscriber_id: str) -> None:
    """Scheduled: deliver the subscriber's digest if due and not yet delivered."""
    try:
        with App.load(home, config_path) as app:
            for outcome in pipeline.deliver_digests(app, subscriber_ids=[subscriber_id]):
                logger.info("digest %s %s: %s", outcome.subscriber_id, outcome.period, outcome.status)
    except RegwatchError as exc:
        logger.error("digest %s failed: %s", subscriber_id, exc)


def digest_sweep_job(home: str, config_path: str | None) -> None:
    """Scheduled every SCHEDULE_DIGEST_SWEEP minutes: resend pending digests, send any due one.

    A digest left pending by a transient SMTP failure goes out as soon as the
    server is back, not at the next send time; and a send time that a trigger
    missed for any reason is caught within one sweep. The ledger keeps it once.
    """
    try:
        with App.load(home, config_path) as app:
            for outcome in pipeline.deliver_digests(app):
                if outcome.status not in ("already-delivered", "already-failed"):
                    logger.info("digest %s %s: %s", outcome.subscriber_id, outcome.period, outcome.status)
    except RegwatchError as exc:
        logger.error("digest sweep failed: %s", exc)


class LocalTimeTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3.x ships no types
    """Fires at ``hour:minute`` wall-clock time in ``timezone`` on the given weekdays (0 = Monday).

    Exactly one fire per such local date, strictly after the previous one: a
    time the spring change skips fires when the clock jumps past it (01:30 in
    London on the last Sunday of March fires at 02:30 BST, 01:30 UTC); a time the
    autumn change repeats fires at its first occurrence only.
    """

    def __init__(
        self, hour: int, minute: int, timezone: str, weekdays: tuple[int, ...] = tuple(range(7))
    ) -> None:
        self.hour = int(hour)
        self.minute = int(minute)
        self.timezone = str(timezone)
        self.weekdays = tuple(sorted(set(weekdays)))
        if not self.weekdays:
            raise ConfigError("a digest trigger needs at least one weekday")
        ZoneInfo(self.timezone)  # fail early on a bad zone

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        start = now
        if previous_fire_time is not None:
            start = min(now, previous_fire_time + timedelta(microseconds=1))
        zone = ZoneInfo(self.timezone)
        day = start.astimezone(zone).date() - timedelta(days=1)
        for offset in range(9):
            candidate = day + timedelta(days=offset)
            if candidate.weekday() not in self.weekdays:
                continue
            # fold=0: a repeated time is its first occurrence, a skipped one keeps the old offset.
            fire = datetime.combine(candidate, time(self.hour, self.minute), tzinfo=zone).astimezone(UTC)
            if fire >= start and (previous_fire_time is None or fire > previous_fire_time):
                return fire.astimezone(zone)
        return None  # pragma: no cover - nine days always hold one of the weekdays

    def __str__(self) -> str:
        days = "daily" if len(self.weekdays) == 7 else ",".join(WEEKDAYS[d] for d in self.weekdays)
        return f"local[{days} {self.hour:02d}:{self.minute:02d} {self.timezone}]"

    def __repr__(self) -> str:
        return f"<LocalTimeTrigger ({self})>"


class SteadyCronTrigger(CronTrigger):  # type: ignore[misc]  # APScheduler 3.x ships no types
    """A CronTrigger whose next fire time is always after the previous one (see the module docstring)."""

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        fire: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        step = timedelta(seconds=1)
        while fire is not None and previous_fire_time is not None and fire <= previous_fire_time:
            if step > timedelta(days=8):  # never seen; better a job that stops than a scheduler that spins
                logger.error("cron trigger %s found no fire time after %s", self, previous_fire_time)
                return None
            fire = super().get_next_fire_time(None, previous_fire_time + step)
            step *= 2
        return fire


def digest_trigger(subscriber: Subscriber) -> LocalTimeTrigger:
    """The subscriber's send time on the days of their cadence (``digests.send_days``), in their timezone."""
    from digests import send_days, send_time

    hour, minute = send_time(subscriber)
    return LocalTimeTrigger(hour, minute, subscriber.timezone, send_days(subscriber))


def stored_jobs(home: Path, settings: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The jobs in the job store and their next run times, read without starting a scheduler.

    The job store is the home dir's file, or with a PostgreSQL store (``settings``'
    STORE_URL) the store's table, which the leader keeps. The web desk's ops console
    shows them; ``regwatch schedule --list`` instead brings the job store in line
    with the config first. No job store yet: no jobs.
    """
    if settings is not None and str(settings.get("STORE_URL", "") or "").strip():
        rows = _postgresql_job_rows(settings)
    else:
        rows = _sqlite_job_rows(home / JOBSTORE_FILE)
    jobs = []
    for job_id, next_run, state in rows:
        try:
            # our own 0600 file or our store's table, as APScheduler reads it
            trigger = str(pickle.loads(state).get("trigger", ""))
        except Exception:  # noqa: BLE001 - a job pickled by another version: show it without its trigger
            trigger = ""
        when = datetime.fromtimestamp(next_run, UTC).isoformat() if next_run is not None else None
        jobs.append({"id": job_id, "next_run_time": when, "trigger": trigger})
    return jobs


def _sqlite_job_rows(path: Path) -> list[tuple[str, float | None, bytes]]:
    import sqlite3

    if not path.exists():
        return []
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            return list(conn.execute("SELECT id, next_run_time, job_state FROM apscheduler_jobs ORDER BY id"))
    except sqlite3.Error as exc:
        logger.warning("scheduler job store %s is unreadable: %s", path, exc)
        return []


def _postgresql_job_rows(settings: Mapping[str, Any]) -> list[tuple[str, float | None, bytes]]:
    import sqlalchemy
    from sqlalchemy import exc as sa_exc

    from indexer import scheduler_job_store

    engine, table = scheduler_job_store(settings)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                sqlalchemy.text(f"SELECT id, next_run_time, job_state FROM {table} ORDER BY id")
            )
            return [(str(r[0]), r[1], bytes(r[2])) for r in found]
    except sa_exc.DBAPIError as exc:
        logger.warning("the scheduler's jobs in the store are unreadable: %s", exc.orig or exc)
        return []
    finally:
        engine.dispose()


def _shutdown(scheduler: Any, wait: bool) -> None:
    """Stop without consuming due jobs.

    APScheduler 3.11's shutdown wakes its thread, which then processes due jobs
    once more with the executors already shut down: the submit fails, yet the
    job's next run time is advanced, so a due (e.g. missed) run would be lost.
    Pausing and detaching the job store first leaves it for the next start.
    """
    scheduler.pause()
    scheduler.remove_jobstore("default", shutdown=True)
    scheduler.shutdown(wait=wait)


class SchedulerLock:
    """An exclusive, non-blocking flock on the home dir's scheduler.lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(private_file(self.path), os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise ConfigError(
                f"another scheduler is already running on {self.path.parent} (pid {holder}); "
                "stop it first, or use another --home"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class RegwatchScheduler:
    """Builds the job list from the config and runs it."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.home = str(app.home)
        self.config_path = str(app.config.path) if app.config.path else None

    def _job_definitions(self) -> list[dict[str, Any]]:
        from apscheduler.triggers.interval import IntervalTrigger

        settings = self.app.settings
        common = {
            "max_instances": 1,
            "coalesce": True,
            "misfire_grace_time": settings["SCHEDULE_MISFIRE_GRACE"],
        }
        jobs: list[dict[str, Any]] = []
        for source in self.app.config.sources:
            if not source.enabled:
                continue
            kind, args = schedule_trigger_args(source.schedule)
            trigger: Any = (
                IntervalTrigger(**args, timezone="UTC")
                if kind == "interval"
                else SteadyCronTrigger(timezone=settings["SCHEDULE_TIMEZONE"], **args)
            )
            jobs.append(
                {
                    "id": f"crawl:{source.id}",
                    "func": crawl_job,
                    "args": [self.home, self.config_path, source.id],
                    "trigger": trigger,
                    "executor": "default",
                    **common,
                }
            )
        for subscriber in self._subscribers():  # the config's and the desk's
            jobs.append(
                {
                    "id": f"digest:{subscriber.id}",
                    "func": digest_job,
                    "args": [self.home, self.config_path, subscriber.id],
                    "trigger": digest_trigger(subscriber),
                    "executor": "digests",
                    **common,
                }
            )
        if settings["SCHEDULE_DIGEST_SWEEP"] > 0:
            jobs.append(
                {
                    "id": "digests:sweep",
                    "func": digest_sweep_job,
                    "args": [self.home, self.config_path],
                    "trigger": IntervalTrigger(minutes=settings["SCHEDULE_DIGEST_SWEEP"], timezone="UTC"),
                    "executor": "digests",
                    **common,
                }
            )
        return jobs

    @property
    def elected(self) -> bool:
        """Whether schedulers elect a leader (a PostgreSQL store) rather than lock the home dir (SQLite)."""
        return self.app.store_engine == "postgresql"

    def _build(self) -> Any:
        """A paused-to-be BackgroundScheduler on the job store: the home dir's file, or the PostgreSQL store's table."""
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        if self.elected:
            from indexer import scheduler_job_store

            self.app.store  # noqa: B018 - the store's schema (its job table) before APScheduler looks
            engine, table = scheduler_job_store(self.app.settings)
            jobstore = SQLAlchemyJobStore(engine=engine, tablename=table)
        else:
            jobstore = SQLAlchemyJobStore(
                url=f"sqlite:///{private_file(self.app.home / JOBSTORE_FILE, sqlite=True)}"
            )
        return BackgroundScheduler(
            jobstores={"default": jobstore},
            executors={"default": ThreadPoolExecutor(2), "digests": ThreadPoolExecutor(1)},
            timezone="UTC",
        )

    def _sync_jobs(self, scheduler: Any) -> None:
        """Add new jobs, update changed ones, remove ones no longer configured."""
        wanted = {job["id"]: job for job in self._job_definitions()}
        known = {job.id for job in scheduler.get_jobs()}
        for existing in scheduler.get_jobs():
            definition = wanted.get(existing.id)
            if definition is None:
                logger.info("removing job %s (no longer configured)", existing.id)
                existing.remove()
            elif type(existing.trigger) is type(definition["trigger"]) and str(existing.trigger) == str(
                definition["trigger"]
            ):
                if list(existing.args) != definition["args"]:  # another leader's home: ours, same run time
                    logger.info("job %s now runs with this host's home and config", existing.id)
                    existing.modify(args=definition["args"])
                del wanted[existing.id]  # unchanged: keep its persisted next run time
        for job_id, definition in wanted.items():
            logger.info("scheduling %s (%s)", job_id, definition["trigger"])
            if job_id not in known and definition["func"] is crawl_job:
                definition = {**definition, "next_run_time": datetime.now(UTC)}  # a new source: crawl now
            scheduler.add_job(replace_existing=True, **definition)

    def _subscribers(self) -> list[Subscriber]:
        """The config's subscribers and the desk's, read through a store opened on this thread."""
        from indexer import Store

        with Store.from_settings(self.app.settings, self.app.home) as store:
            return self.app.merged_subscribers(store).all

    def _follow_the_desk(self, scheduler: Any) -> None:
        """Bring the digest jobs in line with subscribers added, changed or removed on the web desk."""
        try:
            self._sync_jobs(scheduler)
        except RegwatchError as exc:  # a locked or unreadable store: the jobs stay, tried again next time
            logger.error("scheduler: cannot read the subscribers (%s); jobs unchanged", exc)

    def list_jobs(self) -> list[dict[str, Any]]:
        """Every job and its next run time (the job store is updated to the config).

        With PostgreSQL only the leader changes the jobs: while another scheduler leads,
        they are listed as it keeps them.
        """
        scheduler = self._build()
        scheduler.start(paused=True)
        try:
            if self.elected:
                from regwatch.app.leader import while_no_leader

                if not while_no_leader(self.app, lambda: self._sync_jobs(scheduler)):
                    logger.info("another scheduler leads: its jobs are listed as it keeps them")
            else:
                self._sync_jobs(scheduler)
            return [
                {
                    "id": job.id,
                    "next_run_time": job.next_run_time.isoformat() if job.next_run_time else None,
                    "trigger": str(job.trigger),
                }
                for job in sorted(scheduler.get_jobs(), key=lambda j: j.id)
            ]
        finally:
            _shutdown(scheduler, wait=False)

    def run_forever(self, stop_event: threading.Event | None = None) -> None:
        """Run until SIGTERM/SIGINT (or ``stop_event`` is set), then shut down cleanly.

        SQLite: the home dir's lock, or a ConfigError when another scheduler holds it.
        PostgreSQL: stand by until elected, lead while the lock holds, stand by again if it is lost.
        """
        lock = None if self.elected else SchedulerLock(self.app.home / LOCK_FILE)
        if lock is not None:
            lock.acquire()
        stop_event = stop_event or threading.Event()

        def stop(signum: int, _frame: Any) -> None:
            logger.info("received %s: shutting down after running jobs finish", signal.Signals(signum).name)
            stop_event.set()

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
        try:
            if lock is None:
                from regwatch.app.leader import run_elected

                run_elected(self.app, self.lead, stop_event)
            else:
                self.lead(stop_event, still_leading=lambda: True)
        finally:
            if lock is not None:
                lock.release()
            logger.info("scheduler stopped")

    def lead(
        self, stop_event: threading.Event, still_leading: Callable[[], bool], check_every: float = 0
    ) -> bool:
        """Run the jobs until ``stop_event`` is set (True) or ``still_leading()`` says no (False).

        ``still_leading`` is asked every ``check_every`` seconds (0: never); on a False the
        scheduler stops at once, without waiting for running jobs (the new leader may be
        starting its own), and leaves the due ones in the job store for whoever leads next.
        """
        scheduler = self._build()
        leading = True
        try:
            scheduler.start(paused=True)
            self._sync_jobs(scheduler)
            for subscriber in self._subscribers():  # catch up on digests missed while down
                digest_job(self.home, self.config_path, subscriber.id)
            for job in scheduler.get_jobs():
                logger.info("job %s next run %s", job.id, job.next_run_time)
            scheduler.resume()
            logger.info("scheduler running on %s with %d job(s)", self.app.home, len(scheduler.get_jobs()))
            sync_every = float(self.app.settings["SCHEDULE_JOB_SYNC"])
            tick = min(sync_every, check_every) if check_every > 0 else sync_every
            next_sync = monotonic() + sync_every
            while not stop_event.wait(tick):
                if check_every > 0 and not still_leading():
                    leading = False
                    break
                if monotonic() >= next_sync:
                    self._follow_the_desk(scheduler)
                    next_sync = monotonic() + sync_every
        finally:
            if scheduler.running:
                _shutdown(scheduler, wait=leading)
        return leading
