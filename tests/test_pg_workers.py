"""Work shared by any number of workers on PostgreSQL: leases, takeovers, and `regwatch worker` itself.

The work queue (``indexer._pg._work_queue``) is tested on a real server
(``tests/pg_fixtures.py``): racing claims, expiry and takeover, renewal. The worker is
tested as ops run it, as real `regwatch worker` subprocesses over sites served on
127.0.0.1, with the real OpenSearch node as the search cluster.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import Cli
from pg_fixtures import sql

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


# -- `regwatch worker` and `regwatch workers` -----------------------------------------------------


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
