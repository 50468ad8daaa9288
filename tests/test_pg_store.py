"""The PostgreSQL store itself: schema versions, connection errors and passwords, concurrent writers.

What both engines share (articles, stories, ledgers) is tested on both by the store
suites (the ``engine`` fixture); this module is about what only PostgreSQL has, on a
real server (``tests/pg_fixtures.py``).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cli_helpers import Cli
from pg_fixtures import PASSWORD, PASSWORD_USER, UNUSED_CLUSTER, PostgresServer, sql
from ports import refused_port
from test_cli import assert_one_line_error
from test_index_store import make_article

from indexer import Store
from indexer._pg._schema import MIGRATIONS, SCHEMA_VERSION, STORY_LOCK, current_version, migrate
from regwatch.errors import ConfigError, IndexBackendError
from regwatch.settings import Settings

T0 = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)


# -- schema versions -------------------------------------------------------------------------------


def schema_of(url: str) -> dict[str, Any]:
    """Every table, column, constraint and index of the database's schema, comparable across creation paths."""
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            """
            SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default, collation_name,
                is_identity, identity_generation, generation_expression
            FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position
            """
        ).fetchall()
        constraints = conn.execute(
            """
            SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
            FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
            WHERE n.nspname = 'public' ORDER BY 1, 2
            """
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname"
        ).fetchall()
        versions = conn.execute("SELECT version FROM regwatch_schema ORDER BY version").fetchall()
    return {"columns": columns, "constraints": constraints, "indexes": indexes, "versions": versions}


def test_a_new_database_gets_the_current_schema_at_once(
    empty_pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="indexer"):
        Store.open_postgresql(empty_pg_url).close()
    assert [r.getMessage() for r in caplog.records if "schema version" in r.getMessage()] == [
        f"PostgreSQL store {empty_pg_url} created at schema version {SCHEMA_VERSION}"
    ]
    assert schema_of(empty_pg_url)["versions"] == [(v,) for v in range(1, SCHEMA_VERSION + 1)]


def test_each_migration_applies_in_order_and_ends_at_the_new_databases_schema(
    pg_server: PostgresServer, empty_pg_url: str
) -> None:
    migrated = pg_server.url(pg_server.create_database())
    import sqlalchemy

    engine = sqlalchemy.create_engine(migrated.replace("postgresql://", "postgresql+psycopg://"))
    try:
        for version in range(1, len(MIGRATIONS) + 1):
            with engine.begin() as conn:
                assert migrate(conn, migrated, target=version) == version
            with engine.begin() as conn:
                assert current_version(conn) == version
    finally:
        engine.dispose()
    Store.open_postgresql(empty_pg_url).close()
    assert schema_of(migrated) == schema_of(empty_pg_url)
    with Store.open_postgresql(migrated) as store:  # and the migrated database works as a store
        assert store.articles.upsert(make_article()) == "new"


def test_a_schema_newer_than_this_code_is_refused(pg_url: str) -> None:
    sql_on(pg_url, f"INSERT INTO regwatch_schema (version) VALUES ({SCHEMA_VERSION + 1})")
    with pytest.raises(IndexBackendError, match="newer than this regwatch understands"):
        Store.open_postgresql(pg_url)


def test_a_database_holding_other_tables_is_not_taken_over(empty_pg_url: str) -> None:
    sql_on(empty_pg_url, "CREATE TABLE invoices (n integer)")
    with pytest.raises(IndexBackendError, match="has tables but no regwatch schema"):
        Store.open_postgresql(empty_pg_url)


def test_two_processes_creating_one_new_database_at_once_create_it_once(empty_pg_url: str) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def open_one() -> None:
        try:
            barrier.wait(10)
            Store.open_postgresql(empty_pg_url).close()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert schema_of(empty_pg_url)["versions"] == [(v,) for v in range(1, SCHEMA_VERSION + 1)]


def sql_on(url: str, statement: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)  # type: ignore[arg-type]


# -- URLs, passwords, errors ------------------------------------------------------------------------


def test_the_password_comes_from_store_password_and_is_never_shown(
    pg_server: PostgresServer, home: Path
) -> None:
    url = pg_server.url(pg_server.create_database(owner=PASSWORD_USER), user=PASSWORD_USER)
    settings = Settings(
        env={
            "REGWATCH_STORE_URL": url,
            "REGWATCH_STORE_PASSWORD": PASSWORD,
            "REGWATCH_INDEX_URL": UNUSED_CLUSTER,
        }
    )
    with Store.from_settings(settings, home) as store:
        assert store.engine == "postgresql"
        assert store.articles.upsert(make_article()) == "new"
        assert store.location == url.replace(f"{PASSWORD_USER}@", f"{PASSWORD_USER}:***@")
        assert PASSWORD not in str(store.describe())
    with pytest.raises(IndexBackendError) as refused:  # no password: the server says so, in one line
        Store.open_postgresql(url)
    assert "password" in str(refused.value) and "\n" not in str(refused.value)


def test_a_wrong_password_in_the_url_is_masked_in_the_error(pg_server: PostgresServer) -> None:
    url = pg_server.url("postgres", user=f"{PASSWORD_USER}:not-{PASSWORD}")
    with pytest.raises(IndexBackendError) as refused:
        Store.open_postgresql(url)
    assert f"not-{PASSWORD}" not in str(refused.value)
    assert f"{PASSWORD_USER}:***@127.0.0.1" in str(refused.value)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("mysql://u@h/db", "is not a PostgreSQL URL"),
        ("postgresql://u@h:5432", "names no database"),
    ],
)
def test_a_store_url_that_is_not_a_postgresql_database_is_a_config_error(url: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        Store.open_postgresql(url)


def test_postgresql_without_a_search_cluster_is_refused_at_start_in_one_line(
    cli: Cli, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGWATCH_STORE_URL", pg_url)
    monkeypatch.delenv("REGWATCH_INDEX_URL", raising=False)
    assert_one_line_error(
        cli("run", expect=None),
        "STORE_URL is PostgreSQL: set REGWATCH_INDEX_URL to an OpenSearch/Elasticsearch cluster; "
        "regwatch has no PostgreSQL full-text search",
    )


def test_an_unreachable_server_is_one_line_naming_the_masked_url(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGWATCH_STORE_URL", f"postgresql://ops:hunter2@127.0.0.1:{refused_port()}/regwatch")
    monkeypatch.setenv("REGWATCH_INDEX_URL", UNUSED_CLUSTER)
    result = cli("store", "status", expect=None)
    assert_one_line_error(result, "cannot connect to the PostgreSQL store postgresql://ops:***@127.0.0.1:")
    assert "hunter2" not in result.output


def test_settings_and_store_status_say_which_engine(
    cli: Cli, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli.json("settings")["store"]["engine"] == "sqlite"
    assert cli.json("store", "status")["engine"] == "sqlite"
    monkeypatch.setenv("REGWATCH_STORE_URL", pg_url.replace("regwatch@", "regwatch:hunter2@"))
    monkeypatch.setenv("REGWATCH_INDEX_URL", UNUSED_CLUSTER)
    shown = cli.json("settings")
    assert shown["store"] == {
        "engine": "postgresql",
        "location": pg_url.replace("regwatch@", "regwatch:***@"),
    }
    assert "STORE" in cli("settings").output and "hunter2" not in cli("settings").output
    status = cli.json("store", "status")  # the test server trusts the user: the password is not checked
    assert status["engine"] == "postgresql" and status["schema_version"] == SCHEMA_VERSION
    assert status["location"] == pg_url.replace("regwatch@", "regwatch:***@")
    assert status["articles"] == 0


# -- concurrent writers --------------------------------------------------------------------------------


def test_workers_storing_one_new_article_at_once_store_it_once(pg_url: str) -> None:
    stores = [Store.open_postgresql(pg_url, stories="deferred") for _ in range(2)]
    barrier = threading.Barrier(8)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def store_it(store: Store) -> None:
        try:
            barrier.wait(10)
            outcomes.append(store.articles.upsert(make_article()))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=store_it, args=(stores[n % 2],)) for n in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        assert sorted(outcomes) == ["duplicate"] * 7 + ["new"]
        assert stores[0].articles.count() == 1
        assert sql(stores[0], "SELECT count(*) FROM article_urls") == [(2,)]
    finally:
        for store in stores:
            store.close()


def waits_for_a_lock(url: str, deadline_s: float = 30) -> bool:
    """Poll pg_stat_activity until a regwatch connection waits for a lock (heavyweight or advisory)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        with psycopg.connect(url, autocommit=True) as conn:
            waiting = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'regwatch' "
                "AND wait_event_type = 'Lock'"
            ).fetchone()
        if waiting and waiting[0]:
            return True
        threading.Event().wait(0.02)
    return False


def test_a_pending_record_racing_a_delivery_cannot_overwrite_it(pg_url: str) -> None:
    """Another sender's "delivered" commits while this one records "pending": the ledger keeps "delivered".

    (SQLite runs one writer at a time, so there is no such race there.)
    """
    with Store.open_postgresql(pg_url) as store:
        _race_a_delivery(store)


def _race_a_delivery(store: Store) -> None:
    other = psycopg.connect(store.location)
    other.execute(
        "INSERT INTO digests (subscriber_id, period, message_id, status, created_at, updated_at, delivered_at) "
        "VALUES ('ana', '2026-01-12', '<d@regwatch>', 'delivered', now(), now(), now())"
    )  # not committed yet: the ledger's insert waits for it
    raised: list[BaseException] = []

    def record_pending() -> None:
        try:
            store.digest_ledger.record("ana", date(2026, 1, 12), "<d@regwatch>", "pending", T0)
        except BaseException as exc:  # noqa: BLE001
            raised.append(exc)

    thread = threading.Thread(target=record_pending)
    thread.start()
    try:
        assert waits_for_a_lock(store.location), "the ledger never waited for the other sender's row"
    finally:
        other.commit()
        other.close()
    thread.join(30)
    assert len(raised) == 1 and isinstance(raised[0], ValueError) and "already delivered" in str(raised[0])
    record = store.digest_ledger.get("ana", date(2026, 1, 12))
    assert record is not None and record.status == "delivered"


def test_an_inline_upsert_waits_while_another_process_assigns_stories(pg_url: str) -> None:
    with Store.open_postgresql(pg_url) as store:
        other = psycopg.connect(pg_url)
        other.execute(f"SELECT pg_advisory_xact_lock({STORY_LOCK})")  # a stories step elsewhere
        done = threading.Event()
        thread = threading.Thread(target=lambda: (store.articles.upsert(make_article()), done.set()))
        thread.start()
        try:
            assert waits_for_a_lock(pg_url)
            assert not done.is_set()
        finally:
            other.commit()
            other.close()
        thread.join(30)
        assert done.is_set() and store.articles.count() == 1


def test_copies_stored_by_two_workers_at_once_share_one_story(pg_url: str) -> None:
    from test_index_story import copy, wire

    stores = [Store.open_postgresql(pg_url) for _ in range(2)]
    barrier = threading.Barrier(2)
    try:
        threads = [
            threading.Thread(target=lambda s=s, a=a: (barrier.wait(10), s.articles.upsert(a)))
            for s, a in zip(stores, (wire(), copy()), strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        stories = {
            a.id: a.story_id
            for a in stores[0].articles.first_seen_between(None, datetime.now(UTC) + timedelta(1))
        }
        assert len(stories) == 2 and len(set(stories.values())) == 1
    finally:
        for store in stores:
            store.close()


# -- store copy of the desk's tables and source discovery ---------------------------------------------


def test_store_copy_carries_accounts_saved_searches_subscriptions_and_discoveries(
    tmp_path: Path, pg_server: PostgresServer
) -> None:
    from test_index_desk_store import search

    from indexer._copy import copy_sqlite_to_postgresql
    from indexer._pg import PgDatabase
    from regwatch.models import Account, Discovery, SourceHealthState, Subscriber

    found = Discovery("feed", "https://x.example/feed.xml", reason="declared", rejected=["sitemap: 404"])
    ops_off = SourceHealthState("x", disabled_at=T0, disabled_reason="turned off on the desk by bob")
    with Store.open(tmp_path / "regwatch.db") as sqlite:
        sqlite.users.add(
            Account("alice", "Alice Analyst", "$argon2id$h", ("analyst", "ops"), token_hash="t1")
        )
        sqlite.users.record_login("alice", T0)
        sqlite.users.add(Account("bob", "Bob", ""))
        saved = sqlite.saved_searches.add(search(alert=True))
        sqlite.saved_searches.add(search(owner="bob", name="Élections"))
        sqlite.subscriptions.save(
            Subscriber("alice", "Alice", "alice@example.org", entities=("Ofcom",), min_relevance=0.5),
            owner="alice",
        )
        sqlite.source_states.save_discovery("x", found)
        sqlite.source_states.save(ops_off)
        expected = (
            sqlite.users.all(),
            sqlite.saved_searches.all(),
            sqlite.subscriptions.all(),
            sqlite.source_states.discoveries(),
        )
    url = pg_server.url(pg_server.create_database())
    target = PgDatabase.open(url)
    try:
        reports = {r.table: r for r in copy_sqlite_to_postgresql(tmp_path / "regwatch.db", target)}
    finally:
        target.close()
    for table, rows in (("users", 2), ("saved_searches", 2), ("subscriptions", 1), ("source_discovery", 1)):
        assert reports[table].ok and reports[table].target_rows == rows, reports[table].to_dict()
    with Store.open_postgresql(url) as pg:
        assert (
            pg.users.all(),
            pg.saved_searches.all(),
            pg.subscriptions.all(),
            pg.source_states.discoveries(),
        ) == expected
        assert pg.users.by_token("t1") == expected[0][0] and saved is not None
        assert pg.saved_searches.get(saved.id) == saved
        assert pg.source_states.get("x").turned_off_by_hand
