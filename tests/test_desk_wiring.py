"""The wiring behind the desk: subscribers merged from the config and the store, sources turned off and on
by hand (honoured by crawl, run and the scheduler), and the scheduler following the desk's subscribers."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import Cli

from regwatch.app import App, pipeline
from regwatch.app.scheduler import RegwatchScheduler
from regwatch.app.subscribers import merge_subscribers
from regwatch.models import CrawlFailure, CrawlStats, SavedSearch, Subscriber, utcnow

CONFIG = """
sources:
  - {id: hourly, name: Hourly, kind: feed, url: "http://127.0.0.1:9/feed.xml", schedule: every 1h}
  - {id: daily, name: Daily, kind: feed, url: "http://127.0.0.1:9/f2.xml", schedule: every 1d}
subscribers:
  - id: ana
    email: ana@example.org
    saved_searches: [{name: From config, query: grok}]
"""


@pytest.fixture
def app(home: Path, tmp_path: Path) -> App:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    with App.load(home, config) as loaded:
        yield loaded


def search(owner: str, name: str) -> SavedSearch:
    return SavedSearch("", owner, name, query="ofcom")


# -- subscribers ---------------------------------------------------------------------


def test_the_config_and_the_desk_subscribers_merge_with_their_saved_searches(app: App) -> None:
    app.store.subscriptions.save(Subscriber("bo", "Bo", "bo@example.org"), owner="bo")
    app.store.subscriptions.save(Subscriber("ana", "Ana (desk)", "ana@desk.example"), owner="ana")
    for owner, name in (("ana", "From the desk"), ("bo", "Bo's"), ("nobody", "Orphan")):
        app.store.saved_searches.add(search(owner, name))
    merged = app.merged_subscribers()
    assert [s.id for s in merged.all] == ["ana", "bo"]
    ana, bo = merged.all
    assert ana.email == "ana@example.org"  # the config wins over the desk's "ana"
    assert merged.shadowed == ["ana"] and merged.origin == {"ana": "config", "bo": "store"}
    assert [(s.name, s.origin) for s in ana.saved_searches] == [
        ("From config", "config"),
        ("From the desk", "store"),
    ]
    assert [s.name for s in bo.saved_searches] == ["Bo's"]


def test_merging_keeps_the_configs_order_first() -> None:
    config = [Subscriber("z", "Z", "z@example.org"), Subscriber("a", "A", "a@example.org")]
    merged = merge_subscribers(config, [Subscriber("m", "M", "m@example.org")], [])
    assert [s.id for s in merged.all] == ["z", "a", "m"] and merged.shadowed == []


def test_a_saved_searchs_watched_entity_is_named_canonically_for_delivery(app: App) -> None:
    subscriber = Subscriber(
        "ana",
        "Ana",
        "ana@example.org",
        saved_searches=(
            SavedSearch("1", "ana", "A", entity="Kendall"),
            SavedSearch("2", "ana", "B", entity="Acme"),
        ),
    )
    resolved = app.resolve_subscriber(subscriber)
    assert [s.entity for s in resolved.saved_searches] == ["Liz Kendall", "Acme"]


def test_the_scheduler_schedules_and_follows_the_desks_subscribers(app: App) -> None:
    scheduler = RegwatchScheduler(app)
    assert "digest:bo" not in {job["id"] for job in scheduler.list_jobs()}
    app.store.subscriptions.save(Subscriber("bo", "Bo", "bo@example.org", send_time="06:15"), owner="bo")
    jobs = {job["id"]: job for job in scheduler.list_jobs()}
    assert "digest:bo" in jobs and "06:15" in jobs["digest:bo"]["trigger"]
    app.store.subscriptions.remove("bo")
    assert "digest:bo" not in {job["id"] for job in scheduler.list_jobs()}


# -- sources turned off by hand ---------------------------------------------------------


def test_a_source_turned_off_by_hand_is_skipped_unless_named_and_stays_off_after_a_success(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    crawled: list[list[str]] = []
    monkeypatch.setattr(
        "crawlers.run_crawl", lambda sources, *a, **k: crawled.append([s.id for s in sources]) or []
    )
    pipeline.set_source_enabled(app, "hourly", False, by="olly")
    state = app.store.source_states.get("hourly")
    assert state.disabled_at is not None and state.disabled_reason == "turned off on the desk by olly"

    pipeline.crawl(app)  # `regwatch crawl`, `regwatch run`
    pipeline.crawl(app, ["hourly"], skip_disabled=True)  # a scheduled job
    pipeline.crawl(app, ["hourly"])  # `regwatch crawl hourly`, "crawl now": named, so crawled
    assert crawled == [["daily"], ["hourly"]]

    _record(app, CrawlStats("hourly", items_found=3, pages_fetched=3, new=3))
    assert app.store.source_states.get("hourly").disabled_at is not None  # a success does not turn it on
    rows = {row["id"]: row for row in Cli(app.home, app.config.path).json("sources")}
    assert rows["hourly"]["status"] == "off" and rows["daily"]["status"] == "new"

    _record(app, CrawlStats("hourly", errors=1, index_failure=CrawlFailure("dns", "http://x", "gone")))
    pipeline.set_source_enabled(app, "hourly", True, by="olly")
    state = app.store.source_states.get("hourly")
    assert (state.disabled_at, state.disabled_reason, state.failure_score) == (None, "", 0.0)


def test_a_source_off_after_failures_is_still_auto_off_and_a_success_turns_it_on(app: App) -> None:
    for _ in range(4):
        _record(app, CrawlStats("daily", errors=1, index_failure=CrawlFailure("dns", "http://x", "gone")))
    rows = {row["id"]: row for row in Cli(app.home, app.config.path).json("sources")}
    assert rows["daily"]["status"] == "auto-off"
    _record(app, CrawlStats("daily", items_found=1, pages_fetched=1, new=1))
    assert app.store.source_states.get("daily").disabled_at is None


def test_a_running_scheduler_picks_up_a_subscriber_made_on_the_desk(
    home: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging
    import threading
    import time

    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    with App.load(home, config, overrides={"SCHEDULE_JOB_SYNC": 1}) as app:
        stop = threading.Event()
        runner = threading.Thread(target=RegwatchScheduler(app).run_forever, kwargs={"stop_event": stop})
        with caplog.at_level(logging.INFO):
            runner.start()
            try:
                started = lambda: any("scheduler running" in r.getMessage() for r in caplog.records)  # noqa: E731
                deadline = time.monotonic() + 60
                while not started() and time.monotonic() < deadline and runner.is_alive():
                    stop.wait(0.05)
                app.store.subscriptions.save(Subscriber("bo", "Bo", "bo@example.org"), owner="bo")
                picked = lambda: any("scheduling digest:bo" in r.getMessage() for r in caplog.records)  # noqa: E731
                while not picked() and time.monotonic() < deadline and runner.is_alive():
                    stop.wait(0.05)
            finally:
                stop.set()
                runner.join(timeout=60)
        assert picked(), [r.getMessage() for r in caplog.records]


def _record(app: App, run: CrawlStats) -> None:
    """One run of a source through the wiring's health step, as a crawl records it."""
    now = utcnow()
    pipeline.record_source_run(app, run, now, now)
