"""Exactly-once delivery through a real SMTP server (aiosmtpd on 127.0.0.1) and the store's ledger.

Server down, 421 and 550 replies, recovery, a crash mid-send, and the due period
of each cadence, all through ``regwatch.app.pipeline.deliver_digests`` as the CLI
and the scheduler call it.
"""

from __future__ import annotations

import email
import email.policy
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from test_digest_delivery import free_port

from digests import due_period
from regwatch.app import App
from regwatch.app.context import DIGEST_LOCK_FILE
from regwatch.app.pipeline import deliver_digests
from regwatch.models import Article, Subscriber, TaggedEntity

CONFIG = """
sources:
  - {id: ofcom, name: Ofcom, kind: feed, url: "http://127.0.0.1:9/ofcom.xml", type: regulator, jurisdiction: UK}
  - {id: press, name: Politics Daily, kind: feed, url: "http://127.0.0.1:9/press.xml"}
subscribers:
  - {id: ana, name: Ana Analyst, email: ana@example.org, timezone: Europe/London, send_time: "07:00"}
"""
MONDAY_0800 = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)  # after Ana's 07:00 send time (GMT)


@dataclass
class Server:
    """An aiosmtpd handler: scripted DATA replies first, then 250; every accepted message kept."""

    replies: list[str] = field(default_factory=list)
    accepted: list[bytes] = field(default_factory=list)
    attempts: int = 0
    on_data: Any = None  # called with the message before the reply (a crash test kills the sender here)

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.attempts += 1
        if self.replies:
            return self.replies.pop(0)
        self.accepted.append(bytes(envelope.original_content or b""))
        if self.on_data is not None:
            self.on_data()
        return "250 accepted"

    def message_ids(self) -> list[str]:
        return [email.message_from_bytes(m, policy=email.policy.default)["Message-ID"] for m in self.accepted]


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def server(port: int) -> Iterator[tuple[Server, Controller]]:
    """The SMTP server object and its (not yet started) controller on ``port``."""
    handler = Server()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    yield handler, controller
    if getattr(controller, "_thread", None) is not None:
        controller.stop()


@pytest.fixture
def config(tmp_path: Path, store_settings: dict[str, str]) -> Path:
    """The config, with the store on this run's engine (the crash test's subprocess reads it too)."""
    path = tmp_path / "config.yaml"
    settings = "".join(f"  {name}: {value!r}\n" for name, value in store_settings.items())
    path.write_text(CONFIG + (f"settings:\n{settings}" if settings else ""), encoding="utf-8")
    return path


def open_app(home: Path, config: Path, port: int, **settings: Any) -> App:
    overrides = {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": port,
        "SMTP_TIMEOUT": 5,
        "SMTP_RETRIES": 0,
        "SMTP_RETRY_BACKOFF": 0.01,
        **settings,
    }
    return App.load(home, config, overrides=overrides)


def ofcom_article(
    slug: str = "x-investigation", seen: datetime = MONDAY_0800 - timedelta(hours=3)
) -> Article:
    return Article(
        url=f"https://www.ofcom.org.uk/news/{slug}",
        source_id="ofcom",
        title=f"Ofcom opens investigation into X ({slug})",
        body="Ofcom has opened a formal investigation into X under the Online Safety Act over Grok images.",
        published=seen,
        fetched_at=seen,
        entities=[TaggedEntity(name="Ofcom", type="regulator", entity_id="ofcom", count=3, salience=0.9)],
    )


def store_articles(app: App, *articles: Article) -> None:
    for article in articles:
        app.store.articles.upsert(article, seen_at=article.fetched_at)
    app.store.search.index_pending()


def spooled(app: App) -> list[Path]:
    spool = app.home / app.settings["DIGEST_SPOOL"]
    return sorted(spool.glob("*.eml")) if spool.exists() else []


def test_server_down_keeps_the_digest_pending_then_recovery_sends_it_once(
    home: Path, config: Path, port: int, server: tuple[Server, Controller]
) -> None:
    handler, controller = server
    with open_app(home, config, port, SMTP_RETRIES=1) as app:
        store_articles(app, ofcom_article())
        [down] = deliver_digests(app, now=MONDAY_0800)
        assert down.status == "pending"
        assert "ConnectionRefusedError" in down.error and "(2 attempts)" in down.error
        record = app.store.digest_ledger.get("ana", date(2026, 1, 12))
        assert record is not None and record.status == "pending" and record.error
        [first_bytes] = [path.read_bytes() for path in spooled(app)]

    controller.start()
    later = MONDAY_0800 + timedelta(hours=2)
    with open_app(home, config, port) as app:
        store_articles(app, ofcom_article("later-story", seen=later - timedelta(minutes=30)))
        [sent] = deliver_digests(app, now=later)
        assert sent.status == "delivered"
        assert [o.status for o in deliver_digests(app, now=later + timedelta(minutes=5))] == [
            "already-delivered"
        ]
        assert spooled(app) == []
    # The pending digest went out as it was built (same bytes, so same Date and items), once.
    assert handler.accepted == [first_bytes]
    assert b"later-story" not in handler.accepted[0]


def test_a_421_is_retried_within_the_run(
    home: Path, config: Path, port: int, server: tuple[Server, Controller], caplog: pytest.LogCaptureFixture
) -> None:
    handler, controller = server
    handler.replies = ["421 4.3.2 Service shutting down, try later", "451 4.3.0 Try again"]
    controller.start()
    with open_app(home, config, port, SMTP_RETRIES=2) as app, caplog.at_level(logging.WARNING):
        store_articles(app, ofcom_article())
        [outcome] = deliver_digests(app, now=MONDAY_0800)
    assert outcome.status == "delivered"
    assert handler.attempts == 3 and len(handler.accepted) == 1
    assert [r.message for r in caplog.records if "retry" in r.message][0].count("421") == 1


def test_a_421_beyond_the_retries_stays_pending_and_goes_out_on_the_next_run(
    home: Path, config: Path, port: int, server: tuple[Server, Controller]
) -> None:
    handler, controller = server
    handler.replies = ["421 4.3.2 Busy"] * 2
    controller.start()
    with open_app(home, config, port, SMTP_RETRIES=1) as app:
        store_articles(app, ofcom_article())
        [busy] = deliver_digests(app, now=MONDAY_0800)
        assert busy.status == "pending" and "421" in busy.error
        record = app.store.digest_ledger.get("ana", date(2026, 1, 12))
        assert record is not None and record.attempts == 1
        [sent] = deliver_digests(app, now=MONDAY_0800 + timedelta(hours=1))
        assert sent.status == "delivered"
    assert len(handler.accepted) == 1 and handler.attempts == 3


def test_a_550_is_recorded_as_failed_reported_and_never_retried(
    home: Path, config: Path, port: int, server: tuple[Server, Controller]
) -> None:
    handler, controller = server
    handler.replies = ["550 5.7.1 Rejected as spam"]
    controller.start()
    with open_app(home, config, port, SMTP_RETRIES=3) as app:
        store_articles(app, ofcom_article())
        [rejected] = deliver_digests(app, now=MONDAY_0800)
        assert rejected.status == "failed" and "550" in rejected.error
        assert handler.attempts == 1  # permanent: no retry within the run either
        [again] = deliver_digests(app, now=MONDAY_0800 + timedelta(hours=1))
        assert again.status == "already-failed" and "550" in again.error
        assert handler.attempts == 1 and spooled(app) == []
        # The failed digest's article rolls into the next day's digest.
        [tuesday] = deliver_digests(app, now=MONDAY_0800 + timedelta(days=1))
        assert tuesday.status == "delivered" and tuesday.items == 1
    assert len(handler.accepted) == 1


def test_a_day_with_nothing_new_is_closed_so_late_articles_wait_for_the_next_send_time(
    home: Path, config: Path, port: int, server: tuple[Server, Controller]
) -> None:
    handler, controller = server
    controller.start()
    with open_app(home, config, port) as app:
        [empty] = deliver_digests(app, now=MONDAY_0800)
        assert empty.status == "nothing-new"
        store_articles(app, ofcom_article(seen=MONDAY_0800 + timedelta(hours=2)))
        assert [o.status for o in deliver_digests(app, now=MONDAY_0800 + timedelta(hours=3))] == [
            "already-delivered"
        ]
        [tuesday] = deliver_digests(app, now=MONDAY_0800 + timedelta(days=1))
        assert tuesday.status == "delivered" and tuesday.items == 1
    assert len(handler.accepted) == 1


def test_a_pending_digest_and_the_next_days_digest_never_share_an_article(
    home: Path, config: Path, port: int, server: tuple[Server, Controller]
) -> None:
    handler, controller = server
    with open_app(home, config, port) as app:
        store_articles(app, ofcom_article("monday"))
        assert [o.status for o in deliver_digests(app, now=MONDAY_0800)] == ["pending"]
        store_articles(app, ofcom_article("tuesday", seen=MONDAY_0800 + timedelta(hours=20)))
    controller.start()
    with open_app(home, config, port) as app:
        outcomes = deliver_digests(app, now=MONDAY_0800 + timedelta(days=1))
    assert [(o.period.isoformat(), o.status, o.items) for o in outcomes] == [
        ("2026-01-12", "delivered", 1),
        ("2026-01-13", "delivered", 1),
    ]
    monday, tuesday = handler.accepted
    assert b"news/monday" in monday and b"news/tuesday" not in monday
    assert b"news/tuesday" in tuesday and b"news/monday" not in tuesday


def test_a_sender_killed_after_the_server_accepted_resends_the_same_message_once(
    home: Path, config: Path, port: int, server: tuple[Server, Controller], caplog: pytest.LogCaptureFixture
) -> None:
    """The documented at-least-once window: the server has the message, the ledger does not know."""
    handler, controller = server
    with open_app(home, config, port) as app:
        store_articles(app, ofcom_article())
    sender: list[subprocess.Popen[bytes]] = []
    handler.on_data = lambda: os.kill(sender[0].pid, signal.SIGKILL)  # dies before it reads the 250
    controller.start()
    env = {
        **os.environ,
        "REGWATCH_SMTP_HOST": "127.0.0.1",
        "REGWATCH_SMTP_PORT": str(port),
        "REGWATCH_SMTP_RETRIES": "0",
    }
    command = [sys.executable, "-c", "from regwatch.app.cli import main; main()", "--home", str(home)]
    command += ["--config", str(config)]
    sender.append(subprocess.Popen([*command, "digest", "--send", "--now"], env=env))
    assert sender[0].wait(timeout=120) == -signal.SIGKILL
    handler.on_data = None
    with open_app(home, config, port) as app:
        [record] = app.store.digest_ledger.pending()
        assert record.error == ""  # "sending": recorded before the attempt, nothing after
        period = record.period
        with caplog.at_level(logging.WARNING):
            outcomes = deliver_digests(app, subscriber_ids=["ana"], force=True)
        assert [(o.period, o.status) for o in outcomes] == [(period, "delivered")]
        assert any("interrupted mid-send" in r.message for r in caplog.records)
        assert [o.status for o in deliver_digests(app, force=True)] == ["already-delivered"]
    assert len(handler.accepted) == 2
    assert handler.accepted[0] == handler.accepted[1]  # same bytes, same Message-ID: a recognisable duplicate


def waiting_for_lock(path: Path, deadline_s: float = 120) -> bool:
    """Poll /proc/locks until some process waits ("->") for a flock on ``path``."""
    inode = f":{path.stat().st_ino} "
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if any("->" in line and inode in line for line in Path("/proc/locks").read_text().splitlines()):
            return True
        threading.Event().wait(0.01)
    return False


def test_two_senders_at_once_send_one_copy(
    home: Path, config: Path, port: int, server: tuple[Server, Controller]
) -> None:
    handler, controller = server
    entered, release = threading.Event(), threading.Event()

    def hold() -> None:
        entered.set()
        release.wait(30)

    handler.on_data = hold
    controller.start()
    with open_app(home, config, port) as app:
        store_articles(app, ofcom_article())
    results: dict[str, list[str]] = {}

    def send(name: str) -> None:
        with open_app(home, config, port) as app:
            results[name] = [o.status for o in deliver_digests(app, now=MONDAY_0800)]

    first = threading.Thread(target=send, args=("first",))
    first.start()
    assert entered.wait(30)
    second = threading.Thread(target=send, args=("second",))
    second.start()
    assert waiting_for_lock(home / DIGEST_LOCK_FILE), "the second sender never queued for the lock"
    release.set()
    first.join(30)
    second.join(30)
    assert results == {"first": ["delivered"], "second": ["already-delivered"]}
    assert len(handler.accepted) == 1


# --- Due periods of each cadence ------------------------------------------------


@pytest.mark.parametrize(
    ("cadence", "weekday", "now", "expected"),
    [
        ("daily", 0, datetime(2026, 1, 13, 6, 59, tzinfo=UTC), date(2026, 1, 12)),  # Tue before 07:00
        ("daily", 0, datetime(2026, 1, 13, 7, 0, tzinfo=UTC), date(2026, 1, 13)),
        ("weekdays", 0, datetime(2026, 1, 17, 12, 0, tzinfo=UTC), date(2026, 1, 16)),  # Sat -> Fri
        ("weekdays", 0, datetime(2026, 1, 19, 6, 0, tzinfo=UTC), date(2026, 1, 16)),  # Mon early -> Fri
        ("weekdays", 0, datetime(2026, 1, 19, 7, 0, tzinfo=UTC), date(2026, 1, 19)),
        ("weekly", 1, datetime(2026, 1, 19, 12, 0, tzinfo=UTC), date(2026, 1, 13)),  # Mon -> last Tue
        ("weekly", 1, datetime(2026, 1, 20, 7, 0, tzinfo=UTC), date(2026, 1, 20)),
        # Europe/London springs forward at 01:00 UTC on 29 Mar: 07:00 BST is 06:00 UTC.
        ("daily", 0, datetime(2026, 3, 29, 5, 59, tzinfo=UTC), date(2026, 3, 28)),
        ("daily", 0, datetime(2026, 3, 29, 6, 0, tzinfo=UTC), date(2026, 3, 29)),
    ],
)
def test_due_period_is_the_most_recent_send_day_of_the_cadence(
    cadence: str, weekday: int, now: datetime, expected: date
) -> None:
    subscriber = Subscriber("ana", "Ana", "ana@example.org", cadence=cadence, weekday=weekday)
    assert due_period(subscriber, now) == expected


def test_a_send_time_skipped_by_the_spring_change_is_due_right_after_it() -> None:
    """01:30 does not exist in London on 29 Mar 2026 (01:00 GMT -> 02:00 BST)."""
    subscriber = Subscriber("ana", "Ana", "ana@example.org", send_time="01:30")
    assert due_period(subscriber, datetime(2026, 3, 29, 0, 59, tzinfo=UTC)) == date(2026, 3, 28)
    assert due_period(subscriber, datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) == date(2026, 3, 29)  # 02:00 BST


def test_a_send_time_repeated_by_the_autumn_change_sends_once(
    home: Path, config: Path, port: int, server: tuple[Server, Controller]
) -> None:
    """01:30 happens twice in London on 25 Oct 2026 (00:30 and 01:30 UTC)."""
    handler, controller = server
    controller.start()
    config.write_text(CONFIG.replace('send_time: "07:00"', 'send_time: "01:30"'), encoding="utf-8")
    with open_app(home, config, port) as app:
        store_articles(app, ofcom_article(seen=datetime(2026, 10, 24, 20, 0, tzinfo=UTC)))
        first = deliver_digests(app, now=datetime(2026, 10, 25, 0, 30, tzinfo=UTC))
        second = deliver_digests(app, now=datetime(2026, 10, 25, 1, 30, tzinfo=UTC))
    assert [o.status for o in first + second] == ["delivered", "already-delivered"]
    assert len(handler.accepted) == 1
