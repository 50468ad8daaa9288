"""The ops console on the sample site: source health with its failing pages, a source's runs,
"crawl now" end to end, turning a source off and on, the scheduler's jobs, the delivery ledger
and the index's state; and only the ops role may use it."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Cli
from desk_accounts import accounts_client, add_accounts, csrf, sign_in

DEADLINE = 180  # seconds a crawl of one sample source may take on a loaded machine


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home after one demo run (the sample site crawled, a digest delivered) and `schedule --list`."""
    home = tmp_path_factory.mktemp("ops-demo")
    Cli().json("demo", "--out", str(home))
    Cli(home=home, config=home / "demo.yaml").json("schedule", "--list")
    return home


@pytest.fixture
def ops(demo_home: Path) -> Iterator[Any]:
    """The desk over the demo home as its one local user (both roles), the sample site served again."""
    from fastapi.testclient import TestClient

    from regwatch.app import App
    from regwatch.app.demo import _serve
    from regwatch.app.desk import AppDesk
    from web import create_app

    with (
        _serve(demo_home),
        TestClient(create_app(AppDesk(App.load(demo_home, demo_home / "demo.yaml")))) as client,
    ):
        yield client


def test_the_console_shows_every_source_its_failures_the_jobs_the_ledger_and_the_index(
    ops: Any, demo_home: Path
) -> None:
    page = ops.get("/ops")
    assert page.status_code == 200
    html = page.text
    for source in ("ledger", "wire", "ofcom-news", "ofcom-statements", "dsit-search"):
        assert f'id="source-{source}"' in html
    ledger = html.split('id="source-ledger"')[1].split("</tr>")[0]
    assert "feed entry 3" in ledger and "no link" in ledger  # the sample feed's entry without a link
    cells = [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", ledger, re.S)
    ]
    rows = Cli(home=demo_home, config=demo_home / "demo.yaml").json("sources")
    cli = next(row for row in rows if row["id"] == "ledger")  # what `regwatch sources` prints
    listed = f"{cli['items_listed_last_run']} listed, {cli['items_last_run']} taken"
    assert listed in cells and str(cli["robots_blocked"]) in cells and cli["robots_blocked"] == 1, cells
    # moments are read as seconds in UTC, the exact value kept for machines
    assert re.search(
        r'datetime="[0-9T:-]+\+00:00"><span>\d{4}-\d\d-\d\d</span> <span>\d\d:\d\d:\d\d UTC</span>', ledger
    )
    errors = html.split('id="latest-errors"')[1].split("</ul>")[0]
    assert "council-tax-rise-withdrawn.html: HTTP 404" in errors  # and its broken article page
    assert 'id="scheduler-jobs"' in html and "crawl:ledger" in html and "digest:policy-desk" in html
    assert 'id="digest-ledger"' in html and "policy-desk" in html and "delivered" in html
    assert "the embedded SQLite full-text index" in html
    assert 'id="no-workers"' in html and "embedded store has no work queue" in html


def test_a_sources_page_lists_its_runs_with_their_errors(ops: Any) -> None:
    page = ops.get("/ops/source/ledger").text
    assert 'id="source-status">ok<' in page and 'id="crawl-now"' in page and 'id="turn-off"' in page
    assert re.search(
        r'id="source-discovery">follows feed http://127\.0\.0\.1:\d+/ledger/rss\.xml \(declared by', page
    )
    runs = page.split('id="source-runs"')[1]
    assert "council-tax-rise-withdrawn.html: HTTP 404" in runs and "feed entry 3" in runs
    assert ops.get("/ops/source/nope").status_code == 404


def test_crawl_now_runs_in_the_background_and_shows_its_result(ops: Any) -> None:
    token = csrf(ops, "/ops/source/wire")
    runs_before = ops.get("/ops/source/wire").text.count('<tr><th scope="row">')
    response = ops.post("/ops/source/wire/crawl", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/ops/source/wire"
    page = ops.get("/ops/source/wire").text
    assert 'id="crawl-running"' in page or 'id="crawl-done"' in page
    assert ops.get("/?q=grok").status_code == 200  # the desk answers while it crawls
    deadline = time.monotonic() + DEADLINE
    while 'id="crawl-running"' in page and time.monotonic() < deadline:
        time.sleep(0.5)
        page = ops.get("/ops/source/wire", headers={"HX-Request": "true"}).text  # the polled fragment
    assert 'id="crawl-done"' in page, page
    assert "page(s) fetched" in page
    full = ops.get("/ops/source/wire").text
    assert full.count('<tr><th scope="row">') == runs_before + 1  # the run is in the source's runs


def test_turning_a_source_off_and_on_is_kept_in_its_state(ops: Any, demo_home: Path) -> None:
    token = csrf(ops, "/ops/source/ofcom-news")
    off = ops.post("/ops/source/ofcom-news/enabled", data={"csrf_token": token, "enabled": "0"})
    assert off.status_code == 200 and 'id="source-status">off<' in off.text and 'id="turn-on"' in off.text
    assert "turned off on the desk by local" in off.text
    rows = Cli(home=demo_home, config=demo_home / "demo.yaml").json("sources")
    assert {r["id"]: r["status"] for r in rows}["ofcom-news"] == "off"
    on = ops.post("/ops/source/ofcom-news/enabled", data={"csrf_token": token, "enabled": "1"})
    assert 'id="source-status">off<' not in on.text and 'id="turn-off"' in on.text
    assert ops.post("/ops/source/ofcom-news/enabled", data={"enabled": "0"}).status_code == 403  # no CSRF


def test_only_ops_may_use_the_console(desk_home: Path) -> None:
    add_accounts(desk_home)
    with accounts_client(desk_home) as alice, accounts_client(desk_home) as olly:
        sign_in(alice, "alice")
        sign_in(olly, "olly")
        assert alice.get("/ops").status_code == 403 and "ops role" in alice.get("/ops").text
        token = csrf(alice)
        for path in ("/ops/source/press/crawl", "/ops/source/press/enabled"):
            assert alice.post(path, data={"csrf_token": token, "enabled": "0"}).status_code == 403
        assert 'id="nav-ops"' not in alice.get("/").text
        page = olly.get("/ops")
        assert page.status_code == 200 and 'id="source-press"' in page.text and 'id="no-jobs"' in page.text
