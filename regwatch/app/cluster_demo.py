"""`regwatch cluster-demo`: the sample-site demo run by a fleet: workers and the scheduler on PostgreSQL.

``make cluster-demo`` starts PostgreSQL and an OpenSearch node under ``var/`` and runs
this driver with STORE_URL and INDEX_URL set. The driver serves the sample site and
writes its config as `regwatch demo` does (:func:`regwatch.app.demo.served_demo`), then:

1. starts WORKERS `regwatch worker --crawl --tag --index` processes, which share the
   site's sources, the tagging and the cluster's pending documents through the store;
2. once nothing is left to do (every source crawled, every article tagged and in
   the cluster, no lease in force), starts `regwatch schedule`, whose start-up pass
   delivers each subscriber's due digest into the outbox (started first, it would
   deliver the digest of a still empty store, as a fleet's first morning would);
3. once every subscriber's due digest is delivered, stops them all with SIGTERM
   (each finishes its current work) and prints the summary `regwatch demo` prints,
   with what each worker did.

Every process shares the demo home (its outbox and logs under ``logs/``), as
processes on one host would. A rerun on the same home and database adds nothing
and sends nothing twice, like `regwatch demo`.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from regwatch.app import App, pipeline
from regwatch.app.demo import served_demo
from regwatch.app.worker import work_queue_of
from regwatch.errors import ConfigError, RegwatchError
from regwatch.models import COUNTERS
from regwatch.private import private_subdir

logger = logging.getLogger(__name__)

WORKER_ROLES = ("--crawl", "--tag", "--index")
NEEDS_A_FLEET = (
    "regwatch cluster-demo runs on PostgreSQL and a search cluster: set STORE_URL=postgresql://… and "
    "INDEX_URL=http://…, or run `make cluster-demo`, which starts both under var/"
)
POLL = 0.5  # seconds between the driver's looks at the store


@dataclass
class Process:
    """A `regwatch` subprocess of the demo and its log file."""

    name: str
    popen: subprocess.Popen[str]
    log_path: Path
    log: IO[str]
    output: str = ""

    def stop(self, timeout: float) -> int:
        """SIGTERM (the current work finishes), wait; SIGKILL if it does not exit in ``timeout`` seconds."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            self.output, _ = self.popen.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            logger.warning("%s did not stop within %gs of SIGTERM: killed", self.name, timeout)
            self.popen.kill()
            self.output, _ = self.popen.communicate()
        self.log.close()
        return self.popen.returncode


@dataclass
class ClusterDemoResult:
    """What the fleet did: the run's summary (``RunSummary.to_dict()``'s shape) and each worker's own."""

    summary: dict[str, Any]
    workers: list[dict[str, Any]] = field(default_factory=list)
    sample_site: str = ""
    seconds: float = 0.0


def regwatch_command(home: Path, config: Path, *args: str) -> list[str]:
    """The argv of a `regwatch` subprocess with this Python (the venv's, whatever PATH says)."""
    return [
        sys.executable,
        "-c",
        "from regwatch.app.cli import main; main()",
        "--home",
        str(home),
        "--config",
        str(config),
        *args,
    ]


def child_environment(overrides: dict[str, Any]) -> dict[str, str]:
    """This environment plus the command line's setting overrides, as REGWATCH_ variables."""
    return {**os.environ, **{f"REGWATCH_{name}": str(value) for name, value in overrides.items()}}


@contextmanager
def processes() -> Iterator[list[Process]]:
    """The demo's subprocesses: whatever happens, each is stopped (SIGTERM, then SIGKILL) on the way out."""
    started: list[Process] = []
    try:
        yield started
    finally:
        for process in started:
            if process.popen.poll() is None:
                process.stop(timeout=60)


def start(started: list[Process], name: str, argv: list[str], env: dict[str, str], logs: Path) -> Process:
    log_path = logs / f"{name}.log"
    log = log_path.open("a", encoding="utf-8")
    popen = subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, text=True
    )
    process = Process(name, popen, log_path, log)
    started.append(process)
    logger.info("started %s (pid %d), log in %s", name, popen.pid, log_path)
    return process


def wait_until(what: str, done: Callable[[], bool], running: list[Process], deadline: float) -> None:
    """Poll ``done`` until true; ConfigError naming ``what`` and the logs when a process dies or time runs out."""
    end = time.monotonic() + deadline
    while not done():
        for process in running:
            if process.popen.poll() is not None:
                raise RegwatchError(
                    f"{process.name} exited ({process.popen.returncode}) before {what}: see {process.log_path}"
                )
        if time.monotonic() > end:
            logs = ", ".join(str(p.log_path) for p in running)
            raise RegwatchError(f"no {what} after {deadline:g}s: see the logs ({logs})")
        time.sleep(POLL)


def work_done(app: App) -> bool:
    """Every enabled source crawled, every article tagged and in the cluster, no work lease in force."""
    queue = work_queue_of(app)
    crawled = {h.source_id for h in app.store.source_states.health() if h.last_run is not None}
    if any(source.id not in crawled for source in pipeline.enabled_sources(app, quiet=True)):
        return False
    if app.store.articles.needing_tags(limit=1, tagger_version=app.tagger.version):
        return False
    if app.store.cluster_ledger.pending(app.cluster.target, limit=1):
        return False
    now = datetime.now(UTC)
    return not any(lease.leased_until > now for lease in queue.leases())


def due_digests(app: App) -> list[dict[str, Any]]:
    """Each subscriber's due digest as the ledger has it (``DigestOutcome.to_dict()``'s shape)."""
    from digests import due_period

    now = datetime.now(UTC)
    found = []
    for subscriber in app.subscribers:
        period = due_period(subscriber, now)
        record = app.store.digest_ledger.get(subscriber.id, period)
        found.append(
            {
                "subscriber": subscriber.id,
                "period": period.isoformat(),
                "status": record.status if record else "not sent",
                "items": len(record.article_ids) if record else 0,
                "path": record.location if record else "",
                "error": record.error if record else "",
            }
        )
    return found


def combined(workers: list[dict[str, Any]], digests: list[dict[str, Any]], indexed: int) -> dict[str, Any]:
    """The workers' summaries as one run's (``RunSummary.to_dict()``'s keys), with the ledger's digests."""
    watched = sorted({name for w in workers for name in w["watched_entities"]})
    return {
        "sources": len({s for w in workers for s in w["sources_crawled"]}),
        **{name: sum(int(w[name]) for w in workers) for name in COUNTERS},
        "articles_tagged": sum(int(w["articles_tagged"]) for w in workers),
        "tag_errors": sum(int(w["tag_errors"]) for w in workers),
        "entities_found": len(watched),
        "watched_entities": watched,
        "indexed": indexed,
        "digests": digests,
        "alerts": [],
    }


def run_cluster_demo(
    out: Path, workers: int = 2, overrides: dict[str, Any] | None = None, deadline: float = 600.0
) -> ClusterDemoResult:
    """Run the sample-site demo through ``workers`` workers and the scheduler (see the module docstring)."""
    overrides = dict(overrides or {})
    home = out.resolve()
    began = time.monotonic()
    with served_demo(home) as (base_url, config), App.load(home, config, overrides=overrides) as app:
        if app.store_engine != "postgresql" or not app.uses_cluster:
            raise ConfigError(NEEDS_A_FLEET)
        logger.info("cluster demo: store %s, search cluster %s", app.store_location, app.cluster.url)
        work_queue_of(app)  # opens the store, its schema brought up to date before the fleet starts
        logs = private_subdir(home / "logs")
        env = child_environment(overrides)
        with processes() as started:
            fleet = [
                start(
                    started,
                    f"worker-{n}",
                    regwatch_command(home, config, "worker", *WORKER_ROLES, "--json"),
                    env,
                    logs,
                )
                for n in range(1, workers + 1)
            ]
            wait_until(
                "the workers had crawled, tagged and indexed the site",
                lambda: work_done(app),
                fleet,
                deadline,
            )
            scheduler = start(started, "schedule", regwatch_command(home, config, "schedule"), env, logs)
            wait_until(
                "every subscriber's due digest delivered",
                lambda: all(d["status"] == "delivered" for d in due_digests(app)),
                [*fleet, scheduler],
                deadline,
            )
            summaries = []
            for process in fleet:
                if process.stop(timeout=120) != 0:
                    raise RegwatchError(
                        f"{process.name} stopped with status {process.popen.returncode}: see {process.log_path}"
                    )
                summaries.append(dict(json.loads(process.output)))
            if scheduler.stop(timeout=120) != 0:
                raise RegwatchError(
                    f"the scheduler stopped with status {scheduler.popen.returncode}: see {scheduler.log_path}"
                )
        # Articles in the cluster at their last version (the workers' counts are documents sent: an
        # article indexed before it was tagged is sent again once tagged).
        indexed = app.store.cluster_ledger.counts(app.cluster.target)["acknowledged"]
        summary = combined(summaries, due_digests(app), indexed)
    return ClusterDemoResult(summary, summaries, base_url, time.monotonic() - began)
