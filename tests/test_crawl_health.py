"""Source health: failure classes beyond the HTTP status, the weighted failure score, volume flags.

The unit tests pin the classifiers and the policy; the end-to-end ones crawl a
fault-injection site served here (127.0.0.1 only; DNS failures use a ``.invalid``
host, refused connections a port nobody listens on) through the CLI.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_helpers import Cli
from crawl_fixtures import serve_pages
from ports import refused_port

from crawlers import HealthPolicy, blocked_reason, next_health
from crawlers._health import feed_content_problem
from regwatch.app import App, pipeline
from regwatch.models import CrawlFailure, CrawlStats, SourceHealthState

HTML = "text/html; charset=utf-8"
FILLER = (
    "The regulator said it would examine whether the platform had complied with its duties, and that "
    "it would not hesitate to act if it found that the law had been broken."
)
CLOUDFLARE = (
    "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    "<div id='challenge-platform'>Checking your browser before accessing the site.</div></body></html>"
)
APP_SHELL = (
    '<!doctype html><html><head><title>News</title><script src="/static/main.js"></script></head>'
    '<body><noscript>You need to enable JavaScript to run this app.</noscript><div id="root"></div></body></html>'
)
ARTICLE = (
    f'<html lang="en"><head><title>Fine</title><meta property="og:title" content="Fine"></head>'
    f"<body><article><h1>Fine</h1><p>{FILLER}</p><p>{FILLER}</p></article></body></html>"
)


def recent() -> str:
    return format_datetime(datetime.now(UTC) - timedelta(days=1))


def rss(*links: str, dated: bool = True) -> str:
    date = f"<pubDate>{recent()}</pubDate>" if dated else ""
    items = "".join(
        f"<item><title>T{n}</title><link>{link}</link>{date}</item>" for n, link in enumerate(links)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{items}</channel></rss>'


# --- classifiers ---------------------------------------------------------------


def test_a_cloudflare_challenge_on_200_is_a_bot_wall() -> None:
    assert "bot wall" in blocked_reason(CLOUDFLARE.encode(), HTML)


def test_a_javascript_app_shell_is_blocked_content() -> None:
    assert "app shell" in blocked_reason(APP_SHELL.encode(), HTML)


def test_a_real_article_and_a_feed_are_not_blocked() -> None:
    assert blocked_reason(ARTICLE.encode(), HTML) == ""
    assert blocked_reason(rss("https://example.org/a").encode(), "application/rss+xml") == ""


def test_a_page_that_mentions_javascript_but_has_content_is_not_an_app_shell() -> None:
    page = ARTICLE.replace(
        "<article>", '<div id="root"></div><p>Please enable JavaScript for comments.</p><article>'
    )
    assert blocked_reason(page.encode(), HTML) == ""


def test_html_where_a_feed_should_be_is_not_a_feed() -> None:
    assert feed_content_problem(ARTICLE.encode(), HTML) == "not a feed (Content-Type text/html)"
    assert feed_content_problem(b"<?xml version='1.0'?><rss/>", "text/plain") == ""
    assert feed_content_problem(b"<feed/>", "application/atom+xml; charset=utf-8") == ""


# --- the transition: (previous state, run) -> next state ------------------------------------

NOW = datetime(2026, 1, 20, 7, 0, tzinfo=UTC)
POLICY = HealthPolicy(disable_score=6.0, low_volume_ratio=0.3)
DNS = CrawlFailure("dns", "http://x.invalid/", "index unavailable: cannot resolve host")
TIMEOUT = CrawlFailure("timeout", "http://x/", "index unavailable: took too long")
GONE = CrawlFailure("http", "http://x/", "index unavailable: HTTP 410", status=410)
UNAVAILABLE = CrawlFailure("http", "http://x/", "index unavailable: HTTP 503", status=503)
PAGE_404 = CrawlFailure("http", "http://x/a", "HTTP 404", status=404)


def state(**values: Any) -> SourceHealthState:
    return SourceHealthState("s", **values)


def index_failed(failure: CrawlFailure) -> CrawlStats:
    return CrawlStats("s", errors=1, failures=[failure], index_failure=failure)


DISABLED = state(failure_score=6.0, disabled_at=NOW - timedelta(days=1), disabled_reason="disabled after …")
TRANSITIONS = {
    # A hard failure adds its class's weight and keeps the volume average; a success clears the score.
    "dns failure weighs 2": (state(), index_failed(DNS), state(failure_score=2.0)),
    "timeout weighs 1": (state(failure_score=1.0), index_failed(TIMEOUT), state(failure_score=2.0)),
    "a gone index (410) weighs like dns": (state(), index_failed(GONE), state(failure_score=2.0)),
    "a 503 index weighs 1": (state(), index_failed(UNAVAILABLE), state(failure_score=1.0)),
    "errors and nothing at all is hard": (
        state(avg_items=10.0, runs=4),
        CrawlStats("s", errors=1, failures=[TIMEOUT]),
        state(failure_score=1.0, avg_items=10.0, runs=4),
    ),
    "one bad page among good ones is no hard failure": (
        state(failure_score=5.0),
        CrawlStats("s", pages_fetched=4, new=4, errors=1, items_found=5, failures=[PAGE_404]),
        state(items_found=5, avg_items=5.0, runs=1),
    ),
    # Reaching CRAWL_DISABLE_SCORE turns the source off, once; a success turns it back on.
    "the score reaching the limit disables": (
        state(failure_score=4.0),
        index_failed(DNS),
        state(
            failure_score=6.0,
            disabled_at=NOW,
            disabled_reason="disabled after repeated hard failures (score 6, limit 6); last: " + DNS.message,
        ),
    ),
    "a disabled source failing again stays as it was disabled": (
        DISABLED,
        index_failed(TIMEOUT),
        state(failure_score=7.0, disabled_at=DISABLED.disabled_at, disabled_reason=DISABLED.disabled_reason),
    ),
    "success re-enables": (
        DISABLED,
        CrawlStats("s", pages_fetched=2, new=2, items_found=2, index_latency_ms=40),
        state(items_found=2, avg_items=2.0, runs=1, latency_ms=40),
    ),
    # Volume: a run listing far fewer items than the source's own average is flagged.
    "far below the average is low volume": (
        state(items_found=20, avg_items=20.0, runs=3),
        CrawlStats("s", pages_fetched=2, new=2, items_found=2),
        state(items_found=2, avg_items=14.6, runs=4, low_volume=True),
    ),
    "near the average is not": (
        state(items_found=20, avg_items=20.0, runs=3),
        CrawlStats("s", pages_fetched=2, new=2, items_found=15),
        state(items_found=15, avg_items=18.5, runs=4),
    ),
    "too few runs to judge": (
        state(items_found=20, avg_items=20.0, runs=2),
        CrawlStats("s", items_found=2, not_modified=2),
        state(items_found=2, avg_items=14.6, runs=3),
    ),
    # An index that answered 304 is healthy, and lists what it listed last time.
    "a 304 index keeps items_found and the average": (
        state(failure_score=3.0, items_found=20, avg_items=20.0, runs=5, low_volume=True),
        CrawlStats("s", index_not_modified=1),
        state(items_found=20, avg_items=20.0, runs=5),
    ),
}


@pytest.mark.parametrize(("previous", "run", "expected"), TRANSITIONS.values(), ids=TRANSITIONS.keys())
def test_next_health(previous: SourceHealthState, run: CrawlStats, expected: SourceHealthState) -> None:
    transition = next_health(previous, run, POLICY, NOW)
    assert replace(transition.state, avg_items=_round(transition.state.avg_items)) == expected


def _round(value: float | None) -> float | None:
    return round(value, 6) if value is not None else None


def test_a_disable_score_of_zero_never_disables() -> None:
    transition = next_health(state(failure_score=100.0), index_failed(DNS), HealthPolicy(0, 0.3), NOW)
    assert transition.state.failure_score == 102.0 and not transition.state.disabled


def test_the_hard_failure_and_whether_the_run_failed_are_reported() -> None:
    assert next_health(state(), index_failed(GONE), POLICY, NOW).hard_failure == GONE
    failed_run = next_health(
        state(), CrawlStats("s", items_found=3, errors=1, failures=[PAGE_404]), POLICY, NOW
    )
    assert (failed_run.run_failed, failed_run.hard_failure) == (True, None)  # listed, stored nothing
    unchanged = next_health(
        state(), CrawlStats("s", not_modified=3, errors=1, failures=[PAGE_404]), POLICY, NOW
    )
    assert not unchanged.run_failed  # a 304 page is a page known and unchanged


def test_each_transition_says_what_to_log() -> None:
    def logged(previous: SourceHealthState, run: CrawlStats) -> list[tuple[int, str]]:
        return [(e.level, e.message) for e in next_health(previous, run, POLICY, NOW).events]

    assert logged(state(failure_score=4.0), index_failed(DNS)) == [
        (logging.INFO, f"run failed: {DNS.message}"),
        (logging.ERROR, f"disabled after repeated hard failures (score 6, limit 6); last: {DNS.message}"),
    ]
    assert logged(DISABLED, CrawlStats("s", pages_fetched=1, new=1, items_found=1)) == [
        (logging.INFO, "succeeded again: re-enabled")
    ]
    assert logged(state(avg_items=20.0, runs=3), CrawlStats("s", new=1, items_found=1)) == [
        (logging.WARNING, "listed 1 items, far below its average of 14.3: check its selectors or feed")
    ]
    assert logged(state(), CrawlStats("s", new=1, items_found=1)) == []


# --- end to end ----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _store_engine(store_settings: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test here on each store engine: the App (and the crawl subprocess) read it from the environment."""
    for name, value in store_settings.items():
        monkeypatch.setenv(f"REGWATCH_{name}", value)


@pytest.fixture
def fault_site() -> Iterator[tuple[str, Any]]:
    pages = {
        "/good/feed.xml": ("application/rss+xml", rss("{base}/good/a.html", "{base}/good/b.html")),
        "/good/a.html": (HTML, ARTICLE.replace("Fine", "Good A")),
        "/good/b.html": (HTML, ARTICLE.replace("Fine", "Good B")),
        "/wall/": (HTML, CLOUDFLARE),
        "/shell/": (HTML, APP_SHELL),
        "/redesigned/": (
            HTML,
            "<html><body><div class='card'><a href='/good/a.html'>A</a></div></body></html>",
        ),
        "/htmlfeed/feed.xml": (HTML, ARTICLE),
        "/undated/feed.xml": ("application/rss+xml", rss("{base}/good/a.html", dated=False)),
    }
    with serve_pages(pages) as served:
        yield served


def write_config(home: Path, base: str, extra_settings: dict[str, Any] | None = None) -> Path:
    listing = {"item": "li.news-item", "link": "a::attr(href)"}
    port = refused_port()
    sources = [
        {"id": "good", "kind": "feed", "url": f"{base}/good/feed.xml"},
        {"id": "wall", "kind": "listing", "url": f"{base}/wall/", "selectors": listing},
        {"id": "shell", "kind": "listing", "url": f"{base}/shell/", "selectors": listing},
        {"id": "redesigned", "kind": "listing", "url": f"{base}/redesigned/", "selectors": listing},
        {"id": "htmlfeed", "kind": "feed", "url": f"{base}/htmlfeed/feed.xml"},
        {"id": "undated", "kind": "feed", "url": f"{base}/undated/feed.xml"},
        {"id": "gone", "kind": "feed", "url": f"{base}/gone/feed.xml"},
        {"id": "nodns", "kind": "feed", "url": "http://regwatch-test.invalid/feed.xml"},
        {"id": "refused", "kind": "feed", "url": f"http://127.0.0.1:{port}/feed.xml"},
    ]
    config = home / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "sources": [{"name": s["id"], **s} for s in sources],
                "settings": {
                    "CRAWL_OBEY_ROBOTS": False,
                    "CRAWL_RETRIES": 0,
                    "CRAWL_TIMEOUT": 10,
                    "CRAWL_ALLOWED_HOSTS": f"{base}, 127.0.0.1:{port}",
                }
                | (extra_settings or {}),
            }
        )
    )
    return config


EXPECTED_CLASSES = {
    "wall": "blocked",
    "shell": "blocked",
    "redesigned": "empty",
    "htmlfeed": "empty",
    "undated": "empty",
    "gone": "http",
    "nodns": "dns",
    "refused": "refused",
}


@pytest.mark.slow
def test_each_failing_source_is_recorded_with_its_class_and_the_good_one_lands(
    home: Path, fault_site: Any
) -> None:
    base, _ = fault_site
    cli = Cli(home=home, config=write_config(home, base))
    summary = cli.json("crawl")
    per_source = {s["source_id"]: s for s in summary["per_source"]}
    assert per_source["good"]["new"] == 2 and per_source["good"]["errors"] == 0

    rows = {row["id"]: row for row in cli.json("sources")}
    assert rows["good"]["status"] == "ok"
    assert rows["good"]["items_listed_last_run"] == 2 and rows["good"]["latency_ms"] is not None
    for source_id, error_class in EXPECTED_CLASSES.items():
        row = rows[source_id]
        assert (row["status"], row["last_error_class"]) == ("failing", error_class), row
        assert row["consecutive_failures"] == 1
        assert row["last_error"], row
    assert "app shell" in rows["shell"]["last_error"]
    assert "not a feed" in rows["htmlfeed"]["last_error"]
    assert "none with a date" in rows["undated"]["last_error"]
    text = cli("sources").output
    assert "[dns]" in text and "[blocked]" in text and "[empty]" in text


@pytest.mark.slow
def test_repeated_hard_failures_disable_a_source_until_a_crawl_by_name_succeeds(
    home: Path, fault_site: Any
) -> None:
    base, server = fault_site
    cli = Cli(home=home, config=write_config(home, base, {"CRAWL_DISABLE_SCORE": 2.0}))
    cli.json("crawl", "good", "gone")
    second = cli.json("crawl", "good", "gone")
    assert {s["source_id"] for s in second["per_source"]} == {"good", "gone"}
    rows = {row["id"]: row for row in cli.json("sources")}
    assert rows["gone"]["status"] == "auto-off"
    assert "disabled after repeated hard failures" in rows["gone"]["disabled_reason"]
    assert rows["good"]["status"] == "ok"

    # Naming it retries it, and success brings it back.
    server.set_page("/gone/feed.xml", "application/rss+xml", rss("{base}/good/a.html"))
    cli.json("crawl", "gone")
    assert {row["id"]: row for row in cli.json("sources")}["gone"]["status"] == "ok"


@pytest.mark.slow
def test_an_auto_disabled_source_is_skipped_by_a_full_run(home: Path, fault_site: Any) -> None:
    base, _ = fault_site
    config = write_config(home, base, {"CRAWL_DISABLE_SCORE": 2.0})
    with App.load(home, config) as app:
        for source in app.config.sources:
            if source.id != "good":
                gone = CrawlFailure("dns", source.url, "gone")
                run = CrawlStats(source.id, errors=1, failures=[gone], index_failure=gone)
                pipeline.record_source_run(app, run, datetime.now(UTC), datetime.now(UTC))
                assert app.store.source_states.get(source.id).disabled
        results = pipeline.crawl(app)
    assert [s.source_id for s in results] == ["good"]


def test_the_wiring_logs_each_health_event_once_with_the_source_and_its_url(
    home: Path, fault_site: Any, caplog: pytest.LogCaptureFixture
) -> None:
    base, _ = fault_site
    config = write_config(home, base, {"CRAWL_DISABLE_SCORE": 4.0})
    with App.load(home, config) as app, caplog.at_level(logging.INFO, logger="regwatch.app.pipeline"):
        url = app.config.source("nodns").url
        gone = CrawlFailure("dns", url, "index unavailable: cannot resolve host")
        for _ in range(3):
            run = CrawlStats("nodns", errors=1, failures=[gone], index_failure=gone)
            pipeline.record_source_run(app, run, datetime.now(UTC), datetime.now(UTC))
        state = app.store.source_states.get("nodns")
    disabled = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in disabled] == [f"source=nodns url={url} {state.disabled_reason}"]
    assert state.failure_score == 6.0 and "(score 4, limit 4)" in state.disabled_reason


def test_a_low_volume_run_shows_in_sources(home: Path, fault_site: Any) -> None:
    base, _ = fault_site
    cli = Cli(home=home, config=write_config(home, base))
    with App.load(home, home / "config.yaml") as app:
        for run in [CrawlStats("good", items_found=20, not_modified=20)] * 3 + [
            CrawlStats("good", items_found=1, pages_fetched=1, new=1)
        ]:
            pipeline.record_source_run(app, run, datetime.now(UTC), datetime.now(UTC))
    row = {row["id"]: row for row in cli.json("sources")}["good"]
    assert row["status"] == "low-volume" and row["low_volume"]
    assert "low volume: 1 listed" in cli("sources").output


@pytest.mark.slow
def test_probe_reports_every_enabled_source_and_stores_nothing(home: Path, fault_site: Any) -> None:
    base, server = fault_site
    cli = Cli(home=home, config=write_config(home, base))
    rows = {row["id"]: row for row in cli.json("sources", "--probe")}
    assert rows["good"]["status"] == "ok" and rows["good"]["items_listed"] == 2
    for source_id, error_class in EXPECTED_CLASSES.items():
        assert (rows[source_id]["status"], rows[source_id]["error_class"]) == ("failing", error_class)
    assert not [path for path in server.requested if path.startswith("/good/") and path.endswith(".html")]
    with App.load(home, home / "config.yaml") as app:
        assert app.store.articles.count() == 0


@pytest.mark.slow
def test_a_304_index_stays_healthy_while_broken_indexes_keep_their_class(home: Path, fault_site: Any) -> None:
    base, server = fault_site
    server.etags = True  # every page, broken ones included, sends an ETag and answers 304 when unchanged
    cli = Cli(home=home, config=write_config(home, base))
    for _ in range(3):
        summary = cli.json("crawl", "good", "redesigned", "htmlfeed", "wall")
    per_source = {s["source_id"]: s for s in summary["per_source"]}
    assert per_source["good"]["index_not_modified"] == 1 and per_source["good"]["errors"] == 0
    feed_asks = [h for path, h in server.request_headers if path == "/good/feed.xml"]
    assert [bool(h.get("If-None-Match")) for h in feed_asks] == [False, True, True]
    # A broken index is never remembered, so it is never excused by a 304: read and judged each run.
    for source_id in ("redesigned", "htmlfeed", "wall"):
        assert per_source[source_id]["index_not_modified"] == 0
        assert not any(h.get("If-None-Match") for path, h in server.request_headers if source_id in path)

    rows = {row["id"]: row for row in cli.json("sources")}
    good = rows["good"]
    assert (good["status"], good["last_error"], good["consecutive_failures"]) == ("ok", "", 0)
    assert good["items_listed_last_run"] == 2 and not good["low_volume"]
    for source_id in ("redesigned", "htmlfeed", "wall"):
        assert (rows[source_id]["status"], rows[source_id]["last_error_class"]) == (
            "failing",
            EXPECTED_CLASSES[source_id],
        )
        assert rows[source_id]["consecutive_failures"] == 3

    # A probe checks the source as it is now: no conditional GET, so it sees what the feed lists.
    server.request_headers.clear()
    probed = {row["id"]: row for row in cli.json("sources", "--probe")}
    assert probed["good"]["items_listed"] == 2
    assert not any(h.get("If-None-Match") for _, h in server.request_headers)


def test_an_article_about_captchas_is_not_a_bot_wall() -> None:
    long_text = " ".join([FILLER] * 12)
    page = f"<html><head><title>Are you a robot? Why CAPTCHAs are failing</title></head><body><article><p>{long_text}</p></article></body></html>"
    assert blocked_reason(page.encode(), HTML) == ""


@pytest.mark.slow
def test_pages_robots_txt_disallows_are_reported_by_the_run_summary_and_sources(home: Path) -> None:
    pages = {
        "/robots.txt": ("text/plain", "User-agent: *\nDisallow: /private/\n"),
        "/feed.xml": ("application/rss+xml", rss("{base}/a.html", "{base}/private/b.html")),
        "/a.html": (HTML, ARTICLE),
        "/private/b.html": (HTML, ARTICLE.replace("Fine", "Embargoed")),
    }
    with serve_pages(pages) as (base, server):
        config = home / "config.yaml"
        source = {"id": "polite", "name": "Polite", "kind": "feed", "url": f"{base}/feed.xml"}
        config.write_text(yaml.safe_dump({"sources": [source], "settings": {"CRAWL_ALLOWED_HOSTS": base}}))
        cli = Cli(home=home, config=config)
        summary = cli.json("crawl")
        text = cli("crawl").output
    assert "/private/b.html" not in server.requested
    assert (summary["robots_blocked"], summary["new"], summary["errors"]) == (1, 1, 0)
    assert summary["per_source"][0]["robots_blocked"] == 1
    assert "robots.txt:        1 page(s) disallowed, not fetched" in text

    [row] = cli.json("sources")
    assert (row["status"], row["robots_blocked"], row["last_error"]) == ("ok", 1, "")
    header, line = cli("sources").output.splitlines()
    column = header.index("ROBOTS")
    assert line[column : column + len("ROBOTS")].strip() == "1"
