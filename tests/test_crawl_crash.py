"""A crash loses nothing: SIGKILL a real crawl subprocess mid-run, then check the store and rerun.

The crawl is the real one (``python -m crawlers.process`` with the real
StoreArticlePipeline); some article pages hang until the test lets them go,
so the kill lands while requests are in flight. Afterwards every stored
article is intact, the store passes SQLite's integrity check, every fetch
ledger row points at a stored article with its hash, and a rerun fetches in
full only what had no ledger row: the pages in flight or never reached.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import yaml
from crawl_fixtures import serve_pages

from crawlers._runner import _job
from regwatch.app import App, pipeline

pytestmark = pytest.mark.slow

FAST, SLOW = 12, 2
HTML = "text/html; charset=utf-8"
PAGE = (
    '<html lang="en"><head><title>Story {n}</title><meta property="og:title" content="Story {n}"></head><body>'
    "<article><h1>Story {n}</h1><p>Story {n}. The regulator said it would examine whether the platform had "
    "complied with its duties, and that it would not hesitate to act if the law had been broken.</p>"
    "</article></body></html>"
)


@pytest.fixture
def site() -> Iterator[tuple[str, Any, threading.Event]]:
    release = threading.Event()
    date = format_datetime(datetime.now(UTC) - timedelta(days=1))
    items = "".join(
        f"<item><title>Story {n}</title><link>{{base}}/a/{n}.html</link><pubDate>{date}</pubDate></item>"
        for n in range(FAST + SLOW)
    )
    pages: dict[str, tuple[str, str | bytes]] = {
        "/feed.xml": (
            "application/rss+xml",
            f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>',
        )
    }
    for n in range(FAST + SLOW):
        pages[f"/a/{n}.html"] = (HTML, PAGE.format(n=n))
    with serve_pages(pages) as (base, server):
        server.etags = True

        def hang_then_serve(handler: BaseHTTPRequestHandler) -> None:
            release.wait(60)
            path = handler.path
            content_type, body = server.pages[path]
            handler.send_response(200)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)

        for n in range(FAST, FAST + SLOW):
            server.faults[f"/a/{n}.html"] = hang_then_serve
        try:
            yield base, server, release
        finally:
            release.set()


def make_app(home: Path, base: str) -> App:
    config = home / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "sources": [{"id": "wire", "name": "Wire", "kind": "feed", "url": f"{base}/feed.xml"}],
                "settings": {
                    "CRAWL_ALLOWED_HOSTS": base,
                    "CRAWL_OBEY_ROBOTS": False,
                    "CRAWL_TIMEOUT": 60,
                    "CRAWL_CONCURRENCY_PER_DOMAIN": 4,  # the hanging pages take two slots, not all
                },
            }
        )
    )
    return App.load(home, config)


def wait_for(predicate: Any, what: str, deadline: float = 180.0) -> None:
    end = time.monotonic() + deadline
    while not predicate():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_killed_crawl_loses_no_stored_article_and_a_rerun_fetches_only_what_was_in_flight(
    home: Path, site: Any, tmp_path: Path
) -> None:
    base, server, release = site
    with make_app(home, base) as app:
        [source] = app.config.sources
        job = _job(
            [source], app.settings, {pipeline.STORE_PIPELINE: 800}, {"REGWATCH_DB_PATH": str(app.db_path)}
        )
        app.store  # noqa: B018 - the schema exists before the crawl writes
        job_path = tmp_path / "job.json"
        job_path.write_text(json.dumps(job))
        log = (tmp_path / "crawl.log").open("wb")  # read it when this test fails
        crawl = subprocess.Popen(
            [sys.executable, "-m", "crawlers.process", str(job_path), str(tmp_path / "report.json")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            wait_for(lambda: app.store.articles.count() >= FAST, "the fast pages to be stored")
            wait_for(lambda: any(p.startswith(f"/a/{FAST}") for p in server.requested), "a hanging request")
        finally:
            crawl.kill()  # SIGKILL: no cleanup of any kind in the crawl process
            crawl.wait(30)
            log.close()
        assert crawl.returncode == -9

    release.set()
    with make_app(home, base) as app:
        conn = sqlite3.connect(app.store.path)
        conn.row_factory = sqlite3.Row
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = app.store.articles.count()
        assert stored >= FAST
        ledger = conn.execute("SELECT url, content_hash, article_url FROM fetch_ledger").fetchall()
        conn.close()
        for row in ledger:  # a ledger row only ever follows its stored article
            article_id = app.store.articles.id_for_url(row["article_url"])
            article = app.store.articles.get(article_id) if article_id else None
            assert article is not None and article.content_hash == row["content_hash"], row["url"]

        [rerun] = pipeline.crawl(app)

        assert rerun.not_modified == len(ledger)
        assert rerun.pages_fetched == FAST + SLOW - len(
            ledger
        )  # in flight, or stored but not yet in the ledger
        assert rerun.new == FAST + SLOW - stored
        assert rerun.errors == 0
        assert app.store.articles.count() == FAST + SLOW


def test_a_crawl_subprocess_whose_parent_is_already_gone_exits_at_once(tmp_path: Path) -> None:
    """The parent named in its environment is not its parent (it died before the child asked the
    kernel to follow it): the child exits before reading its job, so it never crawls orphaned."""
    from crawlers._parent_watch import PARENT_PID_ENV

    job = tmp_path / "job.json"
    job.write_text(json.dumps({"sources": []}))
    done = subprocess.run(
        [sys.executable, "-m", "crawlers.process", str(job), str(tmp_path / "report.json")],
        env={**os.environ, PARENT_PID_ENV: "1"},  # not this child's parent
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1 and "is gone; stopping" in done.stderr
    assert not (tmp_path / "report.json").exists()
