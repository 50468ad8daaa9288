"""`regwatch worker`: one of any number of processes, on any hosts, sharing the due work through PostgreSQL.

A worker loops over its roles in the crawl cycle's order, claiming each piece of
due work from the store's work queue (``indexer.WorkQueue``: ``SELECT … FOR UPDATE
SKIP LOCKED`` and a lease of WORKER_LEASE_SECONDS), doing it with the pipeline's
own steps, and releasing it:

``crawl``    due sources (schedule and crawl ledger, as `regwatch run` reads them), up to
             WORKER_CRAWL_BATCH per crawl subprocess (``pipeline.crawl``)
``tag``      untagged articles, WORKER_TAG_BATCH at a time (``pipeline.tag_batch``)
``index``    stories, then the cluster's pending documents, one worker per cluster at a
             time (``pipeline.assign_stories``, ``pipeline.index_pending``)
``deliver``  immediate alerts and each subscriber's due digest (``pipeline.send_alerts``,
             ``pipeline.deliver_digests``: the digest ledger's exactly-once protocol)

What is due is read again once claimed (a source's last run, an article's tags), so
work another worker finished just before is not done twice. A heartbeat thread
renews the worker's leases and its row in ``workers`` every third of a lease; a
worker that dies stops renewing, and once its leases expire another takes the work
over. A crawl subprocess dies with its worker (``crawlers._parent_watch``), so a
killed worker leaves no crawl writing behind the one that took over.

SIGTERM or SIGINT: the current piece of work finishes, the worker releases what it
holds, leaves ``workers`` and exits; a second signal stops it at once (leases still
released). ``once``: work until nothing due is free to claim, then exit.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Any

from regwatch.app import pipeline
from regwatch.errors import ConfigError, RegwatchError
from regwatch.models import COUNTERS, CrawlStats

if TYPE_CHECKING:
    from indexer import Lease, WorkQueue
    from regwatch.app import App

logger = logging.getLogger(__name__)

ROLES: tuple[str, ...] = ("crawl", "tag", "index", "deliver")
TAG_WINDOW = 2  # untagged articles read per claim, in batches: others may hold some of the first
NEEDS_POSTGRESQL = (
    "regwatch worker and workers share work through PostgreSQL: set STORE_URL=postgresql://user@host/db "
    "(and INDEX_URL, the search cluster); with the SQLite store, run `regwatch run` (from cron) or "
    "`regwatch schedule` in one process"
)


def work_queue_of(app: App) -> WorkQueue:
    """The store's work queue; ConfigError saying to use PostgreSQL on SQLite (checked before opening it)."""
    if app.store_engine != "postgresql":
        raise ConfigError(NEEDS_POSTGRESQL)
    queue = app.store.work_queue
    if queue is None:
        raise ConfigError(NEEDS_POSTGRESQL)
    return queue


@dataclass
class WorkerSummary:
    """What a worker did, over every pass: printed by `regwatch worker` when it stops."""

    worker_id: str = ""
    roles: list[str] = field(default_factory=list)
    passes: int = 0
    crawl: list[CrawlStats] = field(default_factory=list)
    tagged: int = 0
    tag_errors: int = 0
    watched_names: set[str] = field(default_factory=set)  # watched entities found in what it tagged
    indexed: int = 0
    digests: list[dict[str, Any]] = field(default_factory=list)
    alerts_sent: int = 0
    taken_over: list[str] = field(default_factory=list)  # "kind:key (from worker)" taken over

    def to_dict(self) -> dict[str, Any]:
        totals = {name: sum(getattr(s, name) for s in self.crawl) for name in COUNTERS}
        return {
            "worker_id": self.worker_id,
            "roles": list(self.roles),
            "passes": self.passes,
            "sources_crawled": sorted({s.source_id for s in self.crawl}),
            **totals,
            "articles_tagged": self.tagged,
            "tag_errors": self.tag_errors,
            "entities_found": len(self.watched_names),
            "watched_entities": sorted(self.watched_names),
            "indexed": self.indexed,
            "digests": list(self.digests),
            "alerts_sent": self.alerts_sent,
            "taken_over": list(self.taken_over),
        }


class Worker:
    """A worker process's loop (see the module docstring); ``run()`` it, ``stop()`` it from anywhere."""

    def __init__(self, app: App, roles: Sequence[str] = ROLES, *, worker_id: str = "") -> None:
        unknown = sorted(set(roles) - set(ROLES))
        if unknown:
            raise ConfigError(f"unknown worker role(s) {', '.join(unknown)}: choose among {', '.join(ROLES)}")
        self.app = app
        self.queue = work_queue_of(app)
        self.roles = [role for role in ROLES if role in roles] or list(ROLES)
        self.host = socket.gethostname()
        self.worker_id = worker_id or f"{self.host}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease_seconds = float(app.settings["WORKER_LEASE_SECONDS"])
        self.poll_seconds = float(app.settings["WORKER_POLL_SECONDS"])
        self.crawl_batch = int(app.settings["WORKER_CRAWL_BATCH"])
        self.tag_batch = int(app.settings["WORKER_TAG_BATCH"])
        self.summary = WorkerSummary(worker_id=self.worker_id, roles=list(self.roles))
        self._stop = threading.Event()
        self._beat_stop = threading.Event()
        self._current = ""  # what the heartbeat reports as the work in hand

    # -- the loop ------------------------------------------------------------------------------

    def run(self, once: bool = False) -> WorkerSummary:
        """Register, then claim and do due work until stopped (``once``: until none is free); return the summary."""
        self.queue.register(self.worker_id, self.host, os.getpid(), self.roles)
        logger.info(
            "worker=%s started on %s (pid %d): roles %s; leases of %gs; %s",
            self.worker_id,
            self.host,
            os.getpid(),
            ", ".join(self.roles),
            self.lease_seconds,
            "until nothing is due" if once else f"polling every {self.poll_seconds:g}s",
        )
        beat = threading.Thread(target=self._beat, name="regwatch-heartbeat", daemon=True)
        beat.start()
        try:
            with self._signals():
                while not self._stop.is_set():
                    did = self.run_pass()
                    if once and not did:
                        break
                    if not did:
                        self._stop.wait(self.poll_seconds)
        finally:
            self._beat_stop.set()
            beat.join()
            released = self.queue.unregister(self.worker_id)
            logger.info(
                "worker=%s stopped after %d pass(es)%s",
                self.worker_id,
                self.summary.passes,
                f"; released {released} unfinished lease(s)" if released else "",
            )
        return self.summary

    def stop(self) -> None:
        """Finish the current piece of work, then stop (safe from a signal handler or another thread)."""
        self._stop.set()

    def run_pass(self) -> int:
        """Each role's step once, in the crawl cycle's order; return how many pieces of work were done."""
        self.summary.passes += 1
        steps = {"crawl": self._crawl, "tag": self._tag, "index": self._index, "deliver": self._deliver}
        done = 0
        for role in self.roles:
            if self._stop.is_set():
                break
            try:
                done += steps[role]()
            except RegwatchError as exc:  # this step fails for now (store or cluster away): the others go on
                logger.error("worker=%s %s step failed: %s", self.worker_id, role, exc)
        return done

    # -- the steps -----------------------------------------------------------------------------

    def _crawl(self) -> int:
        due = pipeline.only_due(self.app, pipeline.enabled_sources(self.app, quiet=True))
        leases = self._claim("crawl", [s.id for s in due], self.crawl_batch)
        if not leases:
            return 0
        with self._holding("crawl", leases):
            # Due again by the crawl ledger, read now: a worker that crawled one just before us recorded it.
            results = pipeline.crawl(
                self.app, [lease.key for lease in leases], due_only=True, skip_disabled=True
            )
        self.summary.crawl += results
        for stats in results:
            logger.info(
                "worker=%s finished crawl of source=%s: %d new, %d updated, %d errors",
                self.worker_id,
                stats.source_id,
                stats.new,
                stats.updated,
                stats.errors,
            )
        return len(results)

    def _tag(self) -> int:
        done = 0
        version = self.app.tagger.version
        while not self._stop.is_set():
            window = self.app.store.articles.needing_tags(
                limit=self.tag_batch * TAG_WINDOW, tagger_version=version
            )
            leases = self._claim("tag", [a.id for a in window], self.tag_batch)
            if not leases:
                break
            with self._holding("tag", leases):
                claimed = [lease.key for lease in leases]
                articles = self.app.store.articles.needing_tags(tagger_version=version, among=claimed)
                outcome = pipeline.tag_batch(self.app, articles) if articles else pipeline.TagOutcome()
            self.summary.tagged += outcome.articles
            self.summary.tag_errors += outcome.failed
            self.summary.watched_names.update(outcome.watched_names)
            logger.info(
                "worker=%s finished tagging %d article(s) (%d failed)",
                self.worker_id,
                outcome.articles,
                outcome.failed,
            )
            done += len(articles)
        return done

    def _index(self) -> int:
        pipeline.assign_stories(self.app)  # the cluster is sent each article's story
        if not self.app.uses_cluster:
            return 0
        target = self.app.cluster.target
        if not self.app.store.cluster_ledger.pending(target, limit=1):
            return 0
        # One worker per cluster at a time: a sync sends every pending document in bulk.
        leases = self._claim("index", [target], 1)
        if not leases:
            return 0
        with self._holding("index", leases):
            sent = pipeline.index_pending(self.app)
        self.summary.indexed += sent
        logger.info("worker=%s finished indexing: %d document(s) sent", self.worker_id, sent)
        return sent

    def _deliver(self) -> int:
        done = 0
        subscribers = [s.id for s in self.app.subscribers]
        if subscribers and (alerts := self._claim("alerts", ["all"], 1)):  # those with alerts on
            with self._holding("alerts", alerts, quiet=True):
                sent = [a for a in pipeline.send_alerts(self.app) if a.status == "sent"]
            for alert in sent:
                logger.info(
                    "worker=%s alert %s sent: %d item(s)", self.worker_id, alert.subscriber_id, alert.items
                )
            self.summary.alerts_sent += len(sent)
            done += len(sent)
        leases = self._claim("digest", subscribers, len(subscribers))
        if leases:
            with self._holding("digest", leases, quiet=True):
                outcomes = pipeline.deliver_digests(self.app, subscriber_ids=[lease.key for lease in leases])
            for outcome in outcomes:
                if outcome.status in ("delivered", "pending", "failed"):
                    logger.info(
                        "worker=%s digest %s %s: %s",
                        self.worker_id,
                        outcome.subscriber_id,
                        outcome.period,
                        outcome.status,
                    )
                    self.summary.digests.append(outcome.to_dict())
            done += sum(1 for outcome in outcomes if outcome.status == "delivered")
        return done

    # -- leases --------------------------------------------------------------------------------

    def _claim(self, kind: str, keys: Sequence[str], limit: int) -> list[Lease]:
        if not keys or self._stop.is_set():
            return []
        leases = self.queue.claim(kind, keys, self.worker_id, self.lease_seconds, limit)
        for lease in leases:
            if lease.previous_worker:
                logger.warning(
                    "worker=%s took over %s %s from worker=%s, whose lease expired (attempt %d)",
                    self.worker_id,
                    kind,
                    lease.key,
                    lease.previous_worker,
                    lease.attempts,
                )
                self.summary.taken_over.append(f"{kind}:{lease.key} (from {lease.previous_worker})")
        return leases

    @contextmanager
    def _holding(self, kind: str, leases: Sequence[Lease], quiet: bool = False) -> Iterator[None]:
        """Log the claim, let the heartbeat report it, and release the leases however the work ends.

        ``quiet``: work claimed at every pass to find out whether it is due (alerts, digests),
        logged at DEBUG; what it turns out to do is logged by the step.
        """
        keys = [lease.key for lease in leases]
        shown = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
        logger.log(
            logging.DEBUG if quiet else logging.INFO, "worker=%s claimed %s: %s", self.worker_id, kind, shown
        )
        self._current = f"{kind} {shown}"
        try:
            yield
        finally:
            self._current = ""
            held = self.queue.release(kind, keys, self.worker_id)
            if held < len(keys):
                logger.warning(
                    "worker=%s lost %d %s lease(s) before finishing (expired and taken over: heartbeats late?)",
                    self.worker_id,
                    len(keys) - held,
                    kind,
                )

    def _beat(self) -> None:
        """Renew this worker's leases and heartbeat every third of a lease until the worker stops."""
        interval = max(0.2, self.lease_seconds / 3)
        while not self._beat_stop.wait(interval):
            try:
                self.queue.heartbeat(
                    self.worker_id,
                    self.lease_seconds,
                    current_work=self._current,
                    stopping=self._stop.is_set(),
                )
            except RegwatchError as exc:
                logger.warning("worker=%s heartbeat failed (leases not renewed): %s", self.worker_id, exc)

    @contextmanager
    def _signals(self) -> Iterator[None]:
        """SIGTERM and SIGINT stop after the current work; a second one stops at once (KeyboardInterrupt)."""
        if threading.current_thread() is not threading.main_thread():
            yield  # a worker run from a thread (tests, an embedding program) is stopped with stop()
            return

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            name = signal.Signals(signum).name
            if self._stop.is_set():
                logger.warning("worker=%s got %s again: stopping now", self.worker_id, name)
                raise KeyboardInterrupt
            logger.info("worker=%s got %s: stopping after the current work", self.worker_id, name)
            self._stop.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
