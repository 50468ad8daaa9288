"""End to end on PostgreSQL and the real OpenSearch node: the demo, search, and `store copy` of a SQLite home.

The same demo runs into a SQLite home (embedded search) and into PostgreSQL with
the cluster (``STORE_URL`` + ``INDEX_URL``): the same figures, the same search
hits. Then the SQLite home is copied into a new PostgreSQL database with
`regwatch store copy`, checked table by table and article by article, and the
demo run again on the copy finds nothing new and sends nothing: the copy is
the store it came from.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Cli
from pg_fixtures import PostgresServer

from indexer import Store
from indexer._copy import copy_sqlite_to_postgresql
from indexer._pg import PgDatabase

pytestmark = pytest.mark.slow

QUERIES = (("Grok",), ("online safety",), ("Ofcom", "--entity", "X"), ("fine*", "--sort", "newest"))


@pytest.fixture(scope="module")
def env(cluster_url: str, pg_server: PostgresServer) -> Iterator[dict[str, str]]:
    """The PostgreSQL demo's settings: a database of its own and a fresh alias on the node."""
    import opensearchpy

    alias = f"rwtest-pg-{uuid.uuid4().hex[:8]}"
    database = pg_server.create_database()
    yield {
        "REGWATCH_STORE_URL": pg_server.url(database),
        "REGWATCH_INDEX_URL": cluster_url,
        "REGWATCH_INDEX_NAME": alias,
    }
    pg_server.drop_database(database)
    client = opensearchpy.OpenSearch([cluster_url])
    try:
        client.indices.delete(index=f"{alias}-*", ignore_unavailable=True)
        client.indices.delete_index_template(name=f"{alias}-template", ignore=[404])
    finally:
        client.close()


def run(home: Path | None, env: dict[str, str], *args: str) -> Any:
    """`regwatch ARGS --json` in-process with ``env`` set (the crawl subprocess inherits it)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("REGWATCH_STORE_URL", "REGWATCH_INDEX_URL", "REGWATCH_INDEX_NAME", "REGWATCH_CONFIG"):
            patch.delenv(name, raising=False)
        for name, value in env.items():
            patch.setenv(name, value)
        return Cli(home=home).json(*args)


@pytest.fixture(scope="module")
def sqlite_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sqlite-demo")


@pytest.fixture(scope="module")
def sqlite_demo(sqlite_home: Path) -> dict[str, Any]:
    return run(None, {}, "demo", "--out", str(sqlite_home))


@pytest.fixture(scope="module")
def pg_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pg-demo")


@pytest.fixture(scope="module")
def pg_demo(pg_home: Path, env: dict[str, str]) -> dict[str, Any]:
    return run(None, env, "demo", "--out", str(pg_home))


FIGURES = ("sources", "pages_fetched", "new", "updated", "duplicate", "errors", "articles_tagged", "indexed")


def test_the_demo_on_postgresql_and_the_cluster_gives_the_sqlite_demos_figures(
    sqlite_demo: dict[str, Any], pg_demo: dict[str, Any], pg_home: Path
) -> None:
    assert (pg_demo["new"], pg_demo["duplicate"], pg_demo["errors"]) == (33, 4, 2)
    assert {k: pg_demo[k] for k in FIGURES} == {k: sqlite_demo[k] for k in FIGURES}
    assert pg_demo["watched_entities"] == sqlite_demo["watched_entities"]
    assert [d["status"] for d in pg_demo["digests"]] == ["delivered"]
    assert not (pg_home / "regwatch.db").exists()  # nothing went to a SQLite file


def test_search_through_the_cluster_finds_the_sqlite_demos_hits(
    sqlite_demo: dict[str, Any],
    pg_demo: dict[str, Any],
    sqlite_home: Path,
    pg_home: Path,
    env: dict[str, str],
) -> None:
    for query in QUERIES:
        embedded = run(sqlite_home, {}, "search", *query, "--limit", "50")
        clustered = run(pg_home, env, "search", *query, "--limit", "50")
        assert clustered["total"] == embedded["total"] > 0, query
        # Paths, not URLs: each demo served the sample site on a port of its own.
        assert sorted(path_of(h["url"]) for h in clustered["hits"]) == sorted(
            path_of(h["url"]) for h in embedded["hits"]
        ), query


def path_of(url: str) -> str:
    return url.split("/", 3)[3]


def test_a_second_demo_run_on_postgresql_adds_and_sends_nothing(
    pg_demo: dict[str, Any], pg_home: Path, env: dict[str, str]
) -> None:
    again = run(None, env, "demo", "--out", str(pg_home))
    assert (again["new"], again["updated"]) == (0, 0)
    assert [d["status"] for d in again["digests"]] == ["already-delivered"]
    status = run(pg_home, env, "index", "status")
    assert status["store"] == "postgresql" and status["pending"] == 0 and status["documents"] == 33


# -- store copy ---------------------------------------------------------------------------------------


def test_store_copy_moves_the_sqlite_demo_into_postgresql_verified(
    sqlite_demo: dict[str, Any], sqlite_home: Path, pg_server: PostgresServer, cluster_url: str
) -> None:
    url = pg_server.url(pg_server.create_database())
    copied = run(sqlite_home, {}, "store", "copy", "--to", url)
    assert copied["ok"] is True
    rows = {t["table"]: t for t in copied["tables"]}
    assert rows["articles"]["source_rows"] == rows["articles"]["target_rows"] == 33
    assert all(t["source_checksum"] == t["target_checksum"] for t in copied["tables"])
    with Store.open(sqlite_home / "regwatch.db") as sqlite, Store.open_postgresql(url) as pg:
        originals = sqlite.articles.first_seen_between(None, far_future())
        assert [a.to_dict() for a in pg.articles.first_seen_between(None, far_future())] == [
            a.to_dict() for a in originals
        ]
        for article in originals:
            assert pg.articles.urls(article.id) == sqlite.articles.urls(article.id)
            assert [a.id for a in pg.stories.articles(article.story_id)] == [
                a.id for a in sqlite.stories.articles(article.story_id)
            ]
        assert [h.to_dict() for h in pg.source_states.health()] == [
            h.to_dict() for h in sqlite.source_states.health()
        ]
        assert pg.source_states.all() == sqlite.source_states.all()
        [digest] = sqlite.digest_ledger.pending() or [
            sqlite.digest_ledger.get("policy-desk", today(sqlite_demo))
        ]
        assert pg.digest_ledger.get(digest.subscriber_id, digest.period) == digest
        assert pg.fetch_ledger.validators(a.source_id for a in originals) == sqlite.fetch_ledger.validators(
            a.source_id for a in originals
        )
    # The copy is the store: the demo run again on it, with the cluster, finds nothing new, sends nothing.
    alias = f"rwtest-copy-{uuid.uuid4().hex[:8]}"
    env = {"REGWATCH_STORE_URL": url, "REGWATCH_INDEX_URL": cluster_url, "REGWATCH_INDEX_NAME": alias}
    again = run(None, env, "demo", "--out", str(sqlite_home))
    assert (again["new"], again["updated"]) == (0, 0)
    assert [d["status"] for d in again["digests"]] == ["already-delivered"]
    assert again["indexed"] == 33  # the new cluster was sent every copied article
    embedded = run(sqlite_home, {}, "search", "Grok", "--limit", "50")
    clustered = run(sqlite_home, env, "search", "Grok", "--limit", "50")
    assert sorted(h["id"] for h in clustered["hits"]) == sorted(h["id"] for h in embedded["hits"])


def test_an_interrupted_copy_continues_where_it_stopped_and_duplicates_nothing(
    sqlite_demo: dict[str, Any], sqlite_home: Path, pg_server: PostgresServer
) -> None:
    url = pg_server.url(pg_server.create_database())
    seen: list[tuple[str, int]] = []

    def interrupt(table: str, done: int, total: int) -> None:
        seen.append((table, done))
        if table == "article_entities" and done >= 100:
            raise KeyboardInterrupt  # as a user's Ctrl-C between two batches

    target = PgDatabase.open(url)
    try:
        with pytest.raises(KeyboardInterrupt):
            copy_sqlite_to_postgresql(sqlite_home / "regwatch.db", target, batch_rows=50, progress=interrupt)
        assert ("articles", 33) in seen and ("article_entities", 100) in seen
        resumed: list[tuple[str, int]] = []
        reports = copy_sqlite_to_postgresql(
            sqlite_home / "regwatch.db",
            target,
            batch_rows=50,
            progress=lambda t, d, n: resumed.append((t, d)),
        )
    finally:
        target.close()
    by_table = {r.table: r for r in reports}
    assert all(r.ok for r in reports), [r.to_dict() for r in reports if not r.ok]
    assert by_table["articles"].copied == 0  # finished in the first run: not copied again
    assert by_table["article_entities"].copied == by_table["article_entities"].source_rows - 100
    assert ("article_entities", 150) in resumed and ("article_entities", 50) not in resumed


def test_a_copy_that_no_longer_matches_its_source_exits_1(
    sqlite_demo: dict[str, Any], sqlite_home: Path, pg_server: PostgresServer
) -> None:
    url = pg_server.url(pg_server.create_database())
    assert run(sqlite_home, {}, "store", "copy", "--to", url)["ok"] is True
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:  # the target drifts from its source
        conn.execute("UPDATE source_state SET failure_score = failure_score + 1")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("REGWATCH_STORE_URL", raising=False)
        result = Cli(home=sqlite_home)("store", "copy", "--to", url, "--json", expect=1)
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert [t["table"] for t in report["tables"] if not t["ok"]] == ["source_state"]
    assert "source_state differ(s)" in result.stderr and "--restart" in result.stderr


def test_a_copy_into_a_store_already_in_use_is_refused(
    sqlite_home: Path, sqlite_demo: dict[str, Any], pg_url: str
) -> None:
    with Store.open_postgresql(pg_url) as used:
        from test_index_store import make_article

        used.articles.upsert(make_article())
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("REGWATCH_STORE_URL", raising=False)
        result = Cli(home=sqlite_home)("store", "copy", "--to", pg_url, expect=1)
    assert "already holds 1 articles that did not come from" in result.output
    assert "Traceback" not in result.output


def far_future() -> Any:
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) + timedelta(days=3650)


def today(demo: dict[str, Any]) -> Any:
    from datetime import date

    return date.fromisoformat(demo["digests"][0]["period"])
