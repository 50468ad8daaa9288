"""The scheduler: persistent jobs, per-subscriber timezones, one scheduler per home, catch-up."""

from __future__ import annotations

import email
import email.policy
import logging
import threading
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from cli_helpers import Cli

from digests import due_period, send_days
from regwatch.app import App, pipeline
from regwatch.app.pipeline import source_is_due
from regwatch.app.scheduler import (
    LOCK_FILE,
    LocalTimeTrigger,
    RegwatchScheduler,
    SchedulerLock,
    SteadyCronTrigger,
    _shutdown,
    crawl_job,
    digest_sweep_job,
    digest_trigger,
)
from regwatch.errors import ConfigError
from regwatch.models import Article, Source, Subscriber, TaggedEntity
from regwatch.sources import schedule_trigger_args

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
    assert set(jobs) == {"crawl:hourly", "crawl:weekdays", "digest:london", "digest:early", "digests:sweep"}
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
    app.store.articles.upsert(article)
    app.store.search.index_pending()
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


# --- DST with the pinned APScheduler ------------------------------------------


def fires(trigger: Any, start: datetime, count: int) -> list[datetime]:
    """The next ``count`` fire times, asked the way APScheduler's scheduler loop asks."""
    found: list[datetime] = []
    previous, now = None, start
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        assert fire is not None
        found.append(fire)
        previous, now = fire, fire
    return found


def test_apscheduler_cron_trigger_still_repeats_the_autumn_hour() -> None:
    """The upstream bug LocalTimeTrigger and SteadyCronTrigger work around.

    If an APScheduler upgrade fixes it, this fails: the workarounds can then go.
    """
    trigger = CronTrigger(hour=1, minute=30, timezone="Europe/London")
    first = trigger.get_next_fire_time(None, datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1))
    assert [f.astimezone(UTC).strftime("%d %H:%M") for f in (first, second)] == ["25 00:30", "25 01:30"]
    stuck = trigger.get_next_fire_time(second, second + timedelta(seconds=1))
    assert stuck == second  # "the next fire time after 01:30 GMT is 01:30 GMT", forever


SEND_TIMES = ["00:30", "01:00", "01:30", "02:00", "02:30", "03:00"]
TRANSITIONS = [
    ("Europe/London", datetime(2026, 3, 27, 12, 0, tzinfo=UTC)),  # spring forward 29 Mar 01:00 GMT
    ("Europe/London", datetime(2026, 10, 23, 12, 0, tzinfo=UTC)),  # fall back 25 Oct 02:00 BST
    ("America/New_York", datetime(2026, 3, 6, 12, 0, tzinfo=UTC)),  # spring forward 8 Mar 02:00 EST
    ("America/New_York", datetime(2026, 10, 30, 12, 0, tzinfo=UTC)),  # fall back 1 Nov 02:00 EDT
]


@pytest.mark.parametrize("send_time", SEND_TIMES)
@pytest.mark.parametrize(("zone", "start"), TRANSITIONS)
def test_digest_trigger_fires_once_a_day_at_the_local_send_time_across_dst(
    zone: str, start: datetime, send_time: str
) -> None:
    hour, minute = (int(p) for p in send_time.split(":"))
    trigger = LocalTimeTrigger(hour, minute, zone)
    found = fires(trigger, start, 5)
    tz = ZoneInfo(zone)
    local_days = [f.astimezone(tz).date() for f in found]
    assert local_days == [local_days[0] + timedelta(days=i) for i in range(5)]  # one a day, none skipped
    assert found == sorted(set(found))  # strictly forward
    for fire in found:
        local = fire.astimezone(tz)
        wall = datetime.combine(local.date(), time(hour, minute))
        # At the local send time, or, when spring skips it, as the clock jumps past it.
        assert local.replace(tzinfo=None) - wall in (timedelta(0), timedelta(hours=1))
        if local.replace(tzinfo=None) != wall:  # only when the send time does not exist that day
            round_trip = wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None)
            assert round_trip != wall


@pytest.mark.parametrize(("zone", "start"), TRANSITIONS)
def test_apschedulers_own_run_time_loop_ends_with_the_digest_trigger(zone: str, start: datetime) -> None:
    """APScheduler computes missed run times in a loop that the CronTrigger bug makes endless."""
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.start(paused=True)
    try:
        job = scheduler.add_job(print, LocalTimeTrigger(1, 30, zone), next_run_time=start)
        run_times = job._get_run_times(start + timedelta(days=4))
    finally:
        scheduler.shutdown(wait=False)
    assert len(run_times) == 5 and run_times == sorted(set(run_times))  # the persisted one + 4 days


@pytest.mark.parametrize(
    ("cron", "start", "expected_hours"),
    [
        # hourly at fall-back: never stalls on the repeated hour
        ({"minute": "0"}, datetime(2026, 10, 24, 23, 0, tzinfo=UTC), None),
        ({"hour": "1", "minute": "30"}, datetime(2026, 10, 24, 12, 0, tzinfo=UTC), None),
        ({"minute": "0"}, datetime(2026, 3, 29, 0, 0, tzinfo=UTC), None),
    ],
)
def test_cron_crawl_schedules_always_move_forward_across_dst(
    cron: dict[str, str], start: datetime, expected_hours: None
) -> None:
    found = fires(SteadyCronTrigger(timezone="Europe/London", **cron), start, 8)
    assert found == sorted(set(found))
    assert found[-1] - found[0] < timedelta(days=8)


def test_cron_sources_get_the_steady_trigger(app: App) -> None:
    definitions = {d["id"]: d for d in RegwatchScheduler(app)._job_definitions()}
    assert type(definitions["crawl:weekdays"]["trigger"]) is SteadyCronTrigger


# --- Cadences in the subscriber's timezone -------------------------------------

CADENCE_CONFIG = """
sources:
  - {id: hourly, name: Hourly, kind: feed, url: "http://127.0.0.1:9/feed.xml"}
subscribers:
  - {id: ny-weekly, email: a@example.org, timezone: America/New_York, send_time: "06:30",
     cadence: weekly, weekday: tue}
  - {id: tokyo-weekdays, email: b@example.org, timezone: Asia/Tokyo, send_time: "08:00", cadence: weekdays}
"""


def test_weekly_and_weekdays_digests_fire_on_their_local_days(home: Path, tmp_path: Path) -> None:
    config = tmp_path / "cadence.yaml"
    config.write_text(CADENCE_CONFIG, encoding="utf-8")
    with App.load(home, config) as app:
        definitions = {d["id"]: d for d in RegwatchScheduler(app)._job_definitions()}
        listed = {job["id"]: job for job in RegwatchScheduler(app).list_jobs()}
    start = datetime(2026, 1, 9, 12, 0, tzinfo=UTC)  # a Friday
    weekly = fires(definitions["digest:ny-weekly"]["trigger"], start, 3)
    ny = ZoneInfo("America/New_York")
    assert [f.astimezone(ny).strftime("%a %d %H:%M") for f in weekly] == [
        "Tue 13 06:30",
        "Tue 20 06:30",
        "Tue 27 06:30",
    ]
    weekdays = fires(definitions["digest:tokyo-weekdays"]["trigger"], start, 6)
    tokyo = ZoneInfo("Asia/Tokyo")
    assert [f.astimezone(tokyo).strftime("%a %H:%M") for f in weekdays] == [
        "Mon 08:00", "Tue 08:00", "Wed 08:00", "Thu 08:00", "Fri 08:00", "Mon 08:00",
    ]  # fmt: skip
    # Fri 12:00 UTC is Fri 21:00 in Tokyo: the next weekday digest is Monday's, at 23:00 UTC on Sunday.
    assert weekdays[0] == datetime(2026, 1, 11, 23, 0, tzinfo=UTC)
    next_weekly = datetime.fromisoformat(listed["digest:ny-weekly"]["next_run_time"]).astimezone(ny)
    assert (next_weekly.strftime("%a"), next_weekly.hour, next_weekly.minute) == ("Tue", 6, 30)


# --- A restart across a missed send time ----------------------------------------

RESTART_CONFIG = """
sources:
  - {{id: ofcom, name: Ofcom, kind: feed, url: "http://127.0.0.1:9/feed.xml", type: regulator, enabled: false}}
subscribers:
  - {{id: london, email: london@example.org, timezone: Europe/London, send_time: "{send_time}"}}
settings:
  SMTP_HOST: 127.0.0.1
  SMTP_PORT: {port}
  SMTP_TIMEOUT: 5
  SMTP_RETRIES: 0
  SCHEDULE_MISFIRE_GRACE: 3600
"""


def send_time_half_a_day_away() -> str:
    """A London send time twelve hours from now: no daily run falls in the last few hours.

    A fixed 07:00 made the restart test depend on the hour CI ran it: started just after
    07:00, the scheduler coalesced the missed run into that morning's, which is on time.
    """
    return (datetime.now(ZoneInfo("Europe/London")) + timedelta(hours=12)).strftime("%H:%M")


def wait_for(condition: Any, deadline_s: float = 60) -> bool:
    deadline = datetime.now(UTC) + timedelta(seconds=deadline_s)
    while datetime.now(UTC) < deadline:
        if condition():
            return True
        threading.Event().wait(0.05)
    return False


def persist_next_run_time(app: App, job_id: str, when: datetime) -> None:
    """What a scheduler that stopped before ``when`` leaves in its job store."""
    scheduler = RegwatchScheduler(app)._build()
    scheduler.start(paused=True)
    try:
        scheduler.modify_job(job_id, next_run_time=when)
    finally:
        _shutdown(scheduler, wait=False)


@pytest.mark.parametrize(
    ("missed_by", "job_fires"), [(timedelta(minutes=10), True), (timedelta(hours=3), False)]
)
def test_a_restart_after_a_missed_send_time_sends_the_missed_digest_once(
    home: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, missed_by: timedelta, job_fires: bool
) -> None:
    from aiosmtpd.controller import Controller
    from test_digest_delivery import free_port
    from test_digest_ledger import Server, ofcom_article, store_articles

    handler = Server()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    config = tmp_path / "restart.yaml"
    config.write_text(
        RESTART_CONFIG.format(port=controller.port, send_time=send_time_half_a_day_away()), encoding="utf-8"
    )
    try:
        with App.load(home, config) as app:
            RegwatchScheduler(app).list_jobs()  # the scheduler ran once and persisted its jobs
            missed = datetime.now(UTC) - missed_by
            persist_next_run_time(app, "digest:london", missed)
            [job] = [j for j in RegwatchScheduler(app).list_jobs() if j["id"] == "digest:london"]
            assert datetime.fromisoformat(job["next_run_time"]) == missed.replace(
                microsecond=missed.microsecond
            )
            store_articles(app, ofcom_article(seen=datetime.now(UTC) - timedelta(days=1, hours=1)))
            stop = threading.Event()
            runner = threading.Thread(target=RegwatchScheduler(app).run_forever, kwargs={"stop_event": stop})
            with caplog.at_level(logging.INFO):
                runner.start()
                try:
                    ran = lambda: [r for r in caplog.records if r.getMessage().startswith("digest london ")]  # noqa: E731
                    assert wait_for(lambda: len(ran()) >= (2 if job_fires else 1))
                    if not job_fires:
                        assert wait_for(
                            lambda: any("was missed by" in r.getMessage() for r in caplog.records)
                        )
                finally:
                    stop.set()
                    runner.join(timeout=60)
            assert not runner.is_alive()
            statuses = [r.getMessage().rsplit(": ", 1)[1] for r in ran()]
            assert statuses == (["delivered", "already-delivered"] if job_fires else ["delivered"])
            [job] = [j for j in RegwatchScheduler(app).list_jobs() if j["id"] == "digest:london"]
            assert datetime.fromisoformat(job["next_run_time"]) > datetime.now(UTC)  # moved on, once
    finally:
        controller.stop()
    assert len(handler.accepted) == 1


def test_the_sweep_job_sends_a_pending_digest_once_the_server_is_back(home: Path, tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller
    from test_digest_delivery import free_port
    from test_digest_ledger import Server, ofcom_article, store_articles

    port = free_port()
    config = tmp_path / "sweep.yaml"
    config.write_text(
        RESTART_CONFIG.format(port=port, send_time=send_time_half_a_day_away()), encoding="utf-8"
    )
    with App.load(home, config) as app:
        store_articles(app, ofcom_article(seen=datetime.now(UTC) - timedelta(days=1, hours=1)))
        assert "digests:sweep" in {job["id"] for job in RegwatchScheduler(app).list_jobs()}
    digest_sweep_job(str(home), str(config))  # the server is down: stays pending
    with App.load(home, config) as app:
        [pending] = app.store.digest_ledger.pending()
    handler = Server()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        digest_sweep_job(str(home), str(config))
        digest_sweep_job(str(home), str(config))
    finally:
        controller.stop()
    with App.load(home, config) as app:
        record = app.store.digest_ledger.get("london", pending.period)
        assert app.store.digest_ledger.pending() == []
    assert record is not None and record.status == "delivered"
    assert len(handler.accepted) == 1


# --- one definition each: the crawl sequence, and a cadence's days -----------------------------


def test_the_crawl_job_regwatch_crawl_and_run_all_run_the_one_crawl_cycle(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """crawl → stories → tag → index → alerts is pipeline.crawl_cycle, and nothing runs its own copy."""
    calls: list[tuple[list[str], bool, bool]] = []

    def recorded(
        app: App,
        source_ids: Any = (),
        due_only: bool = False,
        now: datetime | None = None,
        skip_disabled: bool = False,
    ) -> pipeline.RunSummary:
        calls.append((list(source_ids), due_only, skip_disabled))
        return pipeline.RunSummary()

    monkeypatch.setattr(pipeline, "crawl_cycle", recorded)
    crawl_job(str(app.home), str(app.config.path), "hourly")
    Cli(home=app.home, config=app.config.path)("crawl", "weekdays")
    pipeline.run_once(app, now=datetime(2026, 1, 12, 9, 0, tzinfo=UTC))
    # A scheduled job skips its source when it is turned off; a crawl by name does not.
    assert calls == [(["hourly"], False, True), (["weekdays"], False, False), ([], True, False)]


def test_the_crawl_cycle_runs_its_stages_in_order(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    order: list[str] = []
    results = {
        "crawl": [],
        "assign_stories": 0,
        "tag_pending": pipeline.TagOutcome(),
        "index_pending": 0,
        "send_alerts": [],
    }
    for name, result in results.items():
        monkeypatch.setattr(
            pipeline, name, lambda *a, name=name, result=result, **k: order.append(name) or result
        )
    pipeline.crawl_cycle(app)
    assert order == ["crawl", "assign_stories", "tag_pending", "index_pending", "send_alerts"]


@pytest.mark.parametrize(
    ("cadence", "weekday", "days"),
    [("daily", 0, (0, 1, 2, 3, 4, 5, 6)), ("weekdays", 0, (0, 1, 2, 3, 4)), ("weekly", 3, (3,))],
)
def test_the_digest_trigger_fires_on_the_days_the_due_periods_fall_on(
    cadence: str, weekday: int, days: tuple[int, ...]
) -> None:
    subscriber = Subscriber("ana", "Ana", "ana@example.org", cadence=cadence, weekday=weekday)
    assert digest_trigger(subscriber).weekdays == send_days(subscriber) == days
    start = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
    periods = {due_period(subscriber, start + timedelta(hours=h)) for h in range(0, 24 * 14, 5)}
    assert {period.weekday() for period in periods} == set(days)


@pytest.mark.parametrize(
    ("cadence", "weekday", "shown"),
    [
        ("daily", 0, "local[daily 07:00 Europe/London]"),
        ("weekdays", 0, "local[mon,tue,wed,thu,fri 07:00 Europe/London]"),
        ("weekly", 3, "local[thu 07:00 Europe/London]"),
    ],
)
def test_a_digest_trigger_reads_as_the_job_store_compares_it(cadence: str, weekday: int, shown: str) -> None:
    # A persisted job is kept (with its next run time) while its trigger reads the same.
    subscriber = Subscriber(
        "ana", "Ana", "ana@example.org", timezone="Europe/London", cadence=cadence, weekday=weekday
    )
    assert str(digest_trigger(subscriber)) == shown
