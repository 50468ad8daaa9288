"""The store's desk components: accounts, saved searches, subscriptions; and the schema step that adds them.

The component tests run on both store engines (the ``store`` fixture, ``tests/pg_fixtures.py``).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from indexer import Store
from indexer._schema import MIGRATIONS, SCHEMA_VERSION
from regwatch.models import (
    TURNED_OFF_BY_HAND,
    Account,
    CrawlFailure,
    CrawlStats,
    Discovery,
    SavedSearch,
    SourceHealthState,
    Subscriber,
)

# -- accounts ------------------------------------------------------------------


def test_an_account_is_added_once_and_read_back_with_its_roles(store: Store) -> None:
    alice = Account("alice", "Alice Analyst", "$argon2id$hash", ("analyst", "ops"))
    assert store.users.add(alice)
    assert not store.users.add(Account("alice", "Another Alice", "x"))  # the id is taken
    stored = store.users.get("alice")
    assert stored is not None
    assert (stored.name, stored.password_hash, stored.roles) == (
        "Alice Analyst",
        "$argon2id$hash",
        alice.roles,
    )
    assert stored.created_at is not None and stored.last_login is None
    assert store.users.count() == 1 and [a.id for a in store.users.all()] == ["alice"]


def test_an_unknown_role_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="roles must be among analyst, ops"):
        store.users.add(Account("bob", "Bob", "x", ("admin",)))
    assert store.users.count() == 0


def test_an_account_is_found_by_its_token_hash_and_updated_in_place(store: Store) -> None:
    store.users.add(Account("alice", "Alice", "h1"))
    assert store.users.by_token("") is None and store.users.by_token("abc") is None
    assert store.users.update(Account("alice", "Alice A.", "h2", ("ops",), token_hash="abc"))
    found = store.users.by_token("abc")
    assert found is not None and (found.id, found.name, found.password_hash, found.roles) == (
        "alice",
        "Alice A.",
        "h2",
        ("ops",),
    )
    assert not store.users.update(Account("nobody", "N", "h"))


def test_removing_an_account_and_recording_a_login(store: Store) -> None:
    store.users.add(Account("alice", "Alice", "h"))
    at = datetime(2026, 1, 5, 9, tzinfo=UTC)
    store.users.record_login("alice", at)
    assert store.users.get("alice").last_login == at  # type: ignore[union-attr]
    assert store.users.remove("alice") and not store.users.remove("alice")
    assert store.users.get("alice") is None


# -- saved searches ------------------------------------------------------------


def search(owner: str = "alice", name: str = "Grok fines", **changes: object) -> SavedSearch:
    values: dict[str, object] = {
        "id": "",
        "owner": owner,
        "name": name,
        "query": 'grok "age checks"',
        "entity": "Ofcom",
        "source_types": ("regulator", "government"),
        "languages": ("en",),
        "since": "2026-01-01",
    }
    values.update(changes)
    return SavedSearch(**values)  # type: ignore[arg-type]


def test_a_saved_search_gets_an_id_and_round_trips_every_parameter(store: Store) -> None:
    stored = store.saved_searches.add(search(alert=True))
    assert stored is not None and stored.id and stored.origin == "store" and stored.created_at
    assert store.saved_searches.get(stored.id) == stored
    assert store.saved_searches.of("alice") == [stored]
    assert stored.source_types == ("regulator", "government") and stored.alert


def test_a_name_is_unique_per_owner_only(store: Store) -> None:
    assert store.saved_searches.add(search()) is not None
    assert store.saved_searches.add(search()) is None
    assert store.saved_searches.add(search(owner="bob")) is not None
    assert [s.owner for s in store.saved_searches.all()] == ["alice", "bob"]


def test_only_the_owner_updates_or_removes_a_saved_search(store: Store) -> None:
    first = store.saved_searches.add(search())
    other = store.saved_searches.add(search(name="Other"))
    assert first is not None and other is not None
    assert not store.saved_searches.update(SavedSearch(first.id, "bob", "Stolen"))
    assert not store.saved_searches.update(SavedSearch(first.id, "alice", "Other"))  # name taken
    assert store.saved_searches.update(SavedSearch(first.id, "alice", "Renamed", query="fine", alert=True))
    renamed = store.saved_searches.get(first.id)
    assert renamed is not None and (renamed.name, renamed.query, renamed.entity, renamed.alert) == (
        "Renamed",
        "fine",
        "",
        True,
    )
    assert not store.saved_searches.remove(first.id, "bob")
    assert store.saved_searches.remove(first.id, "alice")
    assert store.saved_searches.remove_all("alice") == 1 and store.saved_searches.of("alice") == []


# -- subscriptions -------------------------------------------------------------


def test_a_subscription_round_trips_every_field_but_its_saved_searches(store: Store) -> None:
    subscriber = Subscriber(
        id="alice",
        name="Alice",
        email="alice@example.org",
        timezone="Europe/Paris",
        send_time="06:30",
        entities=("Ofcom", "Grok"),
        cadence="weekly",
        weekday=2,
        keywords=('"online safety act"',),
        source_types=("regulator",),
        min_relevance=0.5,
        alerts=True,
        saved_searches=(search(),),
    )
    store.subscriptions.save(subscriber, owner="alice")
    stored = store.subscriptions.get("alice")
    assert stored is not None and stored.saved_searches == ()
    assert stored == Subscriber(**{**subscriber.__dict__, "saved_searches": ()})
    store.subscriptions.save(Subscriber("alice", "Alice", "new@example.org"), owner="alice")
    assert store.subscriptions.get("alice").email == "new@example.org"  # type: ignore[union-attr]
    assert [s.id for s in store.subscriptions.all()] == ["alice"]
    assert store.subscriptions.remove("alice") and store.subscriptions.get("alice") is None


# -- ledgers read by the ops console ---------------------------------------------


def test_the_digest_ledger_lists_its_latest_rows_by_status(store: Store) -> None:
    start = datetime(2026, 1, 5, 7, tzinfo=UTC)
    store.digest_ledger.record("a", date(2026, 1, 5), "<m1>", "pending", start)
    store.digest_ledger.record("a", date(2026, 1, 5), "<m1>", "delivered", start, location="outbox/x.eml")
    store.digest_ledger.record("b", date(2026, 1, 5), "<m2>", "failed", start, error="550 no such user")
    assert [r.subscriber_id for r in store.digest_ledger.recent()] == ["b", "a"]
    [failed] = store.digest_ledger.recent(status="failed")
    assert failed.error == "550 no such user"
    assert len(store.digest_ledger.recent(limit=1)) == 1


def test_a_sources_runs_come_newest_first_with_their_errors(store: Store) -> None:
    t0 = datetime(2026, 1, 5, 7, tzinfo=UTC)

    def record(run: CrawlStats, started: datetime, failed: bool = False) -> None:
        state = SourceHealthState(run.source_id)
        store.source_states.record_run(
            run, state, failed=failed, started=started, finished=started + timedelta(minutes=1)
        )

    record(CrawlStats("feed", pages_fetched=3, new=2), t0)
    not_found = CrawlFailure("http", "https://x.example/a", "HTTP 404", status=404)
    record(CrawlStats("feed", errors=1, failures=[not_found]), t0 + timedelta(hours=1), failed=True)
    record(CrawlStats("other", new=1), t0)
    runs = store.source_states.runs("feed")
    assert [run["ok"] for run in runs] == [False, True]
    assert (runs[0]["error_class"], runs[0]["error_url"], runs[0]["error_status"]) == (
        "http",
        "https://x.example/a",
        404,
    )
    assert runs[0]["error_messages"] == [not_found.message] and runs[0]["counts"]["errors"] == 1
    assert runs[1]["new"] == 2 and runs[1]["started"] == t0 and runs[1]["error_class"] == ""
    assert len(store.source_states.runs("feed", limit=1)) == 1
    assert store.source_states.runs("nobody") == []


def test_a_source_state_saved_by_hand_is_kept_and_read_back(store: Store) -> None:
    off = SourceHealthState(
        "feed",
        disabled_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
        disabled_reason=f"{TURNED_OFF_BY_HAND} alice",
        failure_score=1.5,
    )
    store.source_states.save(off)
    stored = store.source_states.get("feed")
    assert stored == off and stored.turned_off_by_hand
    store.source_states.save(SourceHealthState("feed"))  # turned on again
    assert not store.source_states.get("feed").disabled
    assert list(store.source_states.all()) == ["feed"]


def test_a_sources_discovery_is_kept_and_a_new_one_replaces_it(store: Store) -> None:
    at = datetime(2026, 1, 5, 9, tzinfo=UTC)
    found = Discovery(
        "listing",
        "https://x.example/news/",
        reason="learned",
        pattern={"path": "/news/[^/]+", "shape": "news/*"},
        rejected=["no feed declared"],
        items=[{"title": "Fine", "url": "https://x.example/news/fine"}],
        discovered_at=at,
    )
    store.source_states.save_discovery("x", found)
    assert store.source_states.discoveries() == {"x": found}
    again = Discovery(method="sitemap", address="https://x.example/sitemap.xml", discovered_at=at)
    store.source_states.save_discovery("x", again)
    store.source_states.save_discovery("y", Discovery("", discovered_at=at))  # nothing found is kept too
    assert store.source_states.discoveries() == {"x": again, "y": Discovery("", discovered_at=at)}


# -- schema ----------------------------------------------------------------------


def test_a_store_from_before_accounts_gains_them_and_keeps_its_articles(tmp_path: Path) -> None:
    before = next(n for n, step in enumerate(MIGRATIONS) if any("CREATE TABLE users" in s for s in step))
    path = tmp_path / "regwatch.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in (s for migration in MIGRATIONS[:before] for s in migration):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {before}")
        stamp = "2026-01-05T09:00:00.000000+00:00"
        conn.execute(
            "INSERT INTO articles (id, url, source_id, title, body, fetched_at, content_hash, first_seen,"
            " last_seen, last_changed) VALUES ('a', 'https://old.example/a', 'press', 'Old', 'Text.', ?, 'h',"
            " ?, ?, ?)",
            (stamp, stamp, stamp, stamp),
        )
        assert "users" not in {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()
    with Store.open(path) as store:
        assert store.articles.count() == 1
        assert store.users.add(Account("alice", "Alice", "h"))
        assert store.saved_searches.add(search()) is not None
        store.subscriptions.save(Subscriber("alice", "Alice", "a@example.org"), owner="alice")
    with sqlite3.connect(path) as reopened:
        assert reopened.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
