"""The desk over the OpenSearch node: /api/search answers as `regwatch search --json` on the cluster,
and the pages read the cluster (the line saying what is searched names it); with a PostgreSQL
store too, whose search is the cluster's, and whose accounts, saved searches, subscriptions,
digest ledger and source runs and states the desk reads and writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import Cli
from test_web_api import assert_api_answers_as_the_cli
from web_fixtures import CONFIG, SOURCES, desk_client, fill_store, id_of

from indexer import Store


@pytest.fixture
def cluster_cli(desk_home: Path, cluster_url: str, alias: str, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The CLI on the desk's home with the cluster as its search backend, synced."""
    monkeypatch.setenv("REGWATCH_INDEX_URL", cluster_url)
    monkeypatch.setenv("REGWATCH_INDEX_NAME", alias)
    cli = Cli(desk_home, desk_home / "desk.yaml")
    assert cli.json("index", "sync")["pending"] == 0
    return cli


def test_api_search_on_the_cluster_answers_exactly_what_the_cli_prints(
    cluster_cli: Cli, desk_home: Path, cluster_url: str, alias: str
) -> None:
    with desk_client(desk_home, INDEX_URL=cluster_url, INDEX_NAME=alias) as client:
        assert_api_answers_as_the_cli(cluster_cli, client)


def test_the_pages_read_the_cluster_and_say_so(
    cluster_cli: Cli, desk_home: Path, cluster_url: str, alias: str
) -> None:
    with desk_client(desk_home, INDEX_URL=cluster_url, INDEX_NAME=alias) as client:
        page = client.get("/?q=grok")
        assert page.status_code == 200
        assert "in OpenSearch 2." in page.text and f"(index {alias})" in page.text
        assert "said little about <mark>Grok</mark>." in page.text
        assert "Boris Johnson" in page.text  # the other-entities facet, from the cluster
        assert client.get("/entity/ofcom").status_code == 200
        assert client.get(f"/article/{id_of('investigation')}").status_code == 200
        assert client.get("/compare?q1=grok&q2=ofcom").status_code == 200
        exported = client.get("/export.csv", params={"q": "grok"})
        assert exported.headers["x-regwatch-total"] == "4"


def test_a_cluster_that_is_down_is_a_clear_page_not_a_crash(
    cluster_cli: Cli, desk_home: Path, gate: object, alias: str
) -> None:
    with desk_client(
        desk_home, INDEX_URL=gate.url, INDEX_NAME=alias, INDEX_RETRIES=0, INDEX_FLAVOR="opensearch"
    ) as client:  # type: ignore[attr-defined]
        assert client.get("/api/search", params={"q": "grok"}).status_code == 200
        gate.close()  # type: ignore[attr-defined]
        page = client.get("/?q=grok")
        assert page.status_code == 503 and "The search index cannot answer right now" in page.text
        api = client.get("/api/search", params={"q": "grok"})
        assert api.status_code == 503 and "search cluster" in api.json()["error"]


def test_the_desk_on_a_postgresql_store_searches_the_cluster_and_reads_articles_from_postgresql(
    tmp_path: Path, pg_url: str, cluster_url: str, alias: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "desk.yaml").write_text(CONFIG, encoding="utf-8")
    with Store.open_postgresql(pg_url, sources=SOURCES) as store:
        fill_store(store)
    for name in ("REGWATCH_CONFIG", "REGWATCH_HOME"):
        monkeypatch.delenv(name, raising=False)
    settings = {"STORE_URL": pg_url, "INDEX_URL": cluster_url, "INDEX_NAME": alias}
    for name, value in settings.items():
        monkeypatch.setenv(f"REGWATCH_{name}", value)
    cli = Cli(home, home / "desk.yaml")
    assert cli.json("index", "sync")["pending"] == 0
    assert not (home / "regwatch.db").exists()  # nothing went to a SQLite file
    with desk_client(home, **settings) as client:
        page = client.get("/?q=grok")
        assert page.status_code == 200
        assert "in OpenSearch 2." in page.text and f"(index {alias})" in page.text
        assert "said little about <mark>Grok</mark>." in page.text
        assert (
            "Boris Johnson" in page.text
        )  # the other-entities facet: the cluster's, labelled from PostgreSQL
        article = client.get(f"/article/{id_of('investigation')}")
        assert article.status_code == 200
        assert "Ofcom opens investigation into X over Grok" in article.text
        assert "The Daily Press" in article.text  # the story's other copy (stories.members, from PostgreSQL)
        assert "The Daily Press" not in client.get(f"/article/{id_of('fine')}").text  # a story of one
        assert client.get("/entity/ofcom").status_code == 200
        assert client.get("/compare?q1=grok&q2=ofcom").status_code == 200
        assert client.get("/export.csv", params={"q": "grok"}).headers["x-regwatch-total"] == "4"


def test_the_ops_console_shows_the_clusters_documents_and_what_is_pending(
    cluster_cli: Cli, desk_home: Path, cluster_url: str, alias: str
) -> None:
    from web_fixtures import article_of

    from indexer import Store

    with desk_client(desk_home, INDEX_URL=cluster_url, INDEX_NAME=alias) as client:
        state = client.get("/ops").text.split('id="index-state"')[1].split("</dl>")[0]
        assert "OpenSearch" in state and 'id="index-pending">0<' in state
        with Store.open(desk_home / "regwatch.db") as store:  # an edit the cluster has not seen yet
            edited = article_of("investigation")
            store.articles.upsert(type(edited)(**{**edited.__dict__, "body": edited.body + " Updated."}))
        state = client.get("/ops").text.split('id="index-state"')[1].split("</dl>")[0]
        assert 'id="index-pending">1<' in state


def test_accounts_saved_searches_subscriptions_and_ops_on_a_postgresql_store(
    tmp_path: Path, pg_url: str, cluster_url: str, alias: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, date, datetime

    from desk_accounts import PASSWORDS, accounts_client, csrf, sign_in

    from regwatch.models import Account, CrawlFailure, CrawlStats, SourceHealthState
    from web import hash_password

    home = tmp_path / "home"
    home.mkdir()
    (home / "desk.yaml").write_text(CONFIG, encoding="utf-8")
    with Store.open_postgresql(pg_url, sources=SOURCES) as store:
        fill_store(store)
        store.users.add(Account("alice", "Alice Analyst", hash_password(PASSWORDS["alice"]), ("analyst",)))
        store.users.add(Account("olly", "Olly Ops", hash_password(PASSWORDS["olly"]), ("ops", "analyst")))
        sent = datetime(2026, 1, 16, 7, tzinfo=UTC)
        store.digest_ledger.record(
            "policy-desk", date(2026, 1, 16), "<m1@x>", "failed", sent, error="550 gone"
        )
        gone = CrawlFailure("http", "https://press.example/gone", "HTTP 404", status=404)
        store.source_states.record_run(
            CrawlStats("press", errors=1, failures=[gone]),
            SourceHealthState("press"),
            failed=True,
            started=sent,
            finished=sent,
        )
    for name in ("REGWATCH_CONFIG", "REGWATCH_HOME"):
        monkeypatch.delenv(name, raising=False)
    settings = {"STORE_URL": pg_url, "INDEX_URL": cluster_url, "INDEX_NAME": alias}
    for name, value in settings.items():
        monkeypatch.setenv(f"REGWATCH_{name}", value)
    assert Cli(home, home / "desk.yaml").json("index", "sync")["pending"] == 0
    with accounts_client(home) as alice, accounts_client(home) as olly:
        assert sign_in(alice, "alice").status_code == 303 and sign_in(olly, "olly").status_code == 303
        headers = {"X-CSRF-Token": csrf(alice)}
        created = alice.post("/api/saved-searches", json={"name": "Fines", "query": "fine"}, headers=headers)
        assert created.status_code == 201, created.text
        again = alice.post("/api/saved-searches", json={"name": "Fines", "query": "x"}, headers=headers)
        assert again.status_code == 409
        form = {
            "name": "Alice Analyst",
            "email": "alice@example.org",
            "cadence": "daily",
            "send_time": "07:00",
            "timezone": "Europe/London",
            "keywords": "fine OR penalty",
            "sources": "",
            "empty_day": "skip",
            "csrf_token": csrf(alice, "/subscription"),
        }
        assert alice.post("/subscription", data=form, follow_redirects=False).status_code == 303
        with Store.open_postgresql(pg_url) as store:  # a worker on another host, holding a crawl
            queue = store.work_queue
            assert queue is not None
            queue.register("w-7f3a", "crawler-2.example", 4242, ["crawl", "tag"])
            assert [lease.key for lease in queue.claim("crawl", ["press"], "w-7f3a", 300, 1)] == ["press"]
            queue.heartbeat("w-7f3a", 300, current_work="crawl press")
        workers = olly.get("/ops").text.split('id="workers"')[1].split("</table>")[0]
        assert "w-7f3a" in workers and "crawler-2.example pid 4242" in workers and "crawl, tag" in workers
        assert "crawl press" in workers and "crawl press until " in workers and "live" in workers
        ledger = olly.get("/ops").text.split('id="digest-ledger"')[1]
        assert "policy-desk" in ledger and "failed" in ledger  # digest_ledger.recent, from PostgreSQL
        runs = olly.get("/ops/source/press").text.split('id="source-runs"')[1]
        assert "https://press.example/gone: HTTP 404" in runs  # source_states.runs, from PostgreSQL
        token = csrf(olly, "/ops/source/press")
        off = olly.post("/ops/source/press/enabled", data={"csrf_token": token, "enabled": "0"})
        assert off.status_code == 200 and "turned off on the desk by olly" in off.text
    assert not (home / "regwatch.db").exists()  # everything above went to PostgreSQL
    with Store.open_postgresql(pg_url) as store:
        assert store.users.get("alice").last_login is not None  # type: ignore[union-attr]
        assert [(s.owner, s.name, s.query) for s in store.saved_searches.all()] == [
            ("alice", "Fines", "fine")
        ]
        [mine] = store.subscriptions.all()
        assert (mine.id, mine.email, mine.keywords) == ("alice", "alice@example.org", ("fine OR penalty",))
        assert store.source_states.get("press").turned_off_by_hand
