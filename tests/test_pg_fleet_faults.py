"""The scale-out proof on one machine: three workers over 200 sources, two of them SIGKILLed mid-work.

PostgreSQL (``pg_fixtures``), the real OpenSearch node and real `regwatch worker`
processes crawl :class:`benchmarks.fleet_site.FleetSite` (200 feeds on 5 domains, each on
a loopback address of its own). One worker is killed once its crawl subprocess has
fetched feeds it has not yet recorded, another while it holds the cluster's index lease; replacements start in their place, as
a supervisor would restart them. Once the queue is drained the test checks that the
fleet did every piece of work once:

- every article stored once (one row per canonical URL) and tagged once (its version is
  3: stored, given its story, tagged; a second tagging would make it 4);
- one cluster document per article holding the article's last version, and no version of
  an article written to the cluster twice, except those the killed indexer had sent
  without recording (the takeover sends them again: same document, same content);
- no source crawled by two workers at once (its crawl runs and its feed fetches never
  overlap; a source of the killed crawl is fetched again only after the kill);
- no domain saw more requests in flight at once than CRAWL_CONCURRENCY_PER_DOMAIN,
  the fleet's limit (crawlers' FleetPolitenessMiddleware), counted by the site.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from worker_fixtures import alive, children_of, cluster_documents, query, start_worker, wait_for

from benchmarks.fleet_site import FleetSite

DOMAINS, SOURCES, ARTICLES = 5, 200, 2
PER_DOMAIN = 2  # CRAWL_CONCURRENCY_PER_DOMAIN: a limit for the whole fleet on PostgreSQL
DRAIN_DEADLINE = 900.0  # seconds the whole run may take on a loaded two-core machine before the test fails
FINAL_VERSION = 3  # stored, given its story, tagged
TOOK_OVER = re.compile(r"took over (\w+) (\S+) from worker=(\S+), whose lease expired")


@pytest.fixture
def fleet_site() -> Iterator[FleetSite]:
    with FleetSite(DOMAINS, SOURCES, ARTICLES, delay=0.05) as site:
        yield site


def fleet_config(tmp_path: Path, site: FleetSite) -> Path:
    config = tmp_path / "fleet.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "sources": site.sources(),
                "settings": {
                    "CRAWL_OBEY_ROBOTS": False,
                    "CRAWL_ALLOWED_HOSTS": site.allowed_hosts(),
                    "CRAWL_CONCURRENCY_PER_DOMAIN": PER_DOMAIN,
                },
            }
        )
    )
    return config


@dataclass
class Fleet:
    """The test's worker processes: started, killed and stopped by the test, as a supervisor would."""

    home: Path
    config: Path
    settings: dict[str, str]
    logs: Path
    processes: list[subprocess.Popen[str]] = field(default_factory=list)
    killed: list[subprocess.Popen[str]] = field(default_factory=list)

    def start(self) -> subprocess.Popen[str]:
        n = len(self.processes) + 1
        process = start_worker(
            self.home / f"worker-{n}", self.config, self.settings, self.logs / f"worker-{n}.log"
        )
        self.processes.append(process)
        return process

    def live(self) -> list[subprocess.Popen[str]]:
        return [p for p in self.processes if p.poll() is None and p not in self.killed]

    def worker_id(self, pid: int) -> str | None:
        found = query(self.settings["STORE_URL"], f"SELECT worker_id FROM workers WHERE pid = {pid}")
        return str(found[0][0]) if found else None

    def kill(self, process: subprocess.Popen[str]) -> None:
        process.kill()  # SIGKILL: no clean-up of its own
        process.wait()
        self.killed.append(process)

    def stop(self) -> list[dict[str, Any]]:
        """SIGTERM every live worker; each finishes its work and prints its summary."""
        live = self.live()
        for process in live:
            process.send_signal(signal.SIGTERM)
        summaries = []
        for process in live:
            out, _ = process.communicate(timeout=300)
            assert process.returncode == 0, self.log_tails()
            summaries.append(dict(json.loads(out)))
        return summaries

    def kill_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()

    def taken_over(self) -> set[tuple[str, str, str]]:
        """(kind, key, from worker) of every lease a worker logged it took over from an expired holder."""
        return {
            (kind, key, previous)
            for log in self.logs.glob("*.log")
            for kind, key, previous in TOOK_OVER.findall(log.read_text())
        }

    def log_tails(self) -> str:
        return "\n".join(f"{log.name}: {log.read_text()[-1500:]}" for log in sorted(self.logs.glob("*.log")))


@dataclass(frozen=True)
class Kill:
    """A worker killed holding leases of ``kind``: who it was, what it held, and when it died."""

    worker_id: str
    keys: list[str]
    at: float  # time.monotonic(), the clock of the site's request log
    pending: set[str] = field(default_factory=set)  # articles the cluster ledger had not recorded then


def held(url: str, kind: str) -> list[tuple[str, str]]:
    """(worker, key) of every unexpired lease of ``kind``."""
    return [
        (str(w), str(k))
        for w, k in query(
            url,
            f"SELECT worker_id, key FROM work_leases WHERE kind = '{kind}' "
            "AND worker_id IS NOT NULL AND leased_until > now()",
        )
    ]


def kill_mid(fleet: Fleet, kind: str, at_work: Callable[[subprocess.Popen[str], list[str]], bool]) -> Kill:
    """SIGKILL a worker while it holds leases of ``kind`` and ``at_work(process, keys)``; start its replacement.

    A kill that lands just after the work ended (the lease released first) is retried on
    the next holder: the returned kill is one that died holding its ``kind`` lease.
    """
    url = fleet.settings["STORE_URL"]
    end = time.monotonic() + DRAIN_DEADLINE
    while time.monotonic() < end:
        for process in fleet.live():
            worker_id = fleet.worker_id(process.pid)
            keys = [key for holder, key in held(url, kind) if holder == worker_id]
            if worker_id is None or not keys or not at_work(process, keys):
                continue
            fleet.kill(process)
            died_at = time.monotonic()
            pending = {
                str(article_id)
                for (article_id,) in query(
                    url,
                    "SELECT a.id FROM articles a LEFT JOIN cluster_ledger l ON l.article_id = a.id "
                    "WHERE l.version IS DISTINCT FROM a.version",
                )
            }
            fleet.start()
            still_held = query(
                url, f"SELECT count(*) FROM work_leases WHERE kind = '{kind}' AND worker_id = '{worker_id}'"
            )
            if still_held != [(0,)]:
                return Kill(worker_id, keys, died_at, pending)
        time.sleep(0.01)
    pytest.fail(f"no worker was caught holding a {kind} lease: {fleet.log_tails()}")


def crawling(process: subprocess.Popen[str]) -> list[int]:
    """The pids of ``process``'s crawl subprocesses."""
    found = []
    for pid in children_of(process.pid):
        try:
            if b"crawlers.process" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            continue
    return found


def unrecorded(url: str, sources: list[str]) -> list[str]:
    """Those of ``sources`` without a crawl run recorded."""
    recorded = {str(s) for (s,) in query(url, "SELECT DISTINCT source_id FROM crawl_runs")}
    return [s for s in sources if s not in recorded]


def drained(url: str, articles: int) -> bool:
    """Every source crawled, every article stored, tagged and in the cluster, no lease in force."""
    return query(
        url,
        "SELECT (SELECT count(DISTINCT source_id) FROM crawl_runs), "
        "(SELECT count(*) FILTER (WHERE tagger_version != '') FROM articles), "
        "(SELECT count(*) FROM articles a LEFT JOIN cluster_ledger l ON l.article_id = a.id "
        " WHERE l.version IS DISTINCT FROM a.version), "
        "(SELECT count(*) FROM work_leases WHERE leased_until > now())",
    ) == [(SOURCES, articles, 0, 0)]


@pytest.mark.slow
def test_three_workers_two_killed_mid_crawl_and_mid_index_leave_every_article_stored_tagged_indexed_once(
    fleet_site: FleetSite, tmp_path: Path, pg_url: str, cluster_url: str, alias: str
) -> None:
    settings = {
        "STORE_URL": pg_url,
        "INDEX_URL": cluster_url,
        "INDEX_NAME": alias,
        "INDEX_RETRY_BACKOFF": "0",
        "WORKER_LEASE_SECONDS": "5",
        "WORKER_POLL_SECONDS": "0.2",
        "WORKER_CRAWL_BATCH": "20",
        "WORKER_TAG_BATCH": "32",
    }
    (tmp_path / "logs").mkdir()
    fleet = Fleet(tmp_path / "homes", fleet_config(tmp_path, fleet_site), settings, tmp_path / "logs")
    try:
        for _ in range(3):
            fleet.start()

        def mid_crawl(process: subprocess.Popen[str], keys: list[str]) -> bool:
            # Its crawl subprocess runs, has fetched a feed of its batch, and has not recorded them all.
            fetched = fleet_site.feed_fetches()
            return (
                bool(crawling(process))
                and any(fetched[key] for key in keys)
                and bool(unrecorded(pg_url, keys))
            )

        crawl_kill = kill_mid(fleet, "crawl", mid_crawl)
        orphans = [pid for process in fleet.killed for pid in crawling(process)]
        wait_for("the killed worker's crawl to die with it", lambda: not any(alive(p) for p in orphans))
        index_kill = kill_mid(fleet, "index", lambda process, keys: True)
        wait_for(
            "the fleet to drain the queue",
            lambda: drained(pg_url, fleet_site.article_count),
            deadline=DRAIN_DEADLINE,
        )
        summaries = fleet.stop()
    finally:
        fleet.kill_all()

    # The killed workers' work was taken over once their leases expired (by whichever worker: the
    # one that took the crawl over may be the one later killed mid-index, so the logs tell, not the
    # survivors' summaries).
    taken_over = fleet.taken_over()
    assert ("index", index_kill.keys[0], index_kill.worker_id) in taken_over, taken_over
    assert any(("crawl", key, crawl_kill.worker_id) in taken_over for key in crawl_kill.keys), taken_over
    assert len(summaries) == 3  # the survivors stopped cleanly on SIGTERM

    # Every article stored once, and tagged once.
    assert query(
        pg_url, "SELECT count(*), count(DISTINCT url), min(version), max(version) FROM articles"
    ) == [(fleet_site.article_count, fleet_site.article_count, FINAL_VERSION, FINAL_VERSION)]

    # One cluster document per article, holding its last version; each version written once,
    # but for what the killed indexer may have sent without recording it.
    documents = cluster_documents(cluster_url, alias)
    article_ids = {str(article_id) for (article_id,) in query(pg_url, "SELECT id FROM articles")}
    assert set(documents) == article_ids
    assert {version for _, version in documents.values()} == {FINAL_VERSION}
    written_twice = {
        doc_id for doc_id, (writes, _) in documents.items() if writes > FINAL_VERSION
    }  # a write per version at most: no version sent twice
    assert written_twice <= index_kill.pending, sorted(written_twice - index_kill.pending)
    assert all(writes <= FINAL_VERSION + 1 for writes, _ in documents.values())

    # No source crawled by two workers at once: its recorded runs never overlap...
    assert query(
        pg_url,
        "SELECT count(*) FROM crawl_runs a JOIN crawl_runs b ON a.source_id = b.source_id AND a.run < b.run "
        "AND tstzrange(a.started, a.finished) && tstzrange(b.started, b.finished)",
    ) == [(0,)]
    # ...nor do its feed fetches; a second fetch is the takeover of the killed crawl, after the kill
    # (there is one: the killed crawl had fetched a feed whose run it had not recorded).
    fetched = fleet_site.feed_fetches()
    assert any(len(fetches) > 1 for fetches in fetched.values())
    for source_id, fetches in fetched.items():
        assert fetches, f"{source_id} never fetched"
        for earlier, later in zip(fetches, fetches[1:], strict=False):
            assert later.started >= earlier.ended, source_id
            assert source_id in crawl_kill.keys and later.started > crawl_kill.at, source_id

    # No domain saw more requests at once than the fleet's limit, whichever worker's crawl sent them.
    assert max(fleet_site.max_in_flight().values()) <= PER_DOMAIN, fleet_site.max_in_flight()
