"""The scheduler: persistent jobs, per-subscriber timezones, one scheduler per home, catch-up."""

from __future__ import annotations

import email
import email.policy
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from regwatch.app import App
from regwatch.errors import ConfigError
from regwatch.models import Article, Source, TaggedEntity
from regwatch.pipeline import schedule_trigger_args, source_is_due
from regwatch.scheduler import LOCK_FILE, RegwatchScheduler, SchedulerLock

CONFIG = """
sources:
  - {id: hourly, name: Hourly, kind: feed, url: "http://127.0.0.1:9/feed.xml", schedule: every 1h}
  - {id: weekdays, name: Weekdays, kind: feed, url: "http://127.0.0.1:9/f2.xml", schedule: "cron 30 6 * * 1-5"}
  - {id: paused, name: Paused, kind: feed, url: "http://127.0.0.1:9/f3.xml", enabled: false}
subscribers:
  - {id: london, email: london@example.org, timezone: Europe/London, send_time: "07:00"}
  - {id: early, email: early@example.org, timezone: Pacific/Auckland, send_time: "00:00"}
"""


@pytest.fixture
def app(home: Path, tmp_path: Path) -> App:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    with App.load(home, config) as loaded:
        yield loaded


def test_list_shows_a_job_per_enabled_source_and_subscriber(app: App) -> None:
    jobs = {job["id"]: job for job in RegwatchScheduler(app).list_jobs()}
    assert set(jobs) == {"crawl:hourly", "crawl:weekdays", "digest:london", "digest:early"}
    assert all(job["next_run_time"] for job in jobs.values())


def test_digest_job_fires_at_the_send_time_in_the_subscribers_timezone(app: App) -> None:
    jobs = {job["id"]: job for job in RegwatchScheduler(app).list_jobs()}
    london = datetime.fromisoformat(jobs["digest:london"]["next_run_time"])
    local = london.astimezone(__import__("zoneinfo").ZoneInfo("Europe/London"))
    assert (local.hour, local.minute) == (7, 0)


def test_digest_trigger_keeps_local_send_time_across_the_dst_change(app: App) -> None:
    """With the pinned APScheduler: 07:00 London is 07:00 UTC in winter and 06:00 UTC in summer."""
    definitions = {d["id"]: d for d in RegwatchScheduler(app)._job_definitions()}
    trigger = definitions["digest:london"]["trigger"]
    before = datetime(2026, 3, 28, 8, 0, tzinfo=UTC)  # the clocks go forward on Sunday 29 March 2026
    fires = []
    previous = None
    moment = before
    for _ in range(3):
        fire = trigger.get_next_fire_time(previous, moment)
        fires.append(fire.astimezone(UTC))
        previous, moment = fire, fire + timedelta(seconds=1)
    assert [f.strftime("%m-%d %H:%M") for f in fires] == ["03-29 06:00", "03-30 06:00", "03-31 06:00"]
    autumn = trigger.get_next_fire_time(None, datetime(2026, 10, 24, 8, 0, tzinfo=UTC))
    autumn_next = trigger.get_next_fire_time(autumn, autumn + timedelta(seconds=1))
    assert [f.astimezone(UTC).strftime("%m-%d %H:%M") for f in (autumn, autumn_next)] == [
        "10-25 07:00",
        "10-26 07:00",
    ]


def test_unchanged_jobs_keep_their_persisted_next_run_time(app: App) -> None:
    first = {job["id"]: job["next_run_time"] for job in RegwatchScheduler(app).list_jobs()}
    second = {job["id"]: job["next_run_time"] for job in RegwatchScheduler(app).list_jobs()}
    assert first["crawl:hourly"] == second["crawl:hourly"]


def test_removed_sources_lose_their_jobs(app: App, tmp_path: Path) -> None:
    RegwatchScheduler(app).list_jobs()
    smaller = tmp_path / "smaller.yaml"
    smaller.write_text(CONFIG.replace("schedule: every 1h}", "schedule: every 1h, enabled: false}"))
    with App.load(app.home, smaller) as changed:
        ids = {job["id"] for job in RegwatchScheduler(changed).list_jobs()}
    assert "crawl:hourly" not in ids and "crawl:weekdays" in ids


def test_a_second_scheduler_on_the_same_home_is_refused(home: Path) -> None:
    first = SchedulerLock(home / LOCK_FILE)
    first.acquire()
    try:
        with pytest.raises(ConfigError, match="already running"):
            SchedulerLock(home / LOCK_FILE).acquire()
    finally:
        first.release()
    second = SchedulerLock(home / LOCK_FILE)
    second.acquire()
    second.release()


def test_scheduler_sends_a_missed_digest_once_at_start_and_stops_cleanly(app: App) -> None:
    article = Article(
        url="https://regulator.example/ofcom-x",
        source_id="hourly",
        title="Ofcom opens investigation into X",
        body="Ofcom has opened an investigation into X over Grok.",
        published=datetime(2026, 1, 12, 9, 0, tzinfo=UTC),
        entities=[TaggedEntity(name="Ofcom", type="regulator", entity_id="ofcom", count=1, salience=0.8)],
    )
    app.store.upsert_article(article)
    app.store.index_pending()
    stop = threading.Event()
    scheduler = RegwatchScheduler(app)
    runner = threading.Thread(target=scheduler.run_forever, kwargs={"stop_event": stop})
    runner.start()
    deadline = datetime.now(UTC) + timedelta(seconds=60)
    outbox = app.outbox
    while not list(outbox.glob("*early*.eml")) and datetime.now(UTC) < deadline and runner.is_alive():
        stop.wait(0.05)
    stop.set()
    runner.join(timeout=60)
    assert not runner.is_alive()
    [path] = list(outbox.glob("*early*.eml"))
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert "Ofcom" in message["Subject"]
    # the lock was released: another scheduler could start now
    lock = SchedulerLock(app.home / LOCK_FILE)
    lock.acquire()
    lock.release()


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ("every 30m", ("interval", {"minutes": 30})),
        ("every 2h", ("interval", {"hours": 2})),
        (
            "cron 0 7 * * 1-5",
            ("cron", {"minute": "0", "hour": "7", "day": "*", "month": "*", "day_of_week": "1-5"}),
        ),
    ],
)
def test_schedules_become_trigger_arguments(schedule: str, expected: tuple) -> None:
    assert schedule_trigger_args(schedule) == expected


def test_a_source_is_due_when_its_interval_has_passed() -> None:
    source = Source(id="s", name="S", kind="feed", url="http://127.0.0.1/", schedule="every 1h")
    now = datetime(2026, 1, 12, 12, 0, tzinfo=UTC)
    assert source_is_due(source, None, now)
    assert not source_is_due(source, now - timedelta(minutes=59), now)
    assert source_is_due(source, now - timedelta(minutes=60), now)


def test_a_cron_source_is_due_after_its_next_fire_time() -> None:
    source = Source(id="s", name="S", kind="feed", url="http://127.0.0.1/", schedule="cron 0 7 * * *")
    last = datetime(2026, 1, 12, 7, 0, tzinfo=UTC)
    assert not source_is_due(source, last, datetime(2026, 1, 13, 6, 59, tzinfo=UTC))
    assert source_is_due(source, last, datetime(2026, 1, 13, 7, 0, tzinfo=UTC))


def test_a_newly_configured_source_is_crawled_at_once(app: App) -> None:
    jobs = {job["id"]: job for job in RegwatchScheduler(app).list_jobs()}
    first_crawl = datetime.fromisoformat(jobs["crawl:hourly"]["next_run_time"])
    assert first_crawl <= datetime.now(UTC)


def test_listing_jobs_never_consumes_a_due_run(app: App) -> None:
    """`schedule --list` while a run is due (scheduler was down) must leave that run pending."""
    first = {job["id"]: job["next_run_time"] for job in RegwatchScheduler(app).list_jobs()}
    assert datetime.fromisoformat(first["crawl:hourly"]) <= datetime.now(UTC)  # due now
    again = {job["id"]: job["next_run_time"] for job in RegwatchScheduler(app).list_jobs()}
    assert again["crawl:hourly"] == first["crawl:hourly"]
