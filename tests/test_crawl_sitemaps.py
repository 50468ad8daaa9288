"""Sitemaps and Google News sitemaps: dates before fetching, newest first, an index followed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from crawl_fixtures import jsonl_pipelines, read_jsonl, serve_pages

from crawlers import parse_sitemap, run_crawl
from regwatch.errors import SourceError
from regwatch.models import Source
from regwatch.settings import Settings
from regwatch.sources import SitemapSelectors

DATA = Path(__file__).parent / "data" / "crawl_sources"
HTML = "text/html; charset=utf-8"
PAGE = (
    '<html lang="en"><head><title>{t}</title><meta property="og:title" content="{t}"></head><body><article>'
    "<h1>{t}</h1><p>{t}. The regulator said it would examine whether the platform had complied with its "
    "duties, and that it would not hesitate to act if the law had been broken.</p></article></body></html>"
)
FRESH = (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="seconds")
OLD = (datetime.now(UTC) - timedelta(days=200)).isoformat(timespec="seconds")


def fixture(name: str, base: str = "https://news.example") -> bytes:
    text = (DATA / name).read_text(encoding="utf-8")
    return text.replace("{base}", base).replace("{fresh}", FRESH).replace("{old}", OLD).encode()


def test_a_news_sitemap_gives_dates_titles_and_keywords_before_any_fetch() -> None:
    sitemap = parse_sitemap(fixture("news_sitemap.xml"), "https://news.example/sitemaps/news.xml")
    assert sitemap.kind == "urlset"
    fresh, old, lastmod_only = sitemap.entries
    assert fresh.loc == "https://news.example/news/articles/fresh-story"
    assert fresh.title == "Ofcom fines platform over age checks"
    assert fresh.keywords == ["Ofcom", "Online Safety Act"]
    assert fresh.published is not None and fresh.published.tzinfo is not None
    assert old.published is not None and old.published < fresh.published
    assert lastmod_only.published is None and lastmod_only.lastmod is not None


def test_a_sitemap_index_lists_its_sitemaps() -> None:
    index = parse_sitemap(fixture("sitemap_index.xml"), "https://news.example/sitemap.xml")
    assert index.kind == "sitemapindex"
    assert [e.loc.rsplit("/", 1)[1] for e in index.entries] == ["archive-2019.xml", "news.xml"]


@pytest.mark.parametrize(
    ("body", "error_class"),
    [(b"", "empty"), (b"<html><body>Not a sitemap</body></html>", "parse"), (b"\x00\x01garbage", "parse")],
)
def test_what_is_not_a_sitemap_is_an_error_of_its_class(body: bytes, error_class: str) -> None:
    with pytest.raises(SourceError) as raised:
        parse_sitemap(body, "https://news.example/sitemap.xml")
    assert raised.value.error_class == error_class


@pytest.fixture
def site() -> Iterator[tuple[str, Any]]:
    with serve_pages({}) as (base, server):
        server.set_page("/sitemap.xml", "application/xml", fixture("sitemap_index.xml", base))
        server.set_page("/sitemaps/news.xml", "application/xml", fixture("news_sitemap.xml", base))
        for name in ("fresh-story", "old-story", "lastmod-only"):
            server.set_page(f"/news/articles/{name}", HTML, PAGE.format(t=name))
        yield base, server


@pytest.mark.slow
def test_a_sitemap_source_follows_its_news_sitemap_and_skips_old_urls_unfetched(
    site: Any, tmp_path: Path
) -> None:
    base, server = site
    source = Source(
        id="news-sitemap",
        name="News",
        kind="sitemap",
        url=f"{base}/sitemap.xml",
        selectors=SitemapSelectors(follow="news"),
    )
    settings = Settings(env={}, overrides={"CRAWL_ALLOWED_HOSTS": base, "CRAWL_OBEY_ROBOTS": False})
    out = tmp_path / "articles.jsonl"
    [stats] = run_crawl([source], settings, jsonl_pipelines(), {"REGWATCH_TEST_JSONL": str(out)})
    assert sorted(a.url.rsplit("/", 1)[1] for a in read_jsonl(out)) == ["fresh-story", "lastmod-only"]
    assert "/news/articles/old-story" not in server.requested
    assert "/sitemaps/archive-2019.xml" not in server.requested  # not a news sitemap
    assert (stats.too_old, stats.items_found, stats.errors) == (1, 3, 0)
