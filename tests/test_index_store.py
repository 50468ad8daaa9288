"""The store as the source of truth: opening, articles, entities, reopening."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from indexer import SearchQuery, Store
from indexer._schema import SCHEMA_VERSION
from regwatch.errors import IndexBackendError
from regwatch.models import Action, Article, CrawlFailure, CrawlStats, Quote, SourceHealthState, TaggedEntity

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def make_article(n: int = 1, **changes: object) -> Article:
    fields: dict[str, object] = {
        "url": f"https://news.example/story-{n}",
        "source_id": "example-news",
        "title": f"Ofcom opens investigation number {n}",
        "body": "The regulator Ofcom said it had opened an investigation into the platform's age checks.",
        "fetch_url": f"https://news.example/story-{n}?utm_source=rss",
        "summary": "Ofcom investigates age checks.",
        "published": T0,
        "authors": ["A. Reporter"],
        "language": "en",
        "section": "Tech",
        "tags": ["online safety"],
        "fetched_at": T0 + timedelta(hours=1),
    }
    fields.update(changes)
    return Article(**fields)  # type: ignore[arg-type]


OFCOM = TaggedEntity("Ofcom", "regulator", ["Ofcom"], "ofcom", 2, 4, True, 0.9)
PLATFORM = TaggedEntity("Acme Social", "ORG", ["Acme Social"], None, 1, 40, False, 0.2)


def test_open_creates_parent_dirs_and_puts_the_file_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "regwatch.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()


def _schema_of(path: Path) -> dict[str, object]:
    """Every schema object of a database, comparable across creation paths.

    Indexes, triggers and virtual tables by their SQL (whitespace folded); tables by
    their columns, keys and indexes (a column added by ALTER TABLE is in its SQL text
    differently from one declared in CREATE TABLE, with the same meaning).
    """
    conn = sqlite3.connect(path)
    try:
        schema: dict[str, object] = {}
        rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").fetchall()
        for kind, name, table, sql in rows:
            if kind == "table" and not (sql or "").upper().startswith("CREATE VIRTUAL"):
                schema[name] = (
                    kind,
                    table,
                    conn.execute(f"PRAGMA table_xinfo('{name}')").fetchall(),
                    conn.execute(f"PRAGMA foreign_key_list('{name}')").fetchall(),
                    sorted(row[1:] for row in conn.execute(f"PRAGMA index_list('{name}')")),
                    "WITHOUT ROWID" in (sql or "").upper(),
                    "CHECK" in (sql or "").upper(),
                )
            else:
                schema[name] = (kind, table, " ".join((sql or "").split()))
        schema["fts config"] = conn.execute("SELECT * FROM article_fts_config ORDER BY k").fetchall()
        schema["version"] = conn.execute("PRAGMA user_version").fetchone()[0]
        return schema
    finally:
        conn.close()


def test_a_new_store_is_created_at_the_current_version_without_migrating(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("DEBUG", logger="indexer"):
        Store.open(tmp_path / "new.db").close()
    assert not [r for r in caplog.records if "migrated" in r.getMessage()]
    assert _schema_of(tmp_path / "new.db")["version"] == SCHEMA_VERSION


def test_a_new_store_has_the_same_schema_as_one_migrated_from_the_first_version(tmp_path: Path) -> None:
    from indexer._schema import MIGRATIONS, migrate

    old = tmp_path / "old.db"
    conn = sqlite3.connect(old, isolation_level=None)
    try:
        for statement in MIGRATIONS[0]:
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 1")
        migrate(conn, old)  # the later migrations, one by one, as on an existing home
    finally:
        conn.close()
    Store.open(tmp_path / "new.db").close()
    migrated, created = _schema_of(old), _schema_of(tmp_path / "new.db")
    assert sorted(created) == sorted(migrated)
    for name in migrated:
        assert created[name] == migrated[name], name


def test_version_9_splits_the_old_one_line_failures_into_values_and_keeps_the_counters(
    tmp_path: Path,
) -> None:
    from indexer._schema import MIGRATIONS, migrate

    old = tmp_path / "old.db"
    with closing(sqlite3.connect(old, isolation_level=None)) as conn:
        for statement in (s for version in MIGRATIONS[:8] for s in version):
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 8")
        rows = [  # (source, hour, ok, class, message, new, errors) as version 8 wrote them
            ("fca", 0, 1, "", "", 3, 0),
            (
                "fca",
                1,
                0,
                "dns",
                "dns https://fca.example/feed: index unavailable: cannot resolve host",
                0,
                1,
            ),
            ("ico", 0, 1, "too_large", "too_large https://ico.example/a: response dropped: bigger", 2, 1),
            ("ofcom", 0, 0, "timeout", "timeout: no answer after 30s", 0, 1),  # not "<class> <url>: …"
        ]
        for source_id, hour, ok, error_class, message, new, errors in rows:
            at = (T0 + timedelta(hours=hour)).isoformat()
            conn.execute(
                "INSERT INTO crawl_runs (source_id, started, finished, ok, pages_fetched, new, errors,"
                " error_class, error_message, error_messages) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (source_id, at, at, ok, new, new, errors, error_class, message, json.dumps([message])),
            )
        migrate(conn, old)
    with Store.open(old) as store:
        health = {h.source_id: h for h in store.source_states.health()}
    assert health["fca"].last_failure == CrawlFailure(
        "dns", "https://fca.example/feed", "index unavailable: cannot resolve host"
    )
    assert health["ico"].last_failure == CrawlFailure(
        "too_large", "https://ico.example/a", "response dropped: bigger"
    )
    assert health["ofcom"].last_failure == CrawlFailure("timeout", "", "timeout: no answer after 30s")
    assert health["ico"].last_run_counts == {
        "pages_fetched": 2,
        "new": 2,
        "updated": 0,
        "duplicate": 0,
        "errors": 1,
    }
    assert health["fca"].consecutive_failures == 1


def test_open_refuses_a_schema_newer_than_this_code(tmp_path: Path) -> None:
    path = tmp_path / "regwatch.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(IndexBackendError, match="newer than this regwatch"):
        Store.open(path)


def test_open_turns_a_file_that_is_not_a_database_into_an_index_backend_error(tmp_path: Path) -> None:
    path = tmp_path / "regwatch.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(IndexBackendError, match="regwatch.db"):
        Store.open(path)


def test_from_settings_opens_the_db_name_inside_home(tmp_path: Path) -> None:
    from regwatch.settings import Settings

    settings = Settings(env={}, overrides={"INDEX_DB_NAME": "custom.db"})
    with Store.from_settings(settings, tmp_path) as opened:
        assert opened.path == tmp_path / "custom.db"
    assert (tmp_path / "custom.db").exists()


def test_a_closed_store_says_so(tmp_path: Path) -> None:
    opened = Store.open(tmp_path / "regwatch.db")
    opened.close()
    opened.close()  # closing twice is harmless
    with pytest.raises(IndexBackendError, match="closed"):
        opened.articles.count()


def test_a_new_article_is_new_and_the_same_content_again_is_a_duplicate(store: Store) -> None:
    article = make_article()
    assert store.articles.upsert(article) == "new"
    assert store.articles.upsert(make_article()) == "duplicate"
    assert store.articles.count() == 1


def test_a_duplicate_only_moves_last_seen(store: Store) -> None:
    store.articles.upsert(make_article(), seen_at=T0)
    store.articles.upsert(make_article(section="Other", tags=["changed"]), seen_at=T0 + timedelta(days=1))
    stored = store.articles.get(make_article().id)
    assert stored is not None
    assert stored.section == "Tech" and stored.tags == ["online safety"]
    # first_seen is still T0: the article belongs to T0's window, not the later one
    assert [a.id for a in store.articles.first_seen_between(None, T0)] == [make_article().id]
    assert store.articles.first_seen_between(T0, T0 + timedelta(days=2)) == []


def test_a_syndicated_copy_with_the_same_canonical_url_is_a_duplicate_whose_url_is_known(
    store: Store,
) -> None:
    original = make_article()
    copy = make_article(fetch_url="https://aggregator.example/syndicated/123")
    assert store.articles.upsert(original, seen_at=T0) == "new"
    assert store.articles.upsert(copy, seen_at=T0 + timedelta(hours=1)) == "duplicate"
    assert store.articles.id_for_url("https://aggregator.example/syndicated/123") == original.id
    assert store.articles.id_for_url(original.url) == original.id
    assert store.articles.id_for_url("https://elsewhere.example/") is None
    assert store.articles.urls(original.id) == [
        original.url,
        original.fetch_url,
        "https://aggregator.example/syndicated/123",
    ]
    stored = store.articles.get(original.id)
    assert stored is not None and stored.fetch_url == original.fetch_url


def test_changed_content_is_updated_keeps_first_seen_and_needs_tags_again(store: Store) -> None:
    article = make_article()
    store.articles.upsert(article, seen_at=T0)
    store.articles.set_entities(article.id, [OFCOM], "v1")
    assert store.articles.needing_tags() == []

    changed = make_article(body="Ofcom has now fined the platform after its investigation.")
    assert store.articles.upsert(changed, seen_at=T0 + timedelta(days=1)) == "updated"

    stored = store.articles.get(article.id)
    assert stored is not None
    assert stored.body == changed.body and stored.entities == []
    assert [a.id for a in store.articles.needing_tags()] == [article.id]
    assert [a.id for a in store.articles.first_seen_between(None, T0)] == [article.id]


def test_get_article_round_trips_every_field_and_the_entities(store: Store) -> None:
    article = make_article(updated=T0 + timedelta(minutes=5))
    store.articles.upsert(article)
    store.articles.set_entities(article.id, [OFCOM, PLATFORM], "tagger-1")
    stored = store.articles.get(article.id)
    assert stored is not None
    # A story of its own: the store sets story_id, the only field the crawl does not give.
    expected = article.to_dict() | {"entities": [OFCOM.to_dict(), PLATFORM.to_dict()], "story_id": article.id}
    assert stored.to_dict() == expected
    assert store.articles.get("0000000000000000") is None


def test_an_article_stored_with_entities_is_already_tagged(store: Store) -> None:
    store.articles.upsert(make_article(1, entities=[OFCOM]))
    store.articles.upsert(make_article(2))
    assert [a.url for a in store.articles.needing_tags()] == [make_article(2).url]
    stored = store.articles.get(make_article(1).id)
    assert stored is not None and stored.entities == [OFCOM]


def test_articles_needing_tags_come_oldest_first_and_respect_the_limit(store: Store) -> None:
    for n in (1, 2, 3):
        store.articles.upsert(make_article(n), seen_at=T0 + timedelta(hours=n))
    store.articles.set_entities(make_article(2).id, [])
    assert [a.url for a in store.articles.needing_tags()] == [make_article(1).url, make_article(3).url]
    assert [a.url for a in store.articles.needing_tags(limit=1)] == [make_article(1).url]


def test_articles_needing_tags_among_given_ids_leave_out_the_tagged_and_the_others(store: Store) -> None:
    for n in (1, 2, 3, 4):
        store.articles.upsert(make_article(n), seen_at=T0 + timedelta(hours=n))
    store.articles.set_entities(make_article(2).id, [OFCOM], "v1")  # tagged meanwhile by another worker
    among = [make_article(n).id for n in (3, 2, 1)]
    assert [a.url for a in store.articles.needing_tags(among=among)] == [
        make_article(1).url,
        make_article(3).url,
    ]
    assert store.articles.needing_tags(among=[]) == []


def test_set_entities_skips_an_article_that_changed_since_it_was_read(store: Store) -> None:
    store.articles.upsert(make_article())
    read = store.articles.needing_tags()[0]
    store.articles.upsert(make_article(body="A different body now."))
    assert store.articles.set_entities(read.id, [OFCOM], content_hash=read.content_hash) is False
    assert [a.body for a in store.articles.needing_tags()] == ["A different body now."]
    fresh = store.articles.needing_tags()[0]
    assert store.articles.set_entities(fresh.id, [OFCOM], content_hash=fresh.content_hash) is True
    assert store.articles.needing_tags() == []


QUOTE = Quote("We will act swiftly", "Ofcom", "ofcom", 120)
ACTION = Action("Ofcom", "investigation", "Acme Social", "ofcom", None, "Ofcom opened an investigation.")


def test_quotes_and_actions_are_stored_with_the_entities_and_read_back(store: Store) -> None:
    article = make_article()
    store.articles.upsert(article)
    store.articles.set_entities(article.id, [OFCOM], "t", quotes=[QUOTE], actions=[ACTION])
    stored = store.articles.get(article.id)
    assert stored is not None and stored.quotes == [QUOTE] and stored.actions == [ACTION]
    [listed] = store.articles.first_seen_between(None, utcnow_later())
    assert listed.quotes == [QUOTE] and listed.actions == [ACTION]


def test_set_entities_without_quotes_or_actions_leaves_them_unchanged(store: Store) -> None:
    article = make_article()
    store.articles.upsert(article)
    store.articles.set_entities(article.id, [OFCOM], quotes=[QUOTE], actions=[ACTION])
    store.articles.set_entities(article.id, [OFCOM, PLATFORM])
    stored = store.articles.get(article.id)
    assert stored is not None and stored.quotes == [QUOTE] and stored.actions == [ACTION]
    store.articles.set_entities(article.id, [OFCOM], quotes=[], actions=[])
    stored = store.articles.get(article.id)
    assert stored is not None and stored.quotes == [] and stored.actions == []


def test_changed_text_drops_the_quotes_and_actions_with_the_entities(store: Store) -> None:
    store.articles.upsert(make_article(entities=[OFCOM], quotes=[QUOTE], actions=[ACTION]))
    stored = store.articles.get(make_article().id)
    assert stored is not None and stored.quotes == [QUOTE] and stored.actions == [ACTION]
    store.articles.upsert(make_article(body="Ofcom has now closed the investigation without action."))
    stored = store.articles.get(make_article().id)
    assert stored is not None and (stored.entities, stored.quotes, stored.actions) == ([], [], [])


def utcnow_later() -> datetime:
    return datetime.now(UTC) + timedelta(minutes=1)


def test_set_entities_on_an_unknown_article_raises_key_error(store: Store) -> None:
    with pytest.raises(KeyError):
        store.articles.set_entities("0000000000000000", [OFCOM])


def test_articles_first_seen_between_is_half_open_with_entities_newest_published_first(
    store: Store,
) -> None:
    store.articles.upsert(make_article(1, published=T0), seen_at=T0)
    store.articles.upsert(make_article(2, published=T0 + timedelta(days=2)), seen_at=T0 + timedelta(hours=1))
    store.articles.upsert(make_article(3, published=None), seen_at=T0 + timedelta(hours=2))
    store.articles.set_entities(make_article(2).id, [OFCOM])

    window = store.articles.first_seen_between(T0, T0 + timedelta(hours=2))
    # (T0, T0+2h]: article 1 was seen exactly at T0 and is left out; article 3 has no
    # published time and sorts by when it was first seen (T0+2h), after article 2's T0+2d.
    assert [a.url for a in window] == [make_article(2).url, make_article(3).url]
    assert window[0].entities == [OFCOM]
    assert len(store.articles.first_seen_between(None, T0 + timedelta(hours=2))) == 3


def test_deleting_an_article_removes_it_everywhere(store: Store) -> None:
    article = make_article()
    store.articles.upsert(article)
    store.articles.set_entities(article.id, [OFCOM])
    store.search.index_pending()
    store.cluster_ledger.record("cluster", acked=[(article.id, 2)])
    assert store.articles.delete(article.id) is True
    assert store.articles.delete(article.id) is False
    assert store.articles.get(article.id) is None
    if store.engine == "sqlite":  # PostgreSQL has no embedded index: its search is the cluster's
        assert store.search.search(SearchQuery("investigation")).total == 0
    assert store.articles.id_for_url(article.url) is None
    assert store.articles.counts() == {"articles": 0, "untagged": 0, "unindexed": 0}
    assert store.cluster_ledger.deletions("cluster") == [article.id]  # the cluster is told next sync
    assert store.stories.articles(article.id) == []


def test_the_postgresql_store_has_no_embedded_search_and_says_where_search_is(
    pg_url: str,
) -> None:
    from regwatch.errors import ConfigError

    with Store.open_postgresql(pg_url) as store:
        store.articles.upsert(make_article())
        assert store.search.index_pending() == 0  # nothing to index here: the cluster is fed from its ledger
        with pytest.raises(ConfigError, match="set REGWATCH_INDEX_URL .*no PostgreSQL full-text search"):
            store.search.search(SearchQuery("investigation"))


def test_reopening_preserves_articles_index_and_ledgers(open_store: Callable[..., Store]) -> None:
    article = make_article()
    with open_store() as first:
        first.articles.upsert(article, seen_at=T0)
        first.articles.set_entities(article.id, [OFCOM, PLATFORM], "v1")
        first.search.index_pending()
        first.source_states.record_run(
            CrawlStats("example-news", pages_fetched=3, new=1),
            SourceHealthState("example-news", items_found=3),
            failed=False,
            started=T0,
            finished=T0 + timedelta(minutes=1),
        )
        first.digest_ledger.record("alice", date(2024, 5, 2), "<m1@regwatch>", "delivered", T0)

    with open_store() as second:
        stored = second.articles.get(article.id)
        assert stored is not None and stored.entities == [OFCOM, PLATFORM]
        assert second.search.index_pending() == 0
        if second.engine == "sqlite":  # PostgreSQL's search is the cluster's
            assert [
                h.id for h in second.search.search(SearchQuery("investigation", entity="ofcom")).hits
            ] == [article.id]
        assert second.source_states.health()[0].items_last_run == 1
        assert second.source_states.get("example-news").items_found == 3
        assert second.digest_ledger.last_watermark("alice") == T0
        assert second.articles.upsert(article) == "duplicate"


def test_two_stores_on_one_database_see_each_others_writes(open_store: Callable[..., Store]) -> None:
    with open_store() as parent, open_store(stories="deferred") as crawler:
        assert crawler.articles.upsert(make_article()) == "new"
        assert parent.articles.count() == 1
        assert parent.articles.upsert(make_article()) == "duplicate"
        assert parent.stories.assign_pending() == 1  # what the crawl left for the stories step


def test_a_second_store_on_the_same_file_sees_writes_and_is_not_blocked_by_a_reader(
    tmp_path: Path,
) -> None:
    path = tmp_path / "regwatch.db"
    with Store.open(path) as parent, Store.open(path, busy_timeout=0) as crawler:
        reader = sqlite3.connect(path, isolation_level=None)
        try:
            # An open read transaction, as the parent has while it searches: in WAL
            # mode a writer does not wait for it (busy_timeout=0 would fail at once).
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM articles").fetchone()
            assert crawler.articles.upsert(make_article()) == "new"
            assert reader.execute("SELECT count(*) FROM articles").fetchone()[0] == 0  # its snapshot
            reader.execute("COMMIT")
        finally:
            reader.close()
        assert parent.articles.count() == 1


def test_opening_a_version_5_store_gives_entities_their_row_numbers(tmp_path: Path) -> None:
    from indexer._schema import MIGRATIONS

    path = tmp_path / "regwatch.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in (s for migration in MIGRATIONS[:5] for s in migration):
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 5")
        stamp = "2024-05-01T09:00:00.000000+00:00"
        for doc, key in ((7, "a"), (9, "b")):
            conn.execute(
                "INSERT INTO articles (doc, id, url, source_id, title, body, fetched_at, content_hash,"
                " first_seen, last_seen, last_changed) VALUES (?, ?, ?, 'press', 'Ofcom fine', 'A fine.',"
                " ?, 'h', ?, ?, ?)",
                (doc, key, f"https://old.example/{key}", stamp, stamp, stamp, stamp),
            )
            conn.execute(
                "INSERT INTO article_entities (article_id, position, entity_id, name, norm_name, type)"
                " VALUES (?, 0, 'ofcom', 'Ofcom', 'ofcom', 'regulator')",
                (key,),
            )
    finally:
        conn.close()
    with Store.open(path) as store:
        with closing(sqlite3.connect(path)) as conn:
            rows = conn.execute("SELECT article_id, doc FROM article_entities ORDER BY doc").fetchall()
        assert [tuple(row) for row in rows] == [("a", 7), ("b", 9)]
        assert store.search.index_pending() == 2
        assert store.search.search(SearchQuery("fine", entity="OFCOM")).total == 2
        assert store.search.facets(SearchQuery("fine"))["entities"] == {"Ofcom": 2}


@pytest.mark.sqlite_only("the search_changes log feeds the embedded search's in-memory columns")
def test_every_write_that_changes_what_search_filters_on_is_logged_for_other_processes(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def logged() -> list[int]:
        with closing(sqlite3.connect(store.path)) as conn:
            return [row[0] for row in conn.execute("SELECT doc FROM search_changes ORDER BY seq")]

    article = make_article()
    store.articles.upsert(article)
    with closing(sqlite3.connect(store.path)) as conn:
        doc = conn.execute("SELECT doc FROM articles WHERE id = ?", (article.id,)).fetchone()[0]
    assert logged() == [doc]
    store.articles.upsert(make_article())  # a duplicate changes nothing search reads
    assert logged() == [doc]
    store.articles.set_entities(article.id, [OFCOM, PLATFORM])  # two entity rows
    assert logged() == [doc] * 3
    store.articles.upsert(make_article(body="Ofcom closed it."))  # an update, which drops its entities
    assert len(logged()) == 6
    monkeypatch.setattr("indexer._fts.SEARCH_CHANGES_KEPT", 2)
    store.search.index_pending()  # keeps the latest changes only
    assert len(logged()) == 2
    store.articles.delete(article.id)
    assert logged()[-1] == doc
