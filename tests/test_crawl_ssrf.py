"""The SSRF guard end to end: real crawls, and a local service on 127.0.0.1 that counts its hits.

The fixture site (server A) is allowed for its source by host:port. Server B,
on the same address but another port, stands for what a crawl must never
reach (a search cluster on 9200): every test asserts it got no request at all.
Two tests give the crawl process a system resolver whose answer changes
(``tests/data/fake_dns``), as a flaky or hostile DNS server does.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from crawl_fixtures import jsonl_pipelines, read_jsonl, serve_pages

from crawlers import run_crawl
from regwatch.models import CrawlFailure, CrawlStats, Source
from regwatch.settings import Settings

FAKE_DNS = Path(__file__).parent / "data" / "fake_dns"


def feed(*links: str) -> tuple[str, str]:
    items = "".join(
        f"<item><title>Item {n}</title><link>{link}</link><pubDate>Mon, 12 Jan 2026 09:00:00 GMT</pubDate></item>"
        for n, link in enumerate(links)
    )
    return (
        "application/rss+xml",
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{items}</channel></rss>',
    )


def article(title: str) -> tuple[str, str]:
    body = "The regulator published its decision on the platform today. " * 4
    return (
        "text/html; charset=utf-8",
        f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1><p>{body}</p></article></body></html>",
    )


def redirect(location: str) -> Any:
    def answer(handler: Any) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


@pytest.fixture
def service() -> Iterator[tuple[str, Any]]:
    """Server B: a local service no source is allowed to reach; ``requested`` records every hit."""
    with serve_pages({"/secret.html": article("Secret"), "/secret-2.html": article("Secret 2")}) as served:
        yield served


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Give the crawl processes started from now on the resolver plan ``plan`` (see the module docstring)."""

    def install(plan: dict[str, list[str]]) -> None:
        monkeypatch.setenv(
            "PYTHONPATH", os.pathsep.join(p for p in (str(FAKE_DNS), os.environ.get("PYTHONPATH")) if p)
        )
        monkeypatch.setenv("REGWATCH_TEST_DNS_PLAN", json.dumps(plan))

    return install


def crawl(
    sources: list[Source], tmp_path: Path, extra: dict[str, Any] | None = None, **settings: Any
) -> tuple[dict[str, CrawlStats], list[str]]:
    """Crawl ``sources``; (stats by source id, titles of the articles stored)."""
    values = {
        "CRAWL_OBEY_ROBOTS": False,
        "CRAWL_RETRIES": 0,
        "CRAWL_RETRY_BACKOFF": 0,
        "CRAWL_TIMEOUT": 10,
        "CRAWL_LOOKBACK_DAYS": 0,
        "CRAWL_EXTRACT_WORKERS": 0,
        **settings,
    }
    out = tmp_path / "articles.jsonl"
    stats = run_crawl(
        sources,
        Settings(env={}, overrides=values),
        jsonl_pipelines(),
        {"REGWATCH_TEST_JSONL": str(out), **(extra or {})},
    )
    return {s.source_id: s for s in stats}, [a.title for a in read_jsonl(out)]


def error_for(stats: CrawlStats, fragment: str) -> CrawlFailure:
    found = [f for f in stats.failures if fragment in f.url]
    assert found, f"no error for {fragment}: {stats.failures}"
    return found[0]


@pytest.mark.parametrize("allowed_by", ["the source's allowed_hosts", "CRAWL_ALLOWED_HOSTS"])
def test_a_source_allowed_one_local_port_cannot_reach_another_by_link_or_redirect(
    tmp_path: Path, service: tuple[str, Any], allowed_by: str
) -> None:
    service_base, service_server = service
    pages = {
        "/feed.xml": feed("{base}/ok.html", f"{service_base}/secret.html", "{base}/jump.html"),
        "/ok.html": article("Allowed page"),
    }
    with serve_pages(pages) as (base, site):
        site.faults["/jump.html"] = redirect(f"{service_base}/secret-2.html")
        host_port = base.removeprefix("http://")
        if allowed_by == "CRAWL_ALLOWED_HOSTS":
            source = Source(id="local", name="Local", kind="feed", url=f"{base}/feed.xml")
            stats, titles = crawl([source], tmp_path, CRAWL_ALLOWED_HOSTS=host_port)
        else:
            source = Source(
                id="local", name="Local", kind="feed", url=f"{base}/feed.xml", allowed_hosts=[host_port]
            )
            stats, titles = crawl([source], tmp_path)

    assert service_server.requested == []
    assert titles == ["Allowed page"]
    service_host_port = service_base.removeprefix("http://")
    for path in ("/secret.html", "/jump.html"):
        failure = error_for(stats["local"], path)
        assert failure.error_class == "blocked", failure
        assert "SSRF guard" in failure.reason and service_host_port in failure.reason, failure


def test_one_sources_allowed_host_is_not_open_to_another_source(
    tmp_path: Path, service: tuple[str, Any]
) -> None:
    service_base, service_server = service
    with serve_pages({"/feed.xml": feed(f"{service_base}/secret.html")}) as (base, _):
        linker = Source(id="linker", name="Linker", kind="feed", url=f"{base}/feed.xml", allowed_hosts=[base])
        owner = Source(  # the one source that may reach the service
            id="owner",
            name="Owner",
            kind="feed",
            url=f"{service_base}/nothing.xml",
            allowed_hosts=[service_base],
        )
        stats, _ = crawl([linker, owner], tmp_path)

    assert service_server.requested == ["/nothing.xml"]  # the owner's request, not the linker's
    assert error_for(stats["linker"], "/secret.html").error_class == "blocked"
    assert error_for(stats["owner"], "/nothing.xml").status == 404  # reached, and answered 404


def test_a_name_that_fails_to_resolve_then_answers_loopback_is_never_connected(
    tmp_path: Path, service: tuple[str, Any], fake_dns: Any
) -> None:
    service_base, service_server = service
    port = service_base.rsplit(":", 1)[1]
    fake_dns({"flaky.regwatch.test": ["fail", "127.0.0.1"]})
    pages = {
        "/feed.xml": feed("{base}/ok.html", f"http://flaky.regwatch.test:{port}/secret.html"),
        "/ok.html": article("Fine"),
    }
    with serve_pages(pages) as (base, _):
        source = Source(id="local", name="Local", kind="feed", url=f"{base}/feed.xml", allowed_hosts=[base])
        stats, titles = crawl([source], tmp_path, CRAWL_RETRIES=1)

    assert service_server.requested == []
    assert titles == ["Fine"]
    failure = error_for(stats["local"], "flaky.regwatch.test")
    assert failure.error_class in ("blocked", "dns"), failure


def test_a_name_that_rebinds_to_loopback_after_the_check_is_refused_when_connecting(
    tmp_path: Path, service: tuple[str, Any], fake_dns: Any
) -> None:
    service_base, service_server = service
    port = service_base.rsplit(":", 1)[1]
    # Public when the middleware looks, loopback when the downloader connects (no DNS cache between).
    fake_dns({"rebind.regwatch.test": ["93.184.215.14", "127.0.0.1"]})
    pages = {"/feed.xml": feed(f"http://rebind.regwatch.test:{port}/secret.html")}
    with serve_pages(pages) as (base, _):
        source = Source(id="local", name="Local", kind="feed", url=f"{base}/feed.xml", allowed_hosts=[base])
        stats, _ = crawl([source], tmp_path, extra={"DNSCACHE_ENABLED": False})

    assert service_server.requested == []
    failure = error_for(stats["local"], "rebind.regwatch.test")
    assert failure.error_class == "blocked" and "when connecting" in failure.reason, failure
