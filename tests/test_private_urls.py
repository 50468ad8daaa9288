"""Credentials inside INDEX_URL never show: not in `regwatch settings`, errors, status or logs.

The CLI runs as a subprocess (as a user runs it), with -v, so every logger
(regwatch's and the cluster clients') writes what it would; its whole output is
searched for the password.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cluster_fixtures import open_cluster
from ports import refused_port

from indexer import Store
from regwatch.private import redact_url

SECRET = "s3cret-Pa55"


def regwatch(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("REGWATCH_")}
    environ.update({f"REGWATCH_{k}": v for k, v in env.items()})
    return subprocess.run(
        [sys.executable, "-c", "from regwatch.app.cli import main; main()", "--home", str(home), "-v", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("http://u:secret@127.0.0.1:9200", "http://u:***@127.0.0.1:9200"),
        ("https://elastic:p@ss@es.example/", "https://elastic:***@es.example/"),  # a raw "@" in the password
        ("https://ghp_token123@es.example", "https://***@es.example"),  # a lone userinfo is a token
        (
            "search cluster http://u:secret@h:1: failed (GET http://u:secret@h:1/ refused)",
            "search cluster http://u:***@h:1: failed (GET http://u:***@h:1/ refused)",
        ),
        ("https://medium.com/@someone/post", "https://medium.com/@someone/post"),  # "@" in a path
        ("http://127.0.0.1:9200", "http://127.0.0.1:9200"),
        ("mailto:ops@example.org", "mailto:ops@example.org"),
    ],
)
def test_redact_url_masks_userinfo_and_nothing_else(text: str, shown: str) -> None:
    assert redact_url(text) == shown


def test_settings_never_print_the_url_password(home: Path) -> None:
    url = f"https://ops:{SECRET}@es.example:9200"
    text = regwatch(home, "settings", INDEX_URL=url)
    as_json = regwatch(home, "settings", "--json", INDEX_URL=url)
    assert text.returncode == 0 and as_json.returncode == 0
    assert SECRET not in text.stdout + text.stderr + as_json.stdout + as_json.stderr
    assert "https://ops:***@es.example:9200" in text.stdout
    assert json.loads(as_json.stdout)["INDEX_URL"] == "https://ops:***@es.example:9200"


@pytest.mark.parametrize("flavor", ["auto", "opensearch", "elasticsearch"])
def test_an_unreachable_cluster_error_and_the_logs_never_show_the_password(home: Path, flavor: str) -> None:
    url = f"http://u:{SECRET}@127.0.0.1:{refused_port()}"
    result = regwatch(home, "index", "status", INDEX_URL=url, INDEX_FLAVOR=flavor, INDEX_TIMEOUT="5")
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "http://u:***@127.0.0.1:" in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.slow
def test_cluster_status_and_the_ledger_hold_no_password(cluster_url: str, alias: str, tmp_path: Path) -> None:
    url = cluster_url.replace("http://", f"http://ops:{SECRET}@", 1)  # the node ignores basic auth
    with Store.open(tmp_path / "regwatch.db") as store:
        cluster = open_cluster(store, url, alias)
        try:
            status = cluster.status()
        finally:
            cluster.close()
    assert status["url"] == cluster_url.replace("http://", "http://ops:***@", 1)
    assert SECRET not in json.dumps(status) and SECRET not in cluster.target
    assert SECRET.encode() not in (tmp_path / "regwatch.db").read_bytes()
