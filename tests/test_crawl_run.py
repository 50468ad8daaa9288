"""End to end: `run_crawl` against a fixture site served here, with a real JSON-lines item pipeline."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from crawl_fixtures import jsonl_pipelines, read_jsonl, serve_pages

from crawlers import add_error, count, crawl_stats_from, run_crawl, stat_key
from crawlers._runner import _job, _read_report
from regwatch.models import Article, CrawlFailure, CrawlStats, Source
from regwatch.settings import Settings
from regwatch.sources import JsonApiSelectors, ListingSelectors

pytestmark = pytest.mark.slow

HTML = "text/html; charset=utf-8"
FILLER = (
    "Ofcom said it would examine whether the platform had complied with its duties under the Online "
    "Safety Act, and that it would not hesitate to act if it found that the law had been broken."
)


def article_page(title: str, *, published: str = "", canonical: str = "", extra_head: str = "") -> str:
    meta = f'<meta property="article:published_time" content="{published}">' if published else ""
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return (
        f'<html lang="en"><head><title>{title} | Fixture News</title>'
        f'<meta property="og:title" content="{title}">{meta}{link}{extra_head}</head>'
        f"<body><nav><a href='/'>Home</a></nav><article><h1>{title}</h1>"
        f"<p>{title}. {FILLER}</p><p>{FILLER}</p></article><footer>Fixture News Ltd</footer></body></html>"
    )


FEED = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>Fixture feed</title>
<item><title>One</title><link>{base}/a/one.html</link><pubDate>Mon, 12 Jan 2026 08:30:00 +0000</pubDate></item>
<item><title>Gone</title><link>{base}/a/missing.html</link></item>
<item><title>Secret</title><link>{base}/private/secret.html</link></item>
<item><title>No link</title><guid isPermaLink="false">no-link</guid></item>
<item><title>Two</title><link>/a/two.html</link><pubDate>Tue, 13 Jan 2026 10:00:00 +0000</pubDate>
  <description>Two from the feed.</description></item>
</channel></rss>"""

LISTING_1 = """<html><body><ul>
<li class="item"><a href="../b/one.html">B one</a><time datetime="2026-01-14T09:00:00Z">14 Jan</time></li>
<li class="item"><a href="/a/one.html">A one again</a></li>
<li class="item">No link in this item</li>
</ul><a rel="next" href="page-2.html">Next</a></body></html>"""
LISTING_2 = """<html><body><ul>
<li class="item"><a href="/b/two.html">B two</a></li>
</ul><a rel="next" href="page-3.html">Next</a></body></html>"""
LISTING_3 = """<html><body><ul><li class="item"><a href="/b/three.html">B three</a></li></ul></body></html>"""


def api_page(results: list[dict[str, Any]], start: int) -> str:
    return json.dumps({"results": results, "total": 3, "start": start})


API_1 = api_page(
    [
        {
            "title": "C one",
            "link": "/c/one",
            "public_timestamp": "2026-01-09T16:00:00.000+00:00",
            "description": "C one summary",
        },
        {"title": "C two", "link": "/c/two", "public_timestamp": "2026-01-10T16:00:00.000+00:00"},
    ],
    0,
)
API_2 = api_page([{"title": "C three", "link": "/c/three", "public_timestamp": "2026-01-11T16:00:00Z"}], 2)

PAGES: dict[str, tuple[str, str | bytes]] = {
    "/robots.txt": ("text/plain", "User-agent: *\nDisallow: /private/\n"),
    "/feed.xml": ("application/rss+xml", FEED),
    "/a/one.html": (HTML, article_page("A one", published="2026-01-12T08:30:00Z")),
    "/a/two.html": (HTML, article_page("A two")),  # no date on the page: the feed's is used
    "/private/secret.html": (HTML, article_page("Secret")),
    "/listing/": (HTML, LISTING_1),
    "/listing/page-2.html": (HTML, LISTING_2),
    "/listing/page-3.html": (HTML, LISTING_3),
    "/b/one.html": (HTML, article_page("B one")),
    "/b/two.html": (HTML, article_page("B two", canonical="/a/two.html?utm_source=listing")),
    "/b/three.html": (HTML, article_page("B three")),
    "/api/search.json?count=2": ("application/json", API_1),
    "/api/search.json?count=2&start=2": ("application/json", API_2),
    "/c/one": (HTML, article_page("C one", published="2026-01-09T16:00:00Z")),
    "/c/two": (HTML, "<html><head><title>Tiny</title></head><body><p>Too short.</p></body></html>"),
    "/c/three": ("text/html; charset=iso-8859-1", article_page("C three – café").encode("utf-8")),
    "/bad-selector/": (HTML, LISTING_1),
}


def sources(base: str) -> list[Source]:
    return [
        Source(id="feed", name="Feed", kind="feed", url=f"{base}/feed.xml"),
        Source(
            id="listing",
            name="Listing",
            kind="listing",
            url=f"{base}/listing/",
            selectors=ListingSelectors(item="li.item", link="a::attr(href)", next="a[rel=next]::attr(href)"),
        ),
        Source(
            id="api",
            name="API",
            kind="json_api",
            url=f"{base}/api/search.json?count=2",
            selectors=JsonApiSelectors(
                results="results",
                link="link",
                title="title",
                published="public_timestamp",
                summary="description",
            ),
        ),
        Source(id="gone", name="Gone", kind="feed", url=f"{base}/gone/feed.xml"),
        # Its spider's output raises (crawl_fixtures.RaisingSpiderMiddleware), as a bug would.
        Source(
            id="broken",
            name="Broken",
            kind="listing",
            url=f"{base}/bad-selector/",
            selectors=ListingSelectors(item="li.item", link="a::attr(href)"),
        ),
    ]


def crawl_settings(allowed: str = "", **overrides: Any) -> Settings:
    """Crawl settings for these tests; ``allowed``: the fixture site's host:port (the SSRF guard refuses loopback otherwise)."""
    values = {
        "CRAWL_RETRIES": 0,
        "CRAWL_MAX_LISTING_PAGES": 2,
        "CRAWL_TIMEOUT": 20,
        "CRAWL_PROCESS_TIMEOUT": 120,
        "CRAWL_ALLOWED_HOSTS": allowed,
        "CRAWL_LOOKBACK_DAYS": 0,  # fixture stories are dated January 2026
        "CRAWL_RETRY_BACKOFF": 0,
    }
    return Settings(env={}, overrides={**values, **overrides})


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    out = tmp_path_factory.mktemp("crawl") / "articles.jsonl"
    with serve_pages(PAGES) as (base, server):
        extra = {
            "REGWATCH_TEST_JSONL": str(out),
            "SPIDER_MIDDLEWARES": {"crawl_fixtures.RaisingSpiderMiddleware": 100},
            "REGWATCH_TEST_RAISE_SOURCE": "broken",
        }
        stats = run_crawl(sources(base), crawl_settings(base), jsonl_pipelines(), extra)
        yield {
            "base": base,
            "stats": {s.source_id: s for s in stats},
            "order": [s.source_id for s in stats],
            "articles": read_jsonl(out),
            "requested": list(server.requested),
        }


def by_source(crawl: dict[str, Any], source_id: str) -> dict[str, Article]:
    base = crawl["base"]
    return {a.url.removeprefix(base): a for a in crawl["articles"] if a.source_id == source_id}


def test_one_stats_record_per_source_in_order(crawl: dict[str, Any]) -> None:
    assert crawl["order"] == ["feed", "listing", "api", "gone", "broken"]
    assert all(isinstance(s, CrawlStats) for s in crawl["stats"].values())


def test_feed_source_yields_its_articles_with_feed_fallbacks(crawl: dict[str, Any]) -> None:
    articles = by_source(crawl, "feed")

    assert set(articles) == {"/a/one.html", "/a/two.html"}
    two = articles["/a/two.html"]
    assert two.published == datetime(2026, 1, 13, 10, 0, tzinfo=UTC)  # from the feed: the page has none
    assert two.title == "A two"
    assert two.fetch_url == crawl["base"] + "/a/two.html"


def test_feed_source_counts_pages_errors_and_new(crawl: dict[str, Any]) -> None:
    stats = crawl["stats"]["feed"]

    assert stats.pages_fetched == 2  # one and two: the 404 page is an error, not a fetched page
    assert stats.new == 2
    assert stats.errors == 2  # the 404 and the entry without a link
    assert sorted(f.error_class for f in stats.failures) == ["http", "parse"]
    [missing] = [f for f in stats.failures if f.url.endswith("/a/missing.html")]
    assert (missing.error_class, missing.status, missing.reason) == ("http", 404, "HTTP 404")


def test_robots_disallowed_page_is_never_fetched(crawl: dict[str, Any]) -> None:
    assert "/robots.txt" in crawl["requested"]
    assert "/private/secret.html" not in crawl["requested"]
    assert all("/private/" not in a.url for a in crawl["articles"])
    # Counted as robots_blocked (policy, not failure), and reported: no error.
    assert crawl["stats"]["feed"].robots_blocked == 1
    assert not any("/private/" in f.url for f in crawl["stats"]["feed"].failures)


def test_listing_follows_pagination_up_to_the_limit(crawl: dict[str, Any]) -> None:
    articles = by_source(crawl, "listing")

    assert set(articles) == {"/b/one.html", "/a/one.html", "/a/two.html"}  # b/two's canonical is a/two
    assert articles["/b/one.html"].published == datetime(2026, 1, 14, 9, 0, tzinfo=UTC)  # listing <time>
    assert articles["/a/two.html"].fetch_url == crawl["base"] + "/b/two.html"
    assert "/listing/page-2.html" in crawl["requested"]
    assert "/listing/page-3.html" not in crawl["requested"]  # CRAWL_MAX_LISTING_PAGES=2
    assert "/b/three.html" not in crawl["requested"]
    assert crawl["stats"]["listing"].errors == 0
    assert crawl["stats"]["listing"].pages_fetched == 3


def test_json_api_resolves_links_and_pages_by_start(crawl: dict[str, Any]) -> None:
    articles = by_source(crawl, "api")
    stats = crawl["stats"]["api"]

    assert set(articles) == {"/c/one", "/c/three"}
    assert articles["/c/one"].summary == "C one summary"
    assert articles["/c/three"].published == datetime(2026, 1, 11, 16, 0, tzinfo=UTC)
    assert articles["/c/three"].title == "C three – café"  # UTF-8 bytes behind a latin-1 header
    assert "/api/search.json?count=2&start=2" in crawl["requested"]
    assert stats.pages_fetched == 3
    assert stats.errors == 1
    [failure] = stats.failures
    assert (failure.error_class, failure.url) == ("parse", f"{crawl['base']}/c/two")
    assert failure.reason.startswith("body too short")


def test_a_failing_index_records_one_error_with_its_class(crawl: dict[str, Any]) -> None:
    stats = crawl["stats"]["gone"]

    assert (stats.pages_fetched, stats.new, stats.errors) == (0, 0, 1)
    [failure] = stats.failures
    assert (failure.error_class, failure.url, failure.status) == (
        "http",
        f"{crawl['base']}/gone/feed.xml",
        404,
    )
    assert stats.index_failure == failure


def test_a_source_raising_in_its_spider_does_not_stop_the_others(crawl: dict[str, Any]) -> None:
    stats = crawl["stats"]["broken"]

    assert stats.errors == 1 and stats.new == 0
    [failure] = stats.failures
    assert (failure.error_class, failure.url) == ("other", f"{crawl['base']}/bad-selector/")
    assert failure.reason.startswith("RuntimeError: spider bug")
    assert crawl["stats"]["feed"].new == 2  # the others crawled all the same


def test_pipeline_failure_and_page_limit_are_per_source(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    pipelines = {"crawl_fixtures.CrashingPipeline": 700, **jsonl_pipelines()}
    with serve_pages(PAGES) as (base, server):
        feed, listing = sources(base)[:2]
        stats = run_crawl(
            [feed, listing],
            crawl_settings(base, CRAWL_MAX_PAGES=1),
            pipelines,
            {"REGWATCH_TEST_JSONL": str(out), "REGWATCH_TEST_CRASH_SOURCE": "feed"},
        )
        requested = list(server.requested)

    feed_stats, listing_stats = stats
    assert feed_stats.pages_fetched == 1 and feed_stats.new == 0
    assert any(
        (f.error_class, f.url) == ("other", f"{base}/a/one.html")
        and f.reason.startswith("item pipeline failed: RuntimeError")
        for f in feed_stats.failures
    )
    assert (listing_stats.pages_fetched, listing_stats.new, listing_stats.errors) == (1, 1, 0)
    assert [a.source_id for a in read_jsonl(out)] == ["listing"]
    assert "/b/two.html" not in requested and "/a/two.html" not in requested  # beyond CRAWL_MAX_PAGES=1


def test_a_job_record_that_is_not_a_valid_source_fails_alone(tmp_path: Path) -> None:
    """The crawl process rereads each record: one it cannot read is that source's error only."""
    out, job_path, report_path = tmp_path / "out.jsonl", tmp_path / "job.json", tmp_path / "report.json"
    with serve_pages(PAGES) as (base, _):
        feed = sources(base)[0]
        job = _job([feed], crawl_settings(base), jsonl_pipelines(), {"REGWATCH_TEST_JSONL": str(out)})
        job["sources"].insert(0, {**feed.to_dict(), "id": "odd", "selectors": {"nxt": "a"}})
        job_path.write_text(json.dumps(job), encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "crawlers.process", str(job_path), str(report_path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    report = _read_report(report_path)

    assert done.returncode == 0, done.stderr
    assert report["feed"].new == 2
    assert report["odd"].errors == 1 and report["odd"].index_failure == report["odd"].failures[0]
    assert "source 'odd': selectors: unknown key 'nxt'" in report["odd"].failures[0].reason


def test_refused_connection_is_classified(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    source = Source(id="down", name="Down", kind="feed", url=f"http://127.0.0.1:{port}/feed.xml")

    [stats] = run_crawl(
        [source],
        crawl_settings(f"127.0.0.1:{port}", CRAWL_OBEY_ROBOTS=False),
        jsonl_pipelines(),
        {"REGWATCH_TEST_JSONL": str(tmp_path / "out.jsonl")},
    )

    assert stats.errors == 1
    assert (stats.failures[0].error_class, stats.failures[0].url) == ("refused", source.url)


def test_killed_crawl_process_reports_an_error_per_source(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections (kernel backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        srcs = [Source(id=f"slow{i}", name="Slow", kind="feed", url=f"{url}/feed{i}.xml") for i in range(2)]

        result = run_crawl(
            srcs,
            crawl_settings(url, CRAWL_PROCESS_TIMEOUT=3, CRAWL_TIMEOUT=600),
            jsonl_pipelines(),
            {"REGWATCH_TEST_JSONL": str(tmp_path / "out.jsonl")},
        )

    assert [s.source_id for s in result] == ["slow0", "slow1"]
    for stats in result:
        assert stats.errors == 1
        assert stats.failures[0].error_class == "timeout" and stats.index_failure == stats.failures[0]
        assert "CRAWL_PROCESS_TIMEOUT" in stats.failures[0].reason


def test_crashed_crawl_process_reports_an_error_per_source(tmp_path: Path) -> None:
    srcs = [Source(id=i, name=i, kind="feed", url=f"http://127.0.0.1:9/{i}.xml") for i in ("a", "b")]

    result = run_crawl(srcs, crawl_settings(LOG_LEVEL="NOPE"), jsonl_pipelines())  # dies configuring logging

    assert [s.errors for s in result] == [1, 1]
    failure = result[1].failures[0]
    assert (failure.error_class, failure.url) == ("other", "http://127.0.0.1:9/b.xml")
    assert failure.reason.startswith("crawl process exited with status")


def test_crawler_that_cannot_start_reports_an_error_per_source(tmp_path: Path) -> None:
    srcs = [Source(id=i, name=i, kind="feed", url=f"http://127.0.0.1:9/{i}.xml") for i in ("a", "b")]

    result = run_crawl(srcs, crawl_settings(), jsonl_pipelines(), {"TWISTED_REACTOR": "no.such.Reactor"})

    assert [s.errors for s in result] == [1, 1]
    failure = result[0].failures[0]
    assert (failure.error_class, failure.url) == ("other", "http://127.0.0.1:9/a.xml")
    assert failure.reason.startswith("crawl failed: ModuleNotFoundError")


def test_no_sources_means_no_crawl() -> None:
    assert run_crawl([], crawl_settings(), jsonl_pipelines()) == []


def test_stats_helpers_count_under_source_keys_and_cap_messages() -> None:
    from scrapy.statscollectors import MemoryStatsCollector
    from scrapy.utils.test import get_crawler

    stats = MemoryStatsCollector(get_crawler())
    count(stats, "ledger", "new")
    count(stats, "ledger", "new", 2)
    for i in range(25):
        add_error(stats, "ledger", CrawlFailure("http", f"https://ex.org/{i}", "HTTP 404", status=404))
    add_error(stats, "ledger", CrawlFailure("nonsense", "https://ex.org/x", "odd"))  # type: ignore[arg-type]

    assert stat_key("ledger", "new") == "regwatch/ledger/new"
    assert stats.get_value("regwatch/ledger/new") == 3
    result = crawl_stats_from(stats.get_stats(), "ledger")
    assert (result.new, result.errors) == (3, 26)
    assert len(result.failures) == 20
    assert result.failures[0] == CrawlFailure("http", "https://ex.org/0", "HTTP 404", status=404)
    assert CrawlStats.from_dict(json.loads(json.dumps(result.to_dict()))) == result


def test_an_unknown_error_class_is_other_and_an_unknown_counter_is_refused() -> None:
    from scrapy.statscollectors import MemoryStatsCollector
    from scrapy.utils.test import get_crawler

    assert CrawlFailure("nonsense", "https://ex.org/x", "odd").error_class == "other"  # type: ignore[arg-type]
    stats = MemoryStatsCollector(get_crawler())
    with pytest.raises(ValueError, match="not a CrawlStats counter"):
        count(stats, "ledger", "robot_blocked")
    count(stats, "ledger", "robots_blocked")
    assert crawl_stats_from(stats.get_stats(), "ledger").robots_blocked == 1
