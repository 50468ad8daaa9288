"""`make bench-scale`: articles per second through crawl, extraction, tagging and indexing, by deployment.

    python -m benchmarks.bench_scale [--sources 200] [--domains 5] [--articles 2]
        [--store-url postgresql://…] [--index-url http://…]

Over one :class:`benchmarks.fleet_site.FleetSite` (``--sources`` feeds spread over
``--domains`` loopback domains, ``--articles`` articles each), in the same run and each
time into a fresh store, it times the whole pipeline, from the first process start to
the last exit, as ops would run it:

``sqlite``     ``regwatch run`` on the embedded store (its own FTS5 index);
``pg-1``       one ``regwatch worker --once`` on PostgreSQL, indexing into the cluster;
``pg-2``       two ``regwatch worker --once`` at once on the same.

Each PostgreSQL run gets a new database on the server of ``--store-url`` (default:
REGWATCH_STORE_URL, as ``postgresql/run.py with`` sets it) and a new alias on the node
of ``--index-url`` (default: REGWATCH_TEST_INDEX_URL, as ``opensearch/run.py with``
sets it); both are dropped afterwards. It prints articles/s for each, the ratios
pg-2/pg-1 (goal >= 1.6 where the cores are free) and pg-1/sqlite (goal >= 0.85), the
machine's cores (with two, the site, PostgreSQL, the node and the workers share them,
so pg-2/pg-1 is bounded well below 2), and each run's most requests in flight to one
domain: on PostgreSQL CRAWL_CONCURRENCY_PER_DOMAIN holds for the fleet, while one
`regwatch run` process exceeds it (README, "Politeness across crawl processes").
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from benchmarks.fleet_site import FleetSite
from regwatch.app.cluster_demo import regwatch_command

GOAL_TWO_WORKERS = 1.6
GOAL_PG_VS_SQLITE = 0.85
# Sources a worker claims per crawl subprocess (WORKER_CRAWL_BATCH), as a share of the site's: one
# worker then crawls in four batches (each a subprocess start, then tagging and indexing what it
# stored), two workers in two each. `regwatch run` crawls every source in one subprocess.
CRAWL_BATCH_SHARE = 4


@dataclass
class Measured:
    """One run: how long it took and what it did, summed over its processes."""

    name: str
    seconds: float
    new: int
    tagged: int
    indexed: int
    most_in_flight: int = 0  # the most requests one domain of the site had in flight at once

    def rate(self) -> float:
        return self.new / self.seconds if self.seconds else 0.0


def regwatch(home: Path, config: Path, *args: str) -> list[str]:
    """A `regwatch ... --json` subprocess's argv (this Python's, whatever PATH says)."""
    return regwatch_command(home, config, *args, "--json")


def environment(settings: dict[str, str]) -> dict[str, str]:
    """This environment without any REGWATCH_ setting, plus ``settings`` (names without the prefix)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGWATCH_")}
    return {**env, **{f"REGWATCH_{name}": value for name, value in settings.items()}}


def timed(name: str, commands: list[list[str]], env: dict[str, str], logs: Path) -> Measured:
    """Start ``commands`` together; time them until the last exits; sum their JSON summaries."""
    started = time.perf_counter()
    processes = []
    for n, argv in enumerate(commands):
        with (logs / f"{name}-{n}.log").open("w") as log:
            processes.append(
                subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
            )
    outputs = [process.communicate()[0] for process in processes]
    seconds = time.perf_counter() - started
    for n, process in enumerate(processes):
        if process.returncode != 0:
            tail = (logs / f"{name}-{n}.log").read_text()[-2000:]
            raise SystemExit(f"{name}: process {n} exited {process.returncode}:\n{tail}")
    summaries: list[dict[str, Any]] = [json.loads(out) for out in outputs]
    return Measured(
        name=name,
        seconds=seconds,
        new=sum(int(s["new"]) for s in summaries),
        tagged=sum(int(s["articles_tagged"]) for s in summaries),
        indexed=sum(int(s["indexed"]) for s in summaries),
    )


class Postgres:
    """Fresh databases on one server, each dropped at the end."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.made: list[str] = []

    def new_database(self) -> str:
        import psycopg

        name = f"regwatch_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        self.made.append(name)
        return self.url.rsplit("/", 1)[0] + "/" + name

    def drop_all(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            for name in self.made:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def drop_alias(index_url: str, alias: str) -> None:
    import opensearchpy

    client = opensearchpy.OpenSearch([index_url])
    try:
        client.indices.delete(index=f"{alias}-*", ignore_unavailable=True)
        client.indices.delete_index_template(name=f"{alias}-template", ignore=[404])
    finally:
        client.close()


def write_config(path: Path, site: FleetSite) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "sources": site.sources(),
                "settings": {"CRAWL_OBEY_ROBOTS": False, "CRAWL_ALLOWED_HOSTS": site.allowed_hosts()},
            }
        )
    )
    return path


def cores() -> tuple[int, int]:
    """(cores this process may use, cores the machine has)."""
    return len(os.sched_getaffinity(0)), os.cpu_count() or 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--domains", type=int, default=5)
    parser.add_argument("--articles", type=int, default=2, help="articles per source")
    parser.add_argument("--delay", type=float, default=0.02, help="the site's seconds per response")
    parser.add_argument(
        "--crawl-batch", type=int, default=0, help="WORKER_CRAWL_BATCH (default: a quarter of the sources)"
    )
    parser.add_argument(
        "--logs", type=Path, default=Path("var/bench-scale"), help="each process's log (kept for reading)"
    )
    parser.add_argument("--store-url", default=os.environ.get("REGWATCH_STORE_URL", ""))
    parser.add_argument("--index-url", default=os.environ.get("REGWATCH_TEST_INDEX_URL", ""))
    args = parser.parse_args(argv)
    if not args.store_url.startswith("postgresql://") or not args.index_url:
        parser.error(
            "needs a PostgreSQL server and an OpenSearch node: run `make bench-scale`, which starts both, "
            "or pass --store-url postgresql://… and --index-url http://…"
        )
    usable, total = cores()
    crawl_batch = args.crawl_batch or max(1, args.sources // CRAWL_BATCH_SHARE)
    args.logs.mkdir(parents=True, exist_ok=True)
    print(
        f"bench-scale: {args.sources} sources on {args.domains} domains, {args.articles} article(s) each; "
        f"{usable} usable core(s) of {total}; load average {os.getloadavg()[0]:.2f}; "
        f"WORKER_CRAWL_BATCH={crawl_batch}; logs in {args.logs}"
    )
    postgres = Postgres(args.store_url)
    aliases: list[str] = []
    results: dict[str, Measured] = {}
    with (
        tempfile.TemporaryDirectory(prefix="regwatch-bench-scale-") as tmp,
        FleetSite(args.domains, args.sources, args.articles, delay=args.delay) as site,
    ):
        root = Path(tmp)
        config = write_config(root / "fleet.yaml", site)
        try:
            results["sqlite"] = timed(
                "sqlite", [regwatch(root / "sqlite", config, "run")], environment({}), args.logs
            )
            results["sqlite"].most_in_flight = max(site.max_in_flight().values())
            for workers in (1, 2):
                alias = f"bench-scale-{uuid.uuid4().hex[:8]}"
                aliases.append(alias)
                env = environment(
                    {
                        "STORE_URL": postgres.new_database(),
                        "INDEX_URL": args.index_url,
                        "INDEX_NAME": alias,
                        "WORKER_CRAWL_BATCH": str(crawl_batch),
                    }
                )
                commands = [
                    regwatch(root / f"pg-{workers}-{n}", config, "worker", "--once") for n in range(workers)
                ]
                site.reset_counts()
                results[f"pg-{workers}"] = timed(f"pg-{workers}", commands, env, args.logs)
                results[f"pg-{workers}"].most_in_flight = max(site.max_in_flight().values())
        finally:
            postgres.drop_all()
            for alias in aliases:
                drop_alias(args.index_url, alias)
    expected = site.article_count
    for measured in results.values():
        complete = measured.new == expected and measured.tagged >= expected
        print(
            f"  {measured.name:<7} {measured.seconds:7.1f} s  {measured.rate():6.2f} articles/s  "
            f"({measured.new} new, {measured.tagged} tagged, {measured.indexed} documents indexed; "
            f"at most {measured.most_in_flight} requests in flight to one domain"
            f"{'' if complete else f'; INCOMPLETE, expected {expected}'})"
        )
    two = results["pg-2"].rate() / results["pg-1"].rate()
    versus = results["pg-1"].rate() / results["sqlite"].rate()
    print(
        f"  2 workers / 1 worker: {two:.2f}x (goal >= {GOAL_TWO_WORKERS} where cores are free; "
        f"{usable} usable core(s) here, shared by the site, PostgreSQL, OpenSearch and the workers)"
    )
    print(f"  PG 1 worker / SQLite: {versus:.2f}x (goal >= {GOAL_PG_VS_SQLITE})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
