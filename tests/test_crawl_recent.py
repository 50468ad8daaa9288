"""Recent first: entries a feed or API dates before the look-back are skipped without a request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from crawl_fixtures import jsonl_pipelines, read_jsonl, serve_pages

from crawlers import run_crawl
from regwatch.models import Source
from regwatch.settings import Settings
from regwatch.sources import JsonApiSelectors

pytestmark = pytest.mark.slow

HTML = "text/html; charset=utf-8"
PAGE = (
    '<html lang="en"><head><title>{t}</title><meta property="og:title" content="{t}"></head><body><article>'
    "<h1>{t}</h1><p>{t}. The regulator said it would examine whether the platform had complied with its "
    "duties, and that it would not hesitate to act if the law had been broken.</p></article></body></html>"
)


def ago(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


@pytest.fixture
def site() -> Iterator[tuple[str, Any]]:
    items = [
        ("fresh", ago(2)),
        ("month-old", ago(29)),
        ("old", ago(45)),
        ("ancient", ago(400)),
        ("undated", None),
    ]
    rss = "".join(
        f"<item><title>{name}</title><link>{{base}}/feed/{name}.html</link>"
        + (f"<pubDate>{format_datetime(when)}</pubDate>" if when else "")
        + "</item>"
        for name, when in items
    )
    api = {
        "results": [
            {"title": "api fresh", "link": "/api/fresh", "public_timestamp": ago(1).isoformat()},
            {"title": "api old", "link": "/api/old", "public_timestamp": ago(90).isoformat()},
        ]
    }
    pages: dict[str, tuple[str, str | bytes]] = {
        "/feed.xml": (
            "application/rss+xml",
            f'<?xml version="1.0"?><rss version="2.0"><channel>{rss}</channel></rss>',
        ),
        "/search.json": ("application/json", json.dumps(api)),
    }
    for name, _ in items:
        pages[f"/feed/{name}.html"] = (HTML, PAGE.format(t=name))
    for name in ("fresh", "old"):
        pages[f"/api/{name}"] = (HTML, PAGE.format(t=f"api {name}"))
    with serve_pages(pages) as served:
        yield served


def crawl(base: str, tmp_path: Path, lookback: int) -> tuple[dict[str, Any], list[str]]:
    sources = [
        Source(id="feed", name="feed", kind="feed", url=f"{base}/feed.xml"),
        Source(
            id="api",
            name="api",
            kind="json_api",
            url=f"{base}/search.json",
            selectors=JsonApiSelectors(
                results="results", link="link", title="title", published="public_timestamp"
            ),
        ),
    ]
    settings = Settings(
        env={},
        overrides={
            "CRAWL_ALLOWED_HOSTS": base,
            "CRAWL_LOOKBACK_DAYS": lookback,
            "CRAWL_OBEY_ROBOTS": False,
        },
    )
    out = tmp_path / f"articles-{lookback}.jsonl"
    stats = run_crawl(sources, settings, jsonl_pipelines(), {"REGWATCH_TEST_JSONL": str(out)})
    return {s.source_id: s for s in stats}, sorted(a.title for a in read_jsonl(out))


def test_entries_dated_before_the_look_back_are_never_requested(site: Any, tmp_path: Path) -> None:
    base, server = site
    stats, titles = crawl(base, tmp_path, lookback=30)
    assert titles == ["api fresh", "fresh", "month-old", "undated"]
    for path in ("/feed/old.html", "/feed/ancient.html", "/api/old"):
        assert path not in server.requested
    assert (stats["feed"].too_old, stats["api"].too_old) == (2, 1)
    assert stats["feed"].items_found == 5  # the index listed them all: volume is what it lists


def test_a_look_back_of_zero_takes_everything(site: Any, tmp_path: Path) -> None:
    base, _ = site
    stats, titles = crawl(base, tmp_path, lookback=0)
    assert len(titles) == 7 and stats["feed"].too_old == 0
