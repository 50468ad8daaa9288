"""Extraction as an item pipeline: a fetched page in, its article and completed fetch record out.

The pipeline is built as Scrapy builds it (``from_crawler``) or from plain
arguments; its worker pool is taken when a spider opens and given back when it
closes, the last spider closing stopping the workers.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from crawl_fixtures import serve_pages
from scrapy.exceptions import DropItem
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from benchmarks.bench_crawl import article_page
from crawlers import ExtractedArticle, ExtractPipeline, FetchedPage, FetchRecord, crawl_stats_from, run_crawl
from crawlers import _extract_pool as pool
from crawlers._items import ArticleHint
from crawlers.settings import EXTRACT_PIPELINE, scrapy_settings
from regwatch.models import Source
from regwatch.settings import BY_NAME, Settings

SOURCE = Source(id="press", name="Press", kind="feed", url="https://news.example.org/feed.xml")
URL = "https://news.example.org/2026/01/story.html"
WALL = (
    b"<html><head><title>Just a moment...</title></head><body><h1>Checking your browser before "
    b"accessing news.example.org</h1><p>Please enable JavaScript and cookies to continue.</p></body></html>"
)


def page(body: bytes, url: str = URL) -> FetchedPage:
    record = FetchRecord(url, SOURCE.id, 200, etag='"v1"', last_modified="")
    return FetchedPage(
        source=SOURCE,
        url=url,
        hint=ArticleHint(title="From the feed"),
        record=record,
        body=body,
        content_type="text/html; charset=utf-8",
        charset="utf-8",
    )


def pipeline(stats: MemoryStatsCollector, **options: int) -> ExtractPipeline:
    return ExtractPipeline(stats, **{"workers": 0, **options})


@pytest.fixture
def stats() -> MemoryStatsCollector:
    return MemoryStatsCollector(get_crawler())


def test_a_fetched_page_becomes_its_article_with_the_pages_record_completed(
    stats: MemoryStatsCollector,
) -> None:
    extract = pipeline(stats)
    extract.open_spider()
    try:
        item = asyncio.run(extract.process_item(page(article_page(3))))
    finally:
        extract.close_spider()

    assert isinstance(item, ExtractedArticle)
    assert item.article.title.startswith("Story 3") and item.article.source_id == "press"
    record = item.fetch_record
    assert (record.url, record.status, record.etag) == (URL, 200, '"v1"')
    assert (record.article_url, record.content_hash) == (item.article.url, item.article.content_hash)


def test_other_items_pass_through_untouched(stats: MemoryStatsCollector) -> None:
    not_modified = FetchRecord(URL, "press", 304, etag='"v1"')
    assert asyncio.run(pipeline(stats).process_item(not_modified)) is not_modified


def test_a_page_the_extractor_refuses_is_one_parse_error_and_goes_no_further(
    stats: MemoryStatsCollector,
) -> None:
    with pytest.raises(DropItem):
        asyncio.run(pipeline(stats, min_body_chars=10**6).process_item(page(article_page(3))))

    result = crawl_stats_from(stats.get_stats(), "press")
    assert result.errors == 1
    [failure] = result.failures
    assert (failure.error_class, failure.url) == ("parse", URL)
    assert failure.reason.startswith("body too short")


def test_a_bot_wall_is_one_blocked_error_and_goes_no_further(stats: MemoryStatsCollector) -> None:
    with pytest.raises(DropItem):
        asyncio.run(pipeline(stats).process_item(page(WALL)))

    [failure] = crawl_stats_from(stats.get_stats(), "press").failures
    assert (failure.error_class, failure.url) == ("blocked", URL)
    assert failure.reason.startswith("bot wall")


def test_the_pipeline_reads_its_settings_by_their_one_name() -> None:
    values = scrapy_settings(
        Settings(env={}, overrides={"EXTRACT_MIN_BODY_CHARS": 7, "CRAWL_EXTRACT_WORKERS": 0})
    )
    configured = ExtractPipeline.from_crawler(get_crawler(settings_dict=values))
    assert (configured.min_body_chars, configured.workers) == (7, 0)
    # Unset (a crawler built without regwatch's settings): the setting's row gives the default.
    bare = ExtractPipeline.from_crawler(get_crawler())
    assert bare.max_body_chars == BY_NAME["EXTRACT_MAX_BODY_CHARS"].default
    assert bare.workers == BY_NAME["CRAWL_EXTRACT_WORKERS"].default


def alive(pid: int) -> bool:
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads worker states from /proc")
def test_the_worker_pool_lives_from_the_first_spider_open_to_the_last_spider_close(
    stats: MemoryStatsCollector,
) -> None:
    first, second = pipeline(stats, workers=1), pipeline(stats, workers=1)
    first.open_spider()
    second.open_spider()
    try:
        assert first.extractor is second.extractor  # one pool for every source of the crawl
        item = asyncio.run(first.process_item(page(article_page(5))))
        assert isinstance(item, ExtractedArticle)
        assert first.extractor is not None and first.extractor._pool is not None
        workers = list(first.extractor._pool._processes)
        assert len(workers) == 1

        first.close_spider()
        assert all(alive(pid) for pid in workers)  # the other spider still extracts
        assert asyncio.run(second.process_item(page(article_page(6), url=URL + "?n=6"))).article.title
    finally:
        second.close_spider()
        first.close_spider()  # closing twice gives nothing back twice

    assert pool._shared is None
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in workers)


@pytest.mark.slow
def test_switching_the_extraction_pipeline_off_leaves_a_crawl_that_fetches_and_counts(tmp_path: Path) -> None:
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Press</title>'
        "<item><title>One</title><link>{base}/one.html</link><pubDate>Mon, 12 Jan 2026 09:00:00 GMT</pubDate></item>"
        "<item><title>Two</title><link>{base}/two.html</link><pubDate>Mon, 12 Jan 2026 10:00:00 GMT</pubDate></item>"
        "</channel></rss>"
    )
    pages = {
        "/feed.xml": ("application/rss+xml", feed),
        "/one.html": ("text/html; charset=utf-8", article_page(1)),
        "/two.html": ("text/html; charset=utf-8", WALL),  # not even read: nothing extracts it
    }
    with serve_pages(pages) as (base, server):
        settings = Settings(
            env={},
            overrides={"CRAWL_ALLOWED_HOSTS": base, "CRAWL_LOOKBACK_DAYS": 0, "CRAWL_OBEY_ROBOTS": False},
        )
        source = Source(id="press", name="Press", kind="feed", url=f"{base}/feed.xml")
        [stats] = run_crawl([source], settings, {EXTRACT_PIPELINE: None})
        requested = set(server.requested)

    assert {"/one.html", "/two.html"} <= requested
    assert (stats.pages_fetched, stats.new, stats.errors) == (2, 0, 0), stats.failures
