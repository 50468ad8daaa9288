"""One scheduler leader among several on a PostgreSQL store: the election, step-down, and a leader killed mid-digest."""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from pg_fixtures import UNUSED_CLUSTER
from test_digest_delivery import free_port
from test_digest_ledger import ofcom_article
from test_scheduler import wait_for

from indexer import Store, scheduler_election
from regwatch.app import App
from regwatch.app.scheduler import RegwatchScheduler, stored_jobs

SUBSCRIBERS = ("ana", "ben", "cleo")

CONFIG = """
include_default_sources: false
sources:
  - {{id: ofcom, name: Ofcom, kind: feed, url: "http://127.0.0.1:9/feed.xml", type: regulator, enabled: false}}
subscribers:
{subscribers}
settings:
  STORE_URL: {store_url}
  INDEX_URL: {index_url}
  SCHEDULER_LEADER_RETRY_SECONDS: 1
  SMTP_HOST: 127.0.0.1
  SMTP_PORT: {port}
  SMTP_TLS: none
  SMTP_TIMEOUT: 60
  SMTP_RETRIES: 0
"""


def write_config(path: Path, store_url: str, port: int = 9) -> Path:
    subscribers = "\n".join(
        f'  - {{id: {s}, email: {s}@example.org, timezone: Europe/London, send_time: "07:00"}}'
        for s in SUBSCRIBERS
    )
    path.write_text(
        CONFIG.format(subscribers=subscribers, store_url=store_url, index_url=UNUSED_CLUSTER, port=port),
        encoding="utf-8",
    )
    return path


def settings(pg_url: str) -> dict[str, Any]:
    return {"STORE_URL": pg_url, "SCHEDULER_LEADER_RETRY_SECONDS": 1}


def end_session_of(pg_url: str, candidate: str) -> int:
    """End the server session whose application_name names ``candidate`` (a lost connection); how many ended."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        ended = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (f"regwatch {candidate}",),
        ).fetchall()
    return len(ended)


# --- the election ----------------------------------------------------------------------------


def test_one_of_two_candidates_leads_and_the_other_takes_over_when_it_lets_go(pg_url: str) -> None:
    first = scheduler_election(settings(pg_url), "scheduler host-a pid 1")
    second = scheduler_election(settings(pg_url), "scheduler host-b pid 2")
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        assert first.holding() and not second.holding()
        assert first.try_acquire()  # asking again while leading changes nothing
        leader = second.holder()
        assert leader is not None and leader.startswith("regwatch scheduler host-a pid 1 (server pid ")
        first.release()
        assert second.try_acquire()
        assert not first.try_acquire()
        assert not first.holding()
    finally:
        first.close()
        second.close()


def test_a_candidate_whose_connection_is_lost_steps_down_and_another_leads(pg_url: str) -> None:
    first = scheduler_election(settings(pg_url), "scheduler host-a pid 1")
    second = scheduler_election(settings(pg_url), "scheduler host-b pid 2")
    try:
        assert first.try_acquire()
        assert end_session_of(pg_url, first.name) == 1
        assert not first.holding()  # the lost connection is noticed on the next check
        assert wait_for(second.try_acquire)  # the server released the lock with the session
        assert not first.try_acquire()  # a new connection, and the lock is taken
        assert second.holder() is not None
    finally:
        first.close()
        second.close()


def test_no_one_leads_until_someone_asks(pg_url: str) -> None:
    candidate = scheduler_election(settings(pg_url), "scheduler host-a pid 1")
    try:
        assert candidate.holder() is None
        assert not candidate.holding()
    finally:
        candidate.close()


# --- the scheduler on PostgreSQL ----------------------------------------------------------------


@pytest.fixture
def pg_config(tmp_path: Path, pg_url: str) -> Path:
    return write_config(tmp_path / "config.yaml", pg_url)


def test_jobs_live_once_in_the_store_and_a_new_leader_keeps_their_run_times(
    tmp_path: Path, pg_config: Path, pg_url: str
) -> None:
    with App.load(tmp_path / "host-a", pg_config) as app:
        first = {job["id"]: job for job in RegwatchScheduler(app).list_jobs()}
    with App.load(tmp_path / "host-b", pg_config) as app:
        second = {job["id"]: job for job in RegwatchScheduler(app).list_jobs()}
        shown = stored_jobs(app.home, app.settings)  # what the desk's ops console reads
    assert set(first) == {"digest:ana", "digest:ben", "digest:cleo", "digests:sweep"}
    assert second == first  # the same jobs, the same next run times
    with psycopg.connect(pg_url) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM scheduler_jobs ORDER BY id").fetchall()]
    assert ids == sorted(first)
    assert {job["id"]: job["next_run_time"] for job in shown} == {
        k: v["next_run_time"] for k, v in first.items()
    }
    assert not (tmp_path / "host-a" / "scheduler.db").exists()  # nothing kept in a home dir


def test_listing_jobs_while_another_scheduler_leads_changes_none(
    tmp_path: Path, pg_config: Path, pg_url: str
) -> None:
    leader = scheduler_election(settings(pg_url), "scheduler host-a pid 1")
    try:
        assert leader.try_acquire()
        with App.load(tmp_path / "host-b", pg_config) as app:
            assert RegwatchScheduler(app).list_jobs() == []  # no jobs yet: only a leader creates them
    finally:
        leader.close()


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records]


def test_a_leader_that_loses_its_lock_stops_its_jobs_and_stands_by(
    tmp_path: Path, pg_config: Path, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    stop = threading.Event()
    rival = scheduler_election(settings(pg_url), "scheduler host-b pid 2")
    # The CLI's logging set-up quiets APScheduler's logger; a CLI test run earlier in this process leaves it so.
    caplog.set_level(logging.INFO, logger="apscheduler.scheduler")
    with App.load(tmp_path / "host-a", pg_config) as app, caplog.at_level(logging.INFO):
        runner = threading.Thread(target=RegwatchScheduler(app).run_forever, kwargs={"stop_event": stop})
        runner.start()
        try:
            said = lambda text: any(text in r.getMessage() for r in caplog.records)  # noqa: E731
            assert wait_for(lambda: said("scheduler running on"))
            assert not rival.try_acquire()
            [name] = {m.split(": elected")[0] for m in messages(caplog) if ": elected leader" in m}
            assert end_session_of(pg_url, name) == 1
            assert wait_for(lambda: said("lost the leadership"))
            assert wait_for(rival.try_acquire)
            assert wait_for(lambda: said("standing by; the leader is regwatch scheduler host-b pid 2"))
        finally:
            stop.set()
            runner.join(timeout=60)
            rival.close()
    assert not runner.is_alive()
    stopped = [r.getMessage() for r in caplog.records if r.name == "apscheduler.scheduler"]
    assert "Scheduler has been shut down" in stopped


# --- two `regwatch schedule` processes, the leader killed in the digest window -----------------------


@dataclass
class StallingServer:
    """aiosmtpd handler: accepts every message, but holds the ``stall_at``-th session at RCPT until released.

    A sender killed there never sent the message: it reached no one.
    """

    stall_at: int = 2
    accepted: list[bytes] = field(default_factory=list)
    sessions: int = 0
    stalled: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self.sessions += 1
        if self.sessions == self.stall_at:
            self.stalled.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.accepted.append(bytes(envelope.original_content or b""))
        return "250 accepted"

    def recipients(self) -> list[str]:
        return sorted(
            email.message_from_bytes(m, policy=email.policy.default)["To"].addresses[0].addr_spec
            for m in self.accepted
        )


@pytest.fixture
def smtp() -> Iterator[tuple[StallingServer, int]]:
    handler = StallingServer()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        handler.release.set()
        controller.stop()


class Scheduler:
    """`regwatch schedule` in a process of its own, its log kept in a file."""

    def __init__(self, home: Path, config: Path, log: Path) -> None:
        self.log = log
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGWATCH_")}
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from regwatch.app.cli import main; main()", "--home", str(home)]
            + ["--config", str(config), "schedule"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log.open("wb"),
            env=env,
        )

    def said(self, text: str) -> bool:
        return text in self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def test_a_leader_killed_mid_digest_is_replaced_and_each_subscriber_gets_one_digest(
    tmp_path: Path, pg_url: str, smtp: tuple[StallingServer, int]
) -> None:
    handler, port = smtp
    config = write_config(tmp_path / "config.yaml", pg_url, port)
    with Store.open_postgresql(pg_url) as store:
        article = ofcom_article(seen=datetime.now(UTC) - timedelta(days=1, hours=1))
        store.articles.upsert(article, seen_at=article.fetched_at)
    first = Scheduler(tmp_path / "host-a", config, tmp_path / "a.log")
    second: Scheduler | None = None
    try:
        assert wait_for(lambda: first.said("elected leader"))
        second = Scheduler(tmp_path / "host-b", config, tmp_path / "b.log")
        assert wait_for(lambda: second is not None and second.said("the leader is regwatch scheduler "))
        assert second.said(f"pid {first.process.pid}")  # the standby names the leader
        assert wait_for(handler.stalled.is_set)  # the leader is sending its second digest
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=60)
        assert wait_for(lambda: second is not None and second.said("elected leader"))
        assert wait_for(lambda: len(handler.accepted) >= len(SUBSCRIBERS))
        second.stop()
        assert second.process.returncode == 0
    finally:
        first.stop()
        if second is not None:
            second.stop()
    assert handler.recipients() == [f"{s}@example.org" for s in SUBSCRIBERS]  # one each, none twice
    with Store.open_postgresql(pg_url) as store:
        assert store.digest_ledger.pending() == []
        delivered = store.digest_ledger.recent(status="delivered")
    assert sorted(r.subscriber_id for r in delivered) == list(SUBSCRIBERS)


def test_a_scheduled_crawl_skips_a_source_a_worker_holds_and_holds_it_itself_otherwise(
    tmp_path: Path, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    from regwatch.app.scheduler import crawl_job

    config = write_config(tmp_path / "config.yaml", pg_url)
    with Store.open_postgresql(pg_url) as store:
        queue = store.work_queue
        assert queue is not None
        assert [lease.key for lease in queue.claim("crawl", ["ofcom"], "worker-1", 300, 1)] == ["ofcom"]
        with caplog.at_level(logging.INFO):
            crawl_job(str(tmp_path / "home"), str(config), "ofcom")
        assert "crawl ofcom skipped: a worker is crawling it now" in messages(caplog)
        assert [(lease.key, lease.worker_id) for lease in queue.leases()] == [("ofcom", "worker-1")]
        queue.release("crawl", ["ofcom"], "worker-1")
        caplog.clear()
        with caplog.at_level(logging.INFO):
            crawl_job(str(tmp_path / "home"), str(config), "ofcom")
        said = messages(caplog)
        assert "crawling 1 source(s): ofcom" in said  # the cycle ran, under its lease
        assert not any("skipped: a worker" in m for m in said)
        assert [lease for lease in queue.leases() if lease.worker_id] == []  # and gave it back
