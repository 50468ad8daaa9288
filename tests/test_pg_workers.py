"""Work shared by any number of workers on PostgreSQL: leases, takeovers, and `regwatch worker` itself.

The work queue (``indexer._pg._work_queue``) is tested on a real server
(``tests/pg_fixtures.py``): racing claims, expiry and takeover, renewal. The worker is
tested as ops run it, as real `regwatch worker` subprocesses over sites served on
127.0.0.1, with the real OpenSearch node as the search cluster.
"""

from __future__ import annotations

import json
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_helpers import Cli
from crawl_fixtures import serve_pages
from pg_fixtures import sql
from worker_fixtures import (
    DEADLINE,
    alive,
    children_of,
    cluster_versions,
    query,
    run_worker,
    start_worker,
    wait_for,
)

from indexer import Lease, Store

LEASE = 300.0


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Store]:
    with Store.open_postgresql(pg_url) as store:
        yield store


def expire(store: Store, worker_id: str) -> None:
    """End ``worker_id``'s leases now, as if it had stopped renewing them a lease ago."""
    sql(
        store,
        f"UPDATE work_leases SET leased_until = now() - interval '1 second' WHERE worker_id = '{worker_id}'",
    )


# -- the queue ---------------------------------------------------------------------------------


def test_eight_workers_claiming_400_keys_at_once_get_each_key_exactly_once(pg_url: str) -> None:
    keys = [f"article-{n:03d}" for n in range(400)]
    claimed: dict[str, list[str]] = {}
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def work(worker: str) -> None:
        try:
            with Store.open_postgresql(pg_url, pool_size=2) as store:
                assert store.work_queue is not None
                got: list[str] = []
                start.wait()
                while leases := store.work_queue.claim("tag", keys, worker, LEASE, limit=7):
                    got += [lease.key for lease in leases]
                claimed[worker] = got
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    counts = Counter(key for got in claimed.values() for key in got)
    assert sorted(counts) == keys and set(counts.values()) == {1}
    assert sum(1 for got in claimed.values() if got) > 1  # they did race: more than one got work
    with Store.open_postgresql(pg_url) as store:
        assert store.work_queue is not None
        held = store.work_queue.leases()
        assert len(held) == 400 and {lease.worker_id for lease in held} == {
            w for w, g in claimed.items() if g
        }


def test_a_held_lease_is_skipped_by_others_until_it_expires_then_taken_over(pg_store: Store) -> None:
    queue = pg_store.work_queue
    assert queue is not None
    [first] = queue.claim("crawl", ["ofcom"], "worker-a", LEASE, limit=5)
    assert (first.key, first.worker_id, first.attempts, first.previous_worker) == ("ofcom", "worker-a", 1, "")
    assert queue.claim("crawl", ["ofcom"], "worker-b", LEASE, limit=5) == []
    expire(pg_store, "worker-a")
    [taken] = queue.claim("crawl", ["ofcom"], "worker-b", LEASE, limit=5)
    assert (taken.worker_id, taken.attempts, taken.previous_worker) == ("worker-b", 2, "worker-a")
    # The old holder, back too late, no longer holds it: its release releases nothing.
    assert queue.release("crawl", ["ofcom"], "worker-a") == 0
    assert [lease.worker_id for lease in queue.leases()] == ["worker-b"]


def test_a_heartbeat_renews_the_workers_leases_so_no_one_takes_them_over(pg_store: Store) -> None:
    queue = pg_store.work_queue
    assert queue is not None
    queue.register("worker-a", "host-1", 4242, ["crawl"])
    [lease] = queue.claim("crawl", ["ofcom"], "worker-a", 5, limit=1)
    assert queue.heartbeat("worker-a", LEASE, current_work="crawl ofcom") == 1
    [renewed] = queue.leases("worker-a")
    assert (renewed.leased_until - lease.leased_until).total_seconds() > LEASE - 60
    [worker] = queue.workers(stale_after=LEASE)
    assert (worker.worker_id, worker.live, worker.current_work) == ("worker-a", True, "crawl ofcom")
    assert queue.claim("crawl", ["ofcom"], "worker-b", LEASE, limit=1) == []


def test_released_work_is_gone_and_due_again_it_is_claimed_afresh(pg_store: Store) -> None:
    queue = pg_store.work_queue
    assert queue is not None
    leases = queue.claim("digest", ["desk-1", "desk-2", "desk-3"], "worker-a", LEASE, limit=2)
    assert [lease.key for lease in leases] == ["desk-1", "desk-2"]
    assert queue.release("digest", ["desk-1", "desk-2"], "worker-a") == 2
    assert queue.leases() == []
    again = queue.claim("digest", ["desk-1", "desk-3"], "worker-b", LEASE, limit=5)
    assert [(lease.key, lease.attempts) for lease in again] == [("desk-1", 1), ("desk-3", 1)]


def test_offered_work_no_longer_due_is_dropped_and_other_kinds_are_untouched(pg_store: Store) -> None:
    queue = pg_store.work_queue
    assert queue is not None
    queue.claim("tag", ["a", "b", "c"], "worker-a", LEASE, limit=1)  # b and c offered, not claimed
    queue.claim("crawl", ["b"], "worker-a", LEASE, limit=1)
    queue.claim("tag", ["c"], "worker-b", LEASE, limit=1)  # b is no longer due: its offer goes
    rows = sql(pg_store, "SELECT kind, key, worker_id FROM work_leases ORDER BY kind, key")
    assert rows == [("crawl", "b", "worker-a"), ("tag", "a", "worker-a"), ("tag", "c", "worker-b")]


def test_a_stopping_worker_unregisters_and_releases_all_it_holds(pg_store: Store) -> None:
    queue = pg_store.work_queue
    assert queue is not None
    queue.register("worker-a", "host-1", 1, ["crawl", "tag"])
    queue.register("worker-b", "host-2", 2, ["index"])
    queue.claim("crawl", ["x", "y"], "worker-a", LEASE, limit=5)
    assert queue.unregister("worker-a") == 2
    assert [w.worker_id for w in queue.workers(stale_after=LEASE)] == ["worker-b"]
    assert queue.leases() == []


def test_a_worker_whose_heartbeat_stopped_is_listed_as_not_live(pg_store: Store) -> None:
    queue = pg_store.work_queue
    assert queue is not None
    queue.register("worker-a", "host-1", 1, ["crawl"])
    queue.register("worker-b", "host-1", 2, ["crawl"])
    sql(pg_store, "UPDATE workers SET heartbeat_at = now() - interval '1 hour' WHERE worker_id = 'worker-a'")
    listed = [(w.worker_id, w.live) for w in queue.workers(stale_after=LEASE)]
    assert listed == [("worker-b", True), ("worker-a", False)]


def test_a_starting_worker_drops_the_rows_of_workers_silent_for_a_day(pg_store: Store) -> None:
    queue = pg_store.work_queue
    assert queue is not None
    queue.register("worker-a", "host-1", 1, ["crawl"])
    queue.register("worker-b", "host-1", 2, ["crawl"])
    sql(
        pg_store, "UPDATE workers SET heartbeat_at = now() - interval '25 hours' WHERE worker_id = 'worker-a'"
    )
    sql(
        pg_store, "UPDATE workers SET heartbeat_at = now() - interval '23 hours' WHERE worker_id = 'worker-b'"
    )
    queue.register("worker-c", "host-2", 3, ["tag"])
    assert [w.worker_id for w in queue.workers(stale_after=LEASE)] == ["worker-c", "worker-b"]


def test_the_sqlite_store_has_no_work_queue(tmp_path: Path) -> None:
    with Store.open(tmp_path / "regwatch.db") as store:
        assert store.work_queue is None


def test_a_lease_says_what_it_is_as_json(pg_store: Store) -> None:
    queue = pg_store.work_queue
    assert queue is not None
    [lease] = queue.claim("index", ["regwatch"], "worker-a", LEASE, limit=1)
    assert isinstance(lease, Lease)
    data = lease.to_dict()
    assert (data["kind"], data["key"], data["worker_id"], data["attempts"]) == (
        "index",
        "regwatch",
        "worker-a",
        1,
    )


# -- `regwatch worker` as ops run it: real subprocesses --------------------------------------------

HTML = "text/html; charset=utf-8"
FILLER = (
    "The regulator said it would examine whether the platform had complied with its duties, and that "
    "it would not hesitate to act if it found that the law had been broken."
)


@pytest.fixture
def cluster_env(pg_url: str, cluster_url: str, alias: str) -> dict[str, str]:
    """The settings every worker of a test shares: its PostgreSQL database, the node, a fresh alias."""
    return {
        "STORE_URL": pg_url,
        "INDEX_URL": cluster_url,
        "INDEX_NAME": alias,
        "INDEX_RETRY_BACKOFF": "0",
        "WORKER_POLL_SECONDS": "0.2",
    }


def demo_config(tmp_path: Path, sample_site: str) -> Path:
    """The demo's config, pointed at the sample site served for the test."""
    from regwatch.app.sample_site import DEMO_CONFIG

    config = tmp_path / "demo.yaml"
    config.write_text(DEMO_CONFIG.read_text(encoding="utf-8").replace("{base_url}", sample_site))
    return config


@pytest.mark.slow
def test_a_worker_once_stores_tags_and_indexes_each_article_of_the_sample_site_exactly_once(
    sample_site: str, tmp_path: Path, cluster_env: dict[str, str], pg_url: str, cluster_url: str, alias: str
) -> None:
    config = demo_config(tmp_path, sample_site)
    log = tmp_path / "worker.log"
    done = run_worker(tmp_path / "home", config, cluster_env, log, "--once")
    assert done["sources_crawled"] == ["dsit-search", "ledger", "ofcom-news", "ofcom-statements", "wire"]
    assert (done["new"], done["articles_tagged"], done["indexed"], done["taken_over"]) == (33, 33, 33, [])
    # Stored once (one row per canonical URL) and tagged once: version 1 stored, 2 given its story,
    # 3 tagged (tagged again, it would be 4); indexed once (each document's first version is the last).
    assert query(pg_url, "SELECT count(*), min(version), max(version) FROM articles") == [(33, 3, 3)]
    assert query(pg_url, "SELECT count(*), min(version), max(version) FROM cluster_ledger") == [(33, 3, 3)]
    assert sorted(cluster_versions(cluster_url, alias)) == [1] * 33
    # It left nothing behind: no lease, no worker row.
    assert query(pg_url, "SELECT count(*) FROM work_leases") == [(0,)]
    assert query(pg_url, "SELECT count(*) FROM workers") == [(0,)]
    assert "claimed crawl: dsit-search, ledger, ofcom-news, ofcom-statements" in log.read_text()
    # Nothing is due any more: a second worker finds nothing to do.
    again = run_worker(tmp_path / "home", config, cluster_env, log, "--once")
    assert (again["sources_crawled"], again["new"], again["articles_tagged"], again["indexed"]) == (
        [],
        0,
        0,
        0,
    )


@pytest.mark.slow
def test_two_workers_at_once_share_the_sample_site_and_do_nothing_twice(
    sample_site: str, tmp_path: Path, cluster_env: dict[str, str], pg_url: str, cluster_url: str, alias: str
) -> None:
    config = demo_config(tmp_path, sample_site)
    settings = {**cluster_env, "WORKER_CRAWL_BATCH": "2", "WORKER_TAG_BATCH": "8"}
    workers = [
        start_worker(tmp_path / f"home-{n}", config, settings, tmp_path / f"worker-{n}.log", "--once")
        for n in (1, 2)
    ]
    outputs = [process.communicate(timeout=600)[0] for process in workers]
    assert [process.returncode for process in workers] == [0, 0], [
        (tmp_path / f"worker-{n}.log").read_text()[-2000:] for n in (1, 2)
    ]
    first, second = (json.loads(out) for out in outputs)
    # Both took part (they start together; a crawl of two sources outlasts a worker's start), no
    # source was crawled by both, and every one was crawled once.
    assert first["sources_crawled"] and second["sources_crawled"]
    assert not set(first["sources_crawled"]) & set(second["sources_crawled"])
    assert len(first["sources_crawled"]) + len(second["sources_crawled"]) == 5
    assert query(pg_url, "SELECT count(*), count(DISTINCT source_id) FROM crawl_runs") == [(5, 5)]
    # Each article stored once, tagged once, and in the cluster once.
    assert first["new"] + second["new"] == 33
    assert first["articles_tagged"] + second["articles_tagged"] == 33
    assert query(pg_url, "SELECT count(*), count(*) FILTER (WHERE tagger_version != '') FROM articles") == [
        (33, 33)
    ]
    assert len(cluster_versions(cluster_url, alias)) == 33
    assert query(
        pg_url,
        "SELECT count(*) FROM articles a LEFT JOIN cluster_ledger l ON l.article_id = a.id "
        "WHERE l.version IS DISTINCT FROM a.version",
    ) == [(0,)]


# A fixture site whose third article answers only when the test opens the gate: a crawl is then
# surely under way when the test stops its worker.
def feed(*links: str) -> str:
    date = format_datetime(datetime.now(UTC) - timedelta(days=1))
    items = "".join(
        f"<item><title>Item {n}</title><link>{link}</link><pubDate>{date}</pubDate></item>"
        for n, link in enumerate(links)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{items}</channel></rss>'


def page(title: str) -> str:
    return (
        f'<html lang="en"><head><title>{title}</title><meta property="og:title" content="{title}">'
        f'<meta property="article:published_time" content="2026-11-20T09:00:00Z"></head>'
        f"<body><article><h1>{title}</h1><p>{title}. Ofcom said so. {FILLER}</p><p>{FILLER}</p></article>"
        "</body></html>"
    )


class GatedSite:
    def __init__(self, base: str, server: Any, gate: threading.Event) -> None:
        self.base, self.server, self.gate = base, server, gate

    def asked_for_the_gated_page(self) -> bool:
        return "/a/gated.html" in self.server.requested


@pytest.fixture
def gated_site() -> Iterator[GatedSite]:
    gate = threading.Event()
    body = page("Article gated").encode()

    def answer_when_open(handler: BaseHTTPRequestHandler) -> None:
        gate.wait(DEADLINE)
        handler.send_response(200)
        handler.send_header("Content-Type", HTML)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    pages = {
        "/feed.xml": (
            "application/rss+xml",
            feed("{base}/a/one.html", "{base}/a/two.html", "{base}/a/gated.html"),
        ),
        "/a/one.html": (HTML, page("Article one")),
        "/a/two.html": (HTML, page("Article two")),
    }
    with serve_pages(pages) as (base, server):
        server.faults["/a/gated.html"] = answer_when_open
        yield GatedSite(base, server, gate)
        gate.set()


def gated_config(tmp_path: Path, site: GatedSite) -> Path:
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "sources": [
                    {"id": "fixture", "name": "Fixture", "kind": "feed", "url": f"{site.base}/feed.xml"}
                ],
                "settings": {"CRAWL_OBEY_ROBOTS": False, "CRAWL_ALLOWED_HOSTS": site.base},
            }
        )
    )
    return config


def crawl_lease(pg_url: str) -> tuple[str, datetime, bool] | None:
    """The crawl lease on the fixture source: (holder, until, expired), or None."""
    found = query(
        pg_url,
        "SELECT worker_id, leased_until, leased_until < now() FROM work_leases "
        "WHERE kind = 'crawl' AND key = 'fixture' AND worker_id IS NOT NULL",
    )
    return (str(found[0][0]), found[0][1], bool(found[0][2])) if found else None


@pytest.mark.slow
def test_a_worker_killed_mid_crawl_takes_its_crawl_along_and_another_takes_the_work_over(
    gated_site: GatedSite,
    tmp_path: Path,
    cluster_env: dict[str, str],
    pg_url: str,
    cluster_url: str,
    alias: str,
) -> None:
    settings = {**cluster_env, "WORKER_LEASE_SECONDS": "2"}
    config, log = gated_config(tmp_path, gated_site), tmp_path / "worker.log"
    first = start_worker(tmp_path / "home", config, settings, log)
    try:
        wait_for("the first worker's crawl to reach the gated page", gated_site.asked_for_the_gated_page)
        holder, _, _ = wait_for("the crawl lease", lambda: crawl_lease(pg_url))
        crawls = [
            pid
            for pid in children_of(first.pid)
            if b"crawlers.process" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        assert len(crawls) == 1
    finally:
        first.kill()  # SIGKILL: no clean-up of its own
        first.wait()
    wait_for("the orphaned crawl to die with its worker", lambda: not alive(crawls[0]))
    gated_site.gate.set()
    # Its lease stays until it expires: nobody else may crawl the source meanwhile.
    assert crawl_lease(pg_url) is not None
    wait_for("the dead worker's lease to expire", lambda: (lease := crawl_lease(pg_url)) and lease[2])
    done = run_worker(tmp_path / "home", config, settings, log, "--once")
    assert done["taken_over"] == [f"crawl:fixture (from {holder})"]
    assert done["sources_crawled"] == ["fixture"] and done["articles_tagged"] == 3 and done["indexed"] == 3
    assert query(pg_url, "SELECT count(*), min(version), max(version) FROM articles") == [(3, 3, 3)]
    assert sorted(cluster_versions(cluster_url, alias)) == [1, 1, 1]
    assert query(pg_url, "SELECT count(*) FROM work_leases") == [(0,)]
    # The dead worker's row is kept, no longer live: `regwatch workers` lists it only with --all.
    with pytest.MonkeyPatch.context() as patch:
        for name, value in settings.items():
            patch.setenv(f"REGWATCH_{name}", value)
        cli = Cli(home=tmp_path / "home", config=config)
        assert cli.json("workers") == {"workers": []}
        [dead] = cli.json("workers", "--all")["workers"]
        assert (dead["worker_id"], dead["live"], dead["leases"]) == (holder, False, [])


@pytest.mark.slow
def test_sigterm_lets_the_current_crawl_finish_then_the_worker_releases_and_leaves(
    gated_site: GatedSite, tmp_path: Path, cluster_env: dict[str, str], pg_url: str
) -> None:
    settings = {**cluster_env, "WORKER_LEASE_SECONDS": "2"}
    config, log = gated_config(tmp_path, gated_site), tmp_path / "worker.log"
    worker = start_worker(tmp_path / "home", config, settings, log)
    try:
        wait_for("the crawl to reach the gated page", gated_site.asked_for_the_gated_page)
        holder, first_until, _ = wait_for("the crawl lease", lambda: crawl_lease(pg_url))
        # The heartbeat keeps the lease past its first expiry while the crawl waits on the gate.
        wait_for(
            "the lease to outlive its first term",
            lambda: (
                query(
                    pg_url,
                    f"SELECT now() > '{first_until.isoformat()}' AND leased_until > now() FROM work_leases "
                    f"WHERE kind = 'crawl' AND key = 'fixture' AND worker_id = '{holder}'",
                )
                == [(True,)]
            ),
        )
        with pytest.MonkeyPatch.context() as patch:
            for name, value in settings.items():
                patch.setenv(f"REGWATCH_{name}", value)
            [listed] = Cli(home=tmp_path / "home", config=config).json("workers")["workers"]
        assert (listed["worker_id"], listed["roles"], listed["live"]) == (
            holder,
            ["crawl", "tag", "index", "deliver"],
            True,
        )
        assert [(lease["kind"], lease["key"]) for lease in listed["leases"]] == [("crawl", "fixture")]
        assert listed["current_work"] == "crawl fixture"
        worker.send_signal(signal.SIGTERM)
        wait_for(
            "the worker to say it is stopping",
            lambda: "got SIGTERM: stopping after the current work" in log.read_text(),
        )
        gated_site.gate.set()
        out, _ = worker.communicate(timeout=DEADLINE)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == 0, log.read_text()[-3000:]
    done = json.loads(out)
    # The crawl it was doing finished and was recorded; nothing was started after the signal.
    assert (done["sources_crawled"], done["new"], done["articles_tagged"]) == (["fixture"], 3, 0)
    assert query(pg_url, "SELECT count(*) FROM crawl_runs WHERE source_id = 'fixture'") == [(1,)]
    assert query(pg_url, "SELECT count(*) FROM work_leases") == [(0,)]
    assert query(pg_url, "SELECT count(*) FROM workers") == [(0,)]


@pytest.mark.parametrize("command", [("worker", "--once"), ("workers",)])
def test_worker_and_workers_refuse_the_sqlite_store_saying_to_set_store_url(
    command: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("REGWATCH_STORE_URL", "REGWATCH_INDEX_URL", "REGWATCH_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    result = Cli(home=home)(*command, expect=1)
    assert "STORE_URL=postgresql://" in result.output and "regwatch run" in result.output
    assert not (home / "regwatch.db").exists()  # refused before a SQLite store was made
