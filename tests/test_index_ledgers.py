"""The crawl ledger (source health) and the digest ledger (exactly-once delivery)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from indexer import SourceHealth, Store
from regwatch.models import COUNTERS, Article, CrawlFailure, CrawlStats, DigestRecord, SourceHealthState

URL = "https://fca.example/news"
T0 = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)
MAY_1, MAY_2, MAY_3 = date(2024, 5, 1), date(2024, 5, 2), date(2024, 5, 3)


def run(store: Store, hour: int, stats: CrawlStats, failed: bool | None = None) -> None:
    """Record a run; failed, unless given: it had errors and stored nothing (as crawlers.run_failed)."""
    started = T0 + timedelta(hours=hour)
    if failed is None:
        failed = bool(stats.errors) and not (stats.new + stats.updated + stats.duplicate + stats.not_modified)
    health = SourceHealthState(stats.source_id)
    store.source_states.record_run(
        stats, health, failed=failed, started=started, finished=started + timedelta(minutes=2)
    )


def health_of(store: Store, source_id: str) -> SourceHealth:
    return {h.source_id: h for h in store.source_states.health()}[source_id]


# -- crawl ledger --------------------------------------------------------------


def test_failed_runs_after_the_last_success_count_as_consecutive_failures(store: Store) -> None:
    run(store, 0, CrawlStats("fca", pages_fetched=5, new=3, duplicate=2))
    run(store, 1, CrawlStats("fca", errors=1, failures=[CrawlFailure("timeout", URL, "no answer after 30s")]))
    run(
        store,
        2,
        CrawlStats("fca", errors=1, failures=[CrawlFailure("dns", URL, "fca.example does not resolve")]),
    )

    health = health_of(store, "fca")
    assert health.consecutive_failures == 2 and health.failing
    assert health.last_success == T0 + timedelta(minutes=2)
    assert health.last_run == T0 + timedelta(hours=2, minutes=2)
    assert health.last_failure == CrawlFailure("dns", URL, "fca.example does not resolve")
    assert health.last_error_at == T0 + timedelta(hours=2, minutes=2)
    assert health.items_last_run == 0


def test_a_success_resets_consecutive_failures_but_keeps_the_last_error(store: Store) -> None:
    run(store, 0, CrawlStats("fca", errors=1, failures=[CrawlFailure("http", URL, "HTTP 503", status=503)]))
    run(store, 1, CrawlStats("fca", pages_fetched=2, new=1, updated=1))
    health = health_of(store, "fca")
    assert health.consecutive_failures == 0 and not health.failing
    assert health.items_last_run == 2
    assert health.last_failure == CrawlFailure("http", URL, "HTTP 503", status=503)
    assert health.last_error_at == T0 + timedelta(minutes=2)


def test_a_run_that_collected_items_despite_errors_is_a_success_with_an_error(store: Store) -> None:
    gone = CrawlFailure("http", f"{URL}/7", "HTTP 404", status=404)
    run(store, 0, CrawlStats("fca", pages_fetched=9, new=8, errors=1, failures=[gone]))
    health = health_of(store, "fca")
    assert health.consecutive_failures == 0
    assert health.last_success is not None
    assert health.last_failure == gone


def test_a_run_recorded_as_failed_counts_whatever_its_counters(store: Store) -> None:
    run(store, 0, CrawlStats("fca", errors=3), failed=True)
    health = health_of(store, "fca")
    assert health.consecutive_failures == 1 and health.last_success is None
    assert health.last_failure is None


def test_every_counter_of_the_latest_run_is_kept(store: Store) -> None:
    run(store, 0, CrawlStats("fca", pages_fetched=5, new=5, items_found=9, robots_blocked=2, too_old=2))
    run(store, 1, CrawlStats("fca", new=1, robots_blocked=1))
    counts = health_of(store, "fca").last_run_counts
    assert set(counts) == set(COUNTERS)
    assert (counts["new"], counts["robots_blocked"], counts["too_old"]) == (1, 1, 0)


def test_the_run_and_the_health_state_it_led_to_are_saved_together(store: Store) -> None:
    health = SourceHealthState("fca", failure_score=2.0, disabled_at=T0, disabled_reason="off", runs=3)
    store.source_states.record_run(CrawlStats("fca"), health, failed=False, started=T0, finished=T0)
    assert store.source_states.get("fca") == health
    assert store.source_states.all() == {"fca": health}
    assert store.source_states.get("ico") == SourceHealthState("ico")


def test_health_reports_each_sources_articles_and_newest_item(store: Store) -> None:
    newest = datetime(2024, 4, 30, 12, 0, tzinfo=UTC)
    for n, published in enumerate([newest - timedelta(days=3), newest, None]):
        store.articles.upsert(
            Article(url=f"https://ico.example/{n}", source_id="ico", title="t", body="b", published=published)
        )
    run(store, 0, CrawlStats("fca", new=1))

    assert [h.source_id for h in store.source_states.health()] == ["fca", "ico"]
    ico = health_of(store, "ico")
    assert (ico.total_articles, ico.newest_item, ico.last_run) == (3, newest, None)
    assert health_of(store, "fca").total_articles == 0
    assert ico.to_dict()["newest_item"] == "2024-04-30T12:00:00+00:00"


def test_one_row_per_source_per_run_keeps_sources_apart(store: Store) -> None:
    run(
        store, 0, CrawlStats("fca", errors=1, failures=[CrawlFailure("blocked", URL, "HTTP 403", status=403)])
    )
    run(store, 0, CrawlStats("ico", new=4))
    assert health_of(store, "fca").consecutive_failures == 1
    assert health_of(store, "ico").consecutive_failures == 0
    assert health_of(store, "ico").last_failure is None


# -- digest ledger -------------------------------------------------------------


def test_an_unknown_digest_has_no_record(store: Store) -> None:
    assert store.digest_ledger.get("alice", MAY_1) is None
    assert store.digest_ledger.last_watermark("alice") is None


def test_pending_then_delivered_upserts_one_row_and_counts_one_attempt(store: Store) -> None:
    store.digest_ledger.record("alice", MAY_1, "<a1@regwatch>", "pending", T0, article_ids=["a", "b"])
    assert [r.subscriber_id for r in store.digest_ledger.pending()] == ["alice"]

    store.digest_ledger.record("alice", MAY_1, "<a1@regwatch>", "delivered", None, location="smtp:localhost")
    record = store.digest_ledger.get("alice", MAY_1)
    assert isinstance(record, DigestRecord)
    assert (record.status, record.attempts, record.message_id) == ("delivered", 1, "<a1@regwatch>")
    # what the delivered call left empty is kept from the pending one
    assert (record.watermark, record.article_ids, record.location) == (T0, ["a", "b"], "smtp:localhost")
    assert record.delivered_at is not None and record.period == MAY_1
    assert store.digest_ledger.pending() == []


def test_a_retryable_failure_is_pending_with_an_error_and_counts_as_an_attempt(store: Store) -> None:
    store.digest_ledger.record("bob", MAY_1, "<b1@regwatch>", "pending", T0, error="421 try again later")
    store.digest_ledger.record("bob", MAY_1, "<b1@regwatch>", "pending", T0, error="timed out")
    record = store.digest_ledger.get("bob", MAY_1)
    assert record is not None
    assert (record.status, record.attempts, record.error) == ("pending", 2, "timed out")
    assert [(r.subscriber_id, r.period) for r in store.digest_ledger.pending()] == [("bob", MAY_1)]

    store.digest_ledger.record("bob", MAY_1, "<b1@regwatch>", "delivered", T0, location="smtp:localhost")
    record = store.digest_ledger.get("bob", MAY_1)
    assert record is not None
    assert (record.status, record.attempts, record.error) == ("delivered", 3, "")
    assert store.digest_ledger.pending() == []


def test_a_permanent_failure_is_not_pending(store: Store) -> None:
    store.digest_ledger.record("bob", MAY_1, "<b1@regwatch>", "failed", T0, error="550 mailbox unavailable")
    record = store.digest_ledger.get("bob", MAY_1)
    assert record is not None and (record.status, record.attempts) == ("failed", 1)
    assert store.digest_ledger.pending() == []
    assert store.digest_ledger.last_watermark("bob") is None


def test_last_watermark_comes_only_from_delivered_digests(store: Store) -> None:
    store.digest_ledger.record("alice", MAY_1, "<a1@regwatch>", "delivered", T0)
    store.digest_ledger.record("alice", MAY_2, "<a2@regwatch>", "pending", T0 + timedelta(days=1))
    store.digest_ledger.record("alice", MAY_3, "<a3@regwatch>", "failed", T0 + timedelta(days=2), error="550")
    store.digest_ledger.record("bob", MAY_3, "<b3@regwatch>", "delivered", T0 + timedelta(days=9))
    assert store.digest_ledger.last_watermark("alice") == T0

    store.digest_ledger.record("alice", MAY_2, "<a2@regwatch>", "delivered", None)
    assert store.digest_ledger.last_watermark("alice") == T0 + timedelta(days=1)


def test_a_delivered_digest_cannot_silently_go_back_to_pending(store: Store) -> None:
    store.digest_ledger.record("alice", MAY_1, "<a1@regwatch>", "delivered", T0)
    with pytest.raises(ValueError, match="already delivered"):
        store.digest_ledger.record("alice", MAY_1, "<a1-again@regwatch>", "pending", T0)
    assert store.digest_ledger.get("alice", MAY_1).status == "delivered"  # type: ignore[union-attr]

    store.digest_ledger.record("alice", MAY_1, "<a1-resend@regwatch>", "pending", T0, force=True)
    record = store.digest_ledger.get("alice", MAY_1)
    assert record is not None and (record.status, record.message_id) == ("pending", "<a1-resend@regwatch>")


def test_an_unknown_status_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="pending, delivered, failed"):
        store.digest_ledger.record("alice", MAY_1, "<a1@regwatch>", "sent", T0)
    assert store.digest_ledger.get("alice", MAY_1) is None


def test_pending_digests_come_oldest_period_first(store: Store) -> None:
    store.digest_ledger.record("carol", MAY_2, "<c2@regwatch>", "pending", None)
    store.digest_ledger.record("bob", MAY_2, "<b2@regwatch>", "pending", None)
    store.digest_ledger.record("alice", MAY_1, "<a1@regwatch>", "pending", None)
    store.digest_ledger.record("dave", MAY_1, "<d1@regwatch>", "delivered", None)
    assert [(r.subscriber_id, r.period) for r in store.digest_ledger.pending()] == [
        ("alice", MAY_1),
        ("bob", MAY_2),
        ("carol", MAY_2),
    ]


def test_a_digest_record_serialises_dates_as_iso_text(store: Store) -> None:
    store.digest_ledger.record("alice", MAY_1, "<a1@regwatch>", "delivered", T0, article_ids=["x"])
    data = store.digest_ledger.get("alice", MAY_1).to_dict()  # type: ignore[union-attr]
    assert (data["period"], data["watermark"], data["article_ids"]) == ("2024-05-01", T0.isoformat(), ["x"])
