"""Incremental crawling: the fetch ledger, conditional GETs and URL canonicalisation, end to end.

Each test crawls a small site served here (with ETags) through ``pipeline.crawl``,
the way ``regwatch crawl`` does: a real crawl subprocess, a real store.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from crawl_fixtures import serve_pages

from crawlers import canonical_url
from regwatch.app import App, pipeline
from regwatch.models import CrawlStats

pytestmark = pytest.mark.slow

HTML = "text/html; charset=utf-8"
FILLER = (
    "The regulator said it would examine whether the platform had complied with its duties, and that "
    "it would not hesitate to act if it found that the law had been broken."
)


def page(title: str, extra: str = "") -> str:
    return (
        f'<html lang="en"><head><title>{title}</title><meta property="og:title" content="{title}">'
        f'<meta property="article:published_time" content="2026-11-20T09:00:00Z"></head>'
        f"<body><article><h1>{title}</h1><p>{title}. {FILLER}</p><p>{FILLER} {extra}</p></article></body></html>"
    )


def feed(*links: str) -> str:
    date = format_datetime(datetime.now(UTC) - timedelta(days=1))
    items = "".join(
        f"<item><title>Item {n}</title><link>{link}</link><pubDate>{date}</pubDate></item>"
        for n, link in enumerate(links)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{items}</channel></rss>'


@pytest.fixture(autouse=True)
def _store_engine(store_settings: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test here on each store engine: the App (and the crawl subprocess) read it from the environment."""
    for name, value in store_settings.items():
        monkeypatch.setenv(f"REGWATCH_{name}", value)


@pytest.fixture
def site() -> Iterator[tuple[str, Any]]:
    pages = {
        "/feed.xml": ("application/rss+xml", feed("{base}/a/one.html", "{base}/a/two.html")),
        "/a/one.html": (HTML, page("Article one")),
        "/a/two.html": (HTML, page("Article two")),
    }
    with serve_pages(pages) as (base, server):
        server.etags = True
        yield base, server


def make_app(home: Path, base: str) -> App:
    config = home / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "sources": [{"id": "fixture", "name": "Fixture", "kind": "feed", "url": f"{base}/feed.xml"}],
                "settings": {"CRAWL_OBEY_ROBOTS": False, "CRAWL_ALLOWED_HOSTS": base},
            }
        )
    )
    return App.load(home, config)


def crawl_once(home: Path, base: str) -> CrawlStats:
    with make_app(home, base) as app:
        [stats] = pipeline.crawl(app)
    return stats


def article_requests(server: Any) -> list[tuple[str, dict[str, str]]]:
    return [(path, headers) for path, headers in server.request_headers if path.startswith("/a/")]


def feed_requests(server: Any) -> list[dict[str, str]]:
    return [headers for path, headers in server.request_headers if path == "/feed.xml"]


def test_a_rerun_of_an_unchanged_feed_asks_for_the_feed_conditionally_and_fetches_nothing_else(
    home: Path, site: Any
) -> None:
    base, server = site
    first = crawl_once(home, base)
    assert (first.pages_fetched, first.new, first.index_not_modified) == (2, 2, 0)
    assert "If-None-Match" not in feed_requests(server)[0]

    server.request_headers.clear()
    second = crawl_once(home, base)

    assert feed_requests(server)[0].get("If-None-Match", "").startswith('"')
    assert article_requests(server) == []  # the feed answered 304: nothing it lists is asked for
    assert second.index_not_modified == 1 and second.index_failure is None
    assert (second.pages_fetched, second.not_modified, second.new, second.errors) == (0, 0, 0, 0)


def test_a_rerun_asks_conditionally_and_fetches_nothing_unchanged(home: Path, site: Any) -> None:
    base, server = site
    first = crawl_once(home, base)
    assert (first.pages_fetched, first.not_modified, first.new) == (2, 0, 2)
    assert all("If-None-Match" not in headers for _, headers in article_requests(server))
    server.set_page("/a/three.html", HTML, page("Article three"))
    server.set_page(
        "/feed.xml",
        "application/rss+xml",
        feed("{base}/a/one.html", "{base}/a/two.html", "{base}/a/three.html"),
    )

    server.request_headers.clear()
    second = crawl_once(home, base)

    assert second.index_not_modified == 0  # the feed changed: read in full
    assert (second.pages_fetched, second.not_modified) == (1, 2)
    assert (second.new, second.updated, second.duplicate, second.errors) == (1, 0, 0, 0)
    asked = dict(article_requests(server))
    assert asked["/a/one.html"].get("If-None-Match", "").startswith('"')
    assert asked["/a/two.html"].get("If-None-Match", "").startswith('"')
    assert "If-None-Match" not in asked["/a/three.html"]


def test_an_edited_article_is_refetched_and_updates_the_same_record(home: Path, site: Any) -> None:
    base, server = site
    crawl_once(home, base)
    server.set_page("/a/two.html", HTML, page("Article two", extra="Correction: the fine was doubled."))
    # The feed says so (a new entry date), as feeds do for a corrected story.
    server.set_page("/feed.xml", "application/rss+xml", feed("{base}/a/two.html", "{base}/a/one.html"))

    third = crawl_once(home, base)

    assert (third.pages_fetched, third.not_modified, third.updated, third.new) == (1, 1, 1, 0)
    with make_app(home, base) as app:
        assert app.store.articles.count() == 2
        entry = app.store.fetch_ledger.entry("fixture", canonical_url(f"{base}/a/two.html"))
        assert entry is not None and entry["status"] == 200
        article_id = app.store.articles.id_for_url(f"{base}/a/two.html")
        assert article_id is not None
        stored = app.store.articles.get(article_id)
        assert stored is not None and "doubled" in stored.body


def test_the_ledger_keeps_validators_and_the_stored_articles_hash(home: Path, site: Any) -> None:
    base, server = site
    crawl_once(home, base)
    with make_app(home, base) as app:
        entry = app.store.fetch_ledger.entry("fixture", f"{base}/a/one.html")
        article_id = app.store.articles.id_for_url(f"{base}/a/one.html")
        assert article_id is not None
        article = app.store.articles.get(article_id)
        assert entry is not None and article is not None
        assert entry["etag"].startswith('"') and entry["content_hash"] == article.content_hash
        assert entry["article_url"] == article.url


def test_a_page_that_gave_no_article_is_fetched_in_full_next_time(home: Path, site: Any) -> None:
    base, server = site
    server.set_page("/a/two.html", HTML, "<html><body><p>Too short.</p></body></html>")
    first = crawl_once(home, base)
    assert first.errors == 1 and first.new == 1
    with make_app(home, base) as app:
        assert app.store.fetch_ledger.entry("fixture", f"{base}/a/two.html") is None

    server.request_headers.clear()
    crawl_once(home, base)
    # The run had an error, so the feed's validators were not kept: it is read in full again
    # (a 304 would hide the page that failed), and the failed page is fetched in full.
    assert "If-None-Match" not in feed_requests(server)[0]
    two = [headers for path, headers in article_requests(server) if path == "/a/two.html"]
    assert two and "If-None-Match" not in two[0]


def test_tracking_amp_and_fragment_variants_of_one_link_are_fetched_once(home: Path, site: Any) -> None:
    base, server = site
    server.set_page(
        "/feed.xml",
        "application/rss+xml",
        feed(
            "{base}/a/one.html?utm_source=rss&amp;utm_medium=feed",
            "{base}/a/one.html#comments",
            "{base}/a/one.html?fbclid=abc",
            "{base}/a/one.html",
        ),
    )
    stats = crawl_once(home, base)
    assert stats.pages_fetched == 1 and stats.new == 1
    assert len(article_requests(server)) == 1
