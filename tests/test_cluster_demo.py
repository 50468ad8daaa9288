"""`regwatch cluster-demo` end to end: the sample site through two workers and the scheduler.

Run as ``make cluster-demo`` runs it, on the test PostgreSQL server and the OpenSearch
node: the driver serves the site, starts the workers and the scheduler, waits until the
work is done and the digest is in the outbox, stops them all and prints the summary.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import Cli
from worker_fixtures import alive, cluster_versions, query, worker_env

SAMPLE_ARTICLES = 33  # the sample site's articles, as `make demo` stores them


@pytest.mark.slow
def test_the_cluster_demo_runs_the_sample_site_through_two_workers_and_the_scheduler_then_stops_them(
    tmp_path: Path, pg_url: str, cluster_url: str, alias: str
) -> None:
    home = tmp_path / "cluster-demo"
    env = worker_env({"STORE_URL": pg_url, "INDEX_URL": cluster_url, "INDEX_NAME": alias})
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from regwatch.app.cli import main; main()",
            "cluster-demo",
            "--out",
            str(home),
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert (summary["sources"], summary["new"], summary["articles_tagged"], summary["indexed"]) == (
        5,
        SAMPLE_ARTICLES,
        SAMPLE_ARTICLES,
        SAMPLE_ARTICLES,
    )
    [digest] = summary["digests"]
    assert digest["status"] == "delivered" and digest["items"] > 0
    assert Path(digest["path"]).parent == home / "outbox" and Path(digest["path"]).exists()
    # Two workers shared the work and did nothing twice.
    workers = summary["workers"]
    assert len(workers) == 2
    assert sum(w["new"] for w in workers) == SAMPLE_ARTICLES
    assert sum(w["articles_tagged"] for w in workers) == SAMPLE_ARTICLES
    crawled = [s for w in workers for s in w["sources_crawled"]]
    assert len(crawled) == len(set(crawled)) == 5
    assert query(pg_url, "SELECT count(*), min(version), max(version) FROM articles") == [
        (SAMPLE_ARTICLES, 3, 3)
    ]
    assert len(cluster_versions(cluster_url, alias)) == SAMPLE_ARTICLES
    assert query(pg_url, "SELECT count(*) FROM digests WHERE status = 'delivered'") == [(1,)]
    # Everything it started has stopped: the workers left the store, their processes are gone.
    assert query(pg_url, "SELECT count(*) FROM workers") == [(0,)]
    assert not any(alive(int(w["worker_id"].split(":")[-2])) for w in workers)
    assert {p.name for p in (home / "logs").iterdir()} == {"worker-1.log", "worker-2.log", "schedule.log"}


def test_the_cluster_demo_refuses_the_sqlite_store_saying_how_to_run_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [k for k in os.environ if k.startswith("REGWATCH_") and not k.startswith("REGWATCH_TEST")]:
        monkeypatch.delenv(name)
    result = Cli(home=tmp_path / "home")("cluster-demo", "--out", str(tmp_path / "demo"), expect=1)
    assert "STORE_URL=postgresql://" in result.output and "make cluster-demo" in result.output
