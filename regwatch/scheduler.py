"""`regwatch schedule`: APScheduler 3.x in the foreground.

Jobs live in a persistent SQLAlchemy job store in the home dir
(``scheduler.db``): one crawl job per enabled source on its schedule, one digest
job per subscriber at their send time in their own timezone. Jobs are
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
* One scheduler per home dir: an exclusive lock on ``scheduler.lock``.
* SIGTERM and SIGINT shut down cleanly, waiting for running jobs.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from regwatch import pipeline
from regwatch.app import App
from regwatch.errors import ConfigError, RegwatchError

logger = logging.getLogger(__name__)

JOBSTORE_FILE = "scheduler.db"
LOCK_FILE = "scheduler.lock"


def crawl_job(home: str, config_path: str | None, source_id: str) -> None:
    """Scheduled: crawl one source (in a subprocess), then tag and index what is new."""
    try:
        with App.load(home, config_path) as app:
            stats = pipeline.crawl(app, [source_id])
            pipeline.tag_pending(app)
            pipeline.index_pending(app)
            for s in stats:
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
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
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
        from apscheduler.triggers.cron import CronTrigger
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
            kind, args = pipeline.schedule_trigger_args(source.schedule)
            trigger: Any = (
                IntervalTrigger(**args, timezone="UTC")
                if kind == "interval"
                else CronTrigger(timezone=settings["SCHEDULE_TIMEZONE"], **args)
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
        for subscriber in self.app.config.subscribers:
            hour, minute = subscriber.send_time.split(":")
            jobs.append(
                {
                    "id": f"digest:{subscriber.id}",
                    "func": digest_job,
                    "args": [self.home, self.config_path, subscriber.id],
                    "trigger": CronTrigger(hour=int(hour), minute=int(minute), timezone=subscriber.timezone),
                    "executor": "digests",
                    **common,
                }
            )
        return jobs

    def _build(self) -> Any:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        return BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{self.app.home / JOBSTORE_FILE}")},
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
            elif (
                str(existing.trigger) == str(definition["trigger"])
                and list(existing.args) == definition["args"]
            ):
                del wanted[existing.id]  # unchanged: keep its persisted next run time
        for job_id, definition in wanted.items():
            logger.info("scheduling %s (%s)", job_id, definition["trigger"])
            if job_id not in known and definition["func"] is crawl_job:
                definition = {**definition, "next_run_time": datetime.now(UTC)}  # a new source: crawl now
            scheduler.add_job(replace_existing=True, **definition)

    def list_jobs(self) -> list[dict[str, Any]]:
        """Every job and its next run time (the job store is updated to the config)."""
        scheduler = self._build()
        scheduler.start(paused=True)
        try:
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
        """Run until SIGTERM/SIGINT (or ``stop_event`` is set), then shut down cleanly."""
        lock = SchedulerLock(self.app.home / LOCK_FILE)
        lock.acquire()
        stop_event = stop_event or threading.Event()

        def stop(signum: int, _frame: Any) -> None:
            logger.info("received %s: shutting down after running jobs finish", signal.Signals(signum).name)
            stop_event.set()

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
        scheduler = self._build()
        try:
            scheduler.start(paused=True)
            self._sync_jobs(scheduler)
            for subscriber in self.app.config.subscribers:  # catch up on digests missed while down
                digest_job(self.home, self.config_path, subscriber.id)
            for job in scheduler.get_jobs():
                logger.info("job %s next run %s", job.id, job.next_run_time)
            scheduler.resume()
            logger.info("scheduler running on %s with %d job(s)", self.app.home, len(scheduler.get_jobs()))
            while not stop_event.wait(1.0):
                pass
        finally:
            if scheduler.running:
                _shutdown(scheduler, wait=True)
            lock.release()
            logger.info("scheduler stopped")
