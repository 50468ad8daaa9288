"""The delivery protocol driven without the CLI or App: the store's ledgers, a spool, real deliverers.

``DigestDelivery`` and ``AlertDelivery`` are built here from plain parts, as the
App builds them from the settings: the protocol must not need the wiring.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from ports import refused_port

from digests import (
    NOTHING_NEW_LOCATION,
    AlertDelivery,
    AlertLedger,
    ArticleReader,
    Deliverer,
    DigestBuilder,
    DigestDelivery,
    DigestLedger,
    OutboxDelivery,
    SmtpDelivery,
    Spool,
)
from indexer import Store
from regwatch.models import Action, Article, Source, Subscriber, TaggedEntity

ANA = Subscriber("ana", "Ana Analyst", "ana@example.org", timezone="Europe/London", send_time="07:00")
MONDAY_0800 = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)  # after Ana's 07:00 send time (GMT)
MONDAY = date(2026, 1, 12)
SOURCES = {"ofcom": Source("ofcom", "Ofcom", "feed", "https://www.ofcom.org.uk/feed", "regulator", "UK")}
OFCOM = TaggedEntity("Ofcom", "regulator", ["Ofcom"], "ofcom", 3, 0, True, 0.9)
X = TaggedEntity("X", "platform", ["X"], "x", 2, 0, True, 0.8)


def ofcom_article(slug: str, seen: datetime) -> Article:
    return Article(
        url=f"https://www.ofcom.org.uk/news/{slug}",
        source_id="ofcom",
        title=f"Ofcom opens investigation into X ({slug})",
        body="Ofcom has opened a formal investigation into X under the Online Safety Act.",
        published=seen,
        fetched_at=seen,
        entities=[OFCOM, X],
        actions=[
            Action("Ofcom", "investigation", "X", "ofcom", "x", "Ofcom has opened an investigation into X.")
        ],
    )


@pytest.fixture
def store(open_store: Callable[..., Store]) -> Iterator[Store]:
    """The store on each engine (see ``pg_fixtures``)."""
    with open_store(sources=SOURCES) as opened:
        yield opened


def stored(store: Store, *articles: Article) -> None:
    for article in articles:
        store.articles.upsert(article, seen_at=article.fetched_at)


def digest_delivery(store: Store, tmp_path: Path, deliverer: Deliverer) -> DigestDelivery:
    builder = DigestBuilder(
        store.digest_ledger,
        store.articles,
        sender="regwatch <regwatch@reg.example>",
        max_items=50,
        sources=SOURCES,
    )
    return DigestDelivery(
        builder,
        store.digest_ledger,
        deliverer=deliverer,
        spool=Spool(tmp_path / "spool"),
        lock_path=tmp_path / "digests.lock",
    )


def smtp_down() -> SmtpDelivery:
    """A real SMTP deliverer pointed at a port nothing listens on: connection refused, transient."""
    return SmtpDelivery("127.0.0.1", refused_port(), timeout=5)


def spooled(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "spool").glob("*.eml")) if (tmp_path / "spool").exists() else []


def test_the_stores_ledgers_and_articles_are_what_delivery_asks_for(store: Store) -> None:
    assert isinstance(store.digest_ledger, DigestLedger)
    assert isinstance(store.alert_ledger, AlertLedger)
    assert isinstance(store.articles, ArticleReader)


def test_a_due_digest_is_delivered_recorded_and_never_sent_twice(store: Store, tmp_path: Path) -> None:
    article = ofcom_article("probe", MONDAY_0800 - timedelta(hours=3))
    stored(store, article)
    delivery = digest_delivery(store, tmp_path, OutboxDelivery(tmp_path / "outbox"))
    [first] = delivery.deliver([ANA], MONDAY_0800)
    assert (first.period, first.status, first.items) == (MONDAY, "delivered", 1)
    record = store.digest_ledger.get("ana", MONDAY)
    assert record is not None and record.status == "delivered"
    assert record.watermark == MONDAY_0800 and record.article_ids == [article.id]
    [again] = delivery.deliver([ANA], MONDAY_0800 + timedelta(hours=1))
    assert again.status == "already-delivered"
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1 and spooled(tmp_path) == []


def test_a_transient_failure_stays_pending_and_the_next_run_sends_the_spooled_bytes(
    store: Store, tmp_path: Path
) -> None:
    stored(store, ofcom_article("monday", MONDAY_0800 - timedelta(hours=3)))
    [down] = digest_delivery(store, tmp_path, smtp_down()).deliver([ANA], MONDAY_0800)
    assert down.status == "pending" and "ConnectionRefusedError" in down.error
    [spool_file] = spooled(tmp_path)
    first_bytes = spool_file.read_bytes()
    # Later: a new article arrives, and the server is back (here: the outbox).
    stored(store, ofcom_article("later", MONDAY_0800 + timedelta(hours=1)))
    outbox = OutboxDelivery(tmp_path / "outbox")
    [sent] = digest_delivery(store, tmp_path, outbox).deliver([ANA], MONDAY_0800 + timedelta(hours=2))
    assert (sent.period, sent.status) == (MONDAY, "delivered")
    [delivered] = list((tmp_path / "outbox").glob("*.eml"))
    assert delivered.read_bytes() == first_bytes  # as built: same Date, Message-ID and items
    assert b"news/later" not in first_bytes and spooled(tmp_path) == []


def test_a_digest_interrupted_mid_send_goes_again_once_with_the_same_bytes_and_a_warning(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stored(store, ofcom_article("probe", MONDAY_0800 - timedelta(hours=3)))
    delivery = digest_delivery(store, tmp_path, OutboxDelivery(tmp_path / "outbox"))
    digest = delivery.builder.build(ANA, MONDAY, MONDAY_0800)
    assert digest is not None
    # Step 1 of the protocol, then a crash: spooled and recorded "sending", no outcome.
    delivery.spool.save(digest)
    store.digest_ledger.record(
        "ana", MONDAY, digest.message_id, "pending", digest.watermark, article_ids=digest.article_ids
    )
    with caplog.at_level(logging.WARNING, logger="digests"):
        outcomes = delivery.deliver([ANA], MONDAY_0800 + timedelta(hours=1))
    assert [(o.period, o.status) for o in outcomes] == [(MONDAY, "delivered")]
    assert any("interrupted mid-send" in r.getMessage() for r in caplog.records)
    [delivered] = list((tmp_path / "outbox").glob("*.eml"))
    assert delivered.read_bytes() == digest.message
    assert [o.status for o in delivery.deliver([ANA], MONDAY_0800 + timedelta(hours=2))] == [
        "already-delivered"
    ]


def test_a_period_with_nothing_new_is_closed_and_late_articles_wait_for_the_next(
    store: Store, tmp_path: Path
) -> None:
    delivery = digest_delivery(store, tmp_path, OutboxDelivery(tmp_path / "outbox"))
    [empty] = delivery.deliver([ANA], MONDAY_0800)
    assert empty.status == "nothing-new"
    record = store.digest_ledger.get("ana", MONDAY)
    assert record is not None and (record.status, record.location) == ("delivered", NOTHING_NEW_LOCATION)
    stored(store, ofcom_article("late", MONDAY_0800 + timedelta(hours=1)))
    assert [o.status for o in delivery.deliver([ANA], MONDAY_0800 + timedelta(hours=2))] == [
        "already-delivered"
    ]
    [tuesday] = delivery.deliver([ANA], MONDAY_0800 + timedelta(days=1))
    assert (tuesday.status, tuesday.items) == ("delivered", 1)


def test_a_pending_digest_of_a_subscriber_no_longer_configured_is_left_alone(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store.digest_ledger.record("gone", MONDAY, "<digest-gone-2026-01-12@regwatch>", "pending", MONDAY_0800)
    delivery = digest_delivery(store, tmp_path, OutboxDelivery(tmp_path / "outbox"))
    with caplog.at_level(logging.WARNING, logger="digests"):
        assert [o.status for o in delivery.deliver([ANA], MONDAY_0800)] == ["nothing-new"]
    assert any("no longer configured" in r.getMessage() for r in caplog.records)
    assert [r.subscriber_id for r in store.digest_ledger.pending()] == ["gone"]


def test_an_alert_goes_out_once_per_article_through_the_stores_ledger(store: Store, tmp_path: Path) -> None:
    watcher = Subscriber("ana", "Ana Analyst", "ana@example.org", entities=("Ofcom", "X"), alerts=True)
    alerts = AlertDelivery(
        store.alert_ledger,
        store.articles,
        deliverer=OutboxDelivery(tmp_path / "outbox"),
        lock_path=tmp_path / "digests.lock",
        sender="regwatch <regwatch@reg.example>",
        lookback=timedelta(hours=24),
        min_interval=timedelta(minutes=60),
        max_items=10,
        sources=SOURCES,
    )
    article = ofcom_article("probe", MONDAY_0800 - timedelta(minutes=20))
    stored(store, article)
    [outcome] = alerts.send([watcher, ANA], MONDAY_0800)  # ANA has no alerts: not considered
    assert (outcome.subscriber_id, outcome.status, outcome.items) == ("ana", "sent", 1)
    assert store.alert_ledger.known("ana") == {article.id: "sent"}
    assert alerts.send([watcher], MONDAY_0800 + timedelta(hours=2)) == []
    assert len(list((tmp_path / "outbox").glob("*-alert-*.eml"))) == 1
