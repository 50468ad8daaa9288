"""Real `regwatch worker` subprocesses for the tests: start, wait for, inspect and read what they did.

Shared by the worker tests (``test_pg_workers``), the fleet fault test
(``test_pg_fleet_faults``) and the cluster demo's test: each drives workers as ops run
them, as processes of their own with REGWATCH_* settings in their environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from regwatch.app.cluster_demo import regwatch_command

DEADLINE = 120.0  # seconds any awaited event may take on a loaded two-core machine before the test fails


def wait_for(what: str, check: Callable[[], Any], deadline: float = DEADLINE) -> Any:
    """Poll ``check`` until it returns something true; fail naming ``what`` after ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if found := check():
            return found
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def query(url: str, statement: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return [tuple(r) for r in conn.execute(statement).fetchall()]


def worker_env(settings: dict[str, str]) -> dict[str, str]:
    """This environment without any REGWATCH_ setting, plus ``settings`` (names without the prefix)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("REGWATCH_") or k.startswith("REGWATCH_TEST")
    }
    return {**env, **{f"REGWATCH_{name}": value for name, value in settings.items()}}


regwatch_argv = regwatch_command  # the cluster demo's: this Python, whatever PATH says


def start_worker(
    home: Path, config: Path, settings: dict[str, str], log: Path, *args: str
) -> subprocess.Popen[str]:
    """`regwatch worker ARGS --json` in a process of its own; its log goes to ``log``.

    Its temporary files (each crawl's job file) go under ``home``: a worker the test kills with
    SIGKILL cannot remove them, and they stay with the test's own files, not in the machine's /tmp.
    """
    scratch = home / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    with log.open("a") as stderr:
        return subprocess.Popen(
            regwatch_argv(home, config, "worker", *args, "--json"),
            env={**worker_env(settings), "TMPDIR": str(scratch)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )


def run_worker(home: Path, config: Path, settings: dict[str, str], log: Path, *args: str) -> dict[str, Any]:
    process = start_worker(home, config, settings, log, *args)
    out, _ = process.communicate(timeout=600)
    assert process.returncode == 0, log.read_text()[-3000:]
    return dict(json.loads(out))


def children_of(pid: int) -> list[int]:
    """The pids whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended: only its exit status is left to collect


def cluster_documents(cluster_url: str, alias: str) -> dict[str, tuple[int, int]]:
    """Each document in the cluster by id: (the cluster's ``_version``, the article version it holds).

    ``_version`` counts the cluster's writes of the document: 1 = indexed once.
    """
    import opensearchpy

    client = opensearchpy.OpenSearch([cluster_url])
    try:
        found = client.search(
            index=alias,
            body={"query": {"match_all": {}}, "size": 10_000, "version": True, "_source": ["version"]},
        )
    finally:
        client.close()
    hits = found["hits"]["hits"]
    assert len(hits) == found["hits"]["total"]["value"], "more documents than one page shows"
    return {str(hit["_id"]): (int(hit["_version"]), int(hit["_source"]["version"])) for hit in hits}


def cluster_versions(cluster_url: str, alias: str) -> list[int]:
    """The cluster's internal ``_version`` of each document: 1 = indexed once."""
    return [written for written, _ in cluster_documents(cluster_url, alias).values()]
