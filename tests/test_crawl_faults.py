"""Bad input never stops a run: a fault-injection site served on 127.0.0.1, one crawl, every fault.

Each faulty source or page is recorded against its source with a clear class
and reason, and every good source and article still lands. The SSRF guard is
tested with 127.0.0.2 and a ``file:`` redirect only: nothing here leaves this
machine, and 127.0.0.2 is never connected to (the guard refuses it first).
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
import yaml
from cli_helpers import Cli
from crawl_fixtures import serve_pages

pytestmark = pytest.mark.slow

HTML = "text/html; charset=utf-8"
MAX_BYTES = 200_000
FILLER = (
    "The regulator said it would examine whether the platform had complied with its duties, and that "
    "it would not hesitate to act if it found that the law had been broken."
)


def article(title: str) -> str:
    return (
        f'<html lang="en"><head><title>{title}</title><meta property="og:title" content="{title}"></head>'
        f"<body><article><h1>{title}</h1><p>{FILLER}</p><p>{FILLER}</p></article></body></html>"
    )


def rss(*paths: str) -> str:
    date = format_datetime(datetime.now(UTC) - timedelta(days=1))
    items = "".join(
        f"<item><title>{p}</title><link>{{base}}{p}</link><pubDate>{date}</pubDate></item>" for p in paths
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{items}</channel></rss>'


def send(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    headers: dict[str, str] | None = None,
    content_length: bool = True,
) -> None:
    handler.send_response(status)
    for name, value in {"Content-Type": HTML, **(headers or {})}.items():
        handler.send_header(name, value)
    if content_length:
        handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def redirect(location: str) -> Callable[[BaseHTTPRequestHandler], None]:
    return lambda h: send(h, 302, b"", {"Location": location.replace("{base}", h.server.base_url)})  # type: ignore[attr-defined]


class Faults:
    """The fault handlers; ``release`` lets the hanging one go at teardown."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.times: dict[str, list[float]] = {}

    def stamp(self, handler: BaseHTTPRequestHandler) -> int:
        self.times.setdefault(handler.path, []).append(time.monotonic())
        return len(self.times[handler.path])

    def hang(self, handler: BaseHTTPRequestHandler) -> None:
        self.release.wait(30)  # longer than CRAWL_TIMEOUT: the crawler gives up first

    def unavailable(self, handler: BaseHTTPRequestHandler) -> None:
        send(handler, 503, b"<html><body>Down for maintenance</body></html>", {"Retry-After": "0"})

    def rate_limited_once(self, handler: BaseHTTPRequestHandler) -> None:
        if self.stamp(handler) == 1:
            send(handler, 429, b"slow down", {"Retry-After": "1"})
        else:
            send(handler, 200, article("Rate limited then served").encode())

    def malformed_feed(self, handler: BaseHTTPRequestHandler) -> None:
        send(
            handler,
            200,
            b"\x00\x01 this is not < xml at all \xff\xfe",
            {"Content-Type": "application/rss+xml"},
        )

    def wrong_charset(self, handler: BaseHTTPRequestHandler) -> None:
        body = article("Coimisi\u00fan na Me\u00e1n fines \u2018platform\u2019").encode("utf-8")
        send(handler, 200, body, {"Content-Type": "text/html; charset=iso-8859-1"})

    def truncated_gzip(self, handler: BaseHTTPRequestHandler) -> None:
        body = gzip.compress(article("Truncated gzip").encode() * 20)
        send(handler, 200, body[: len(body) // 3], {"Content-Encoding": "gzip"})

    def gzip_bomb(self, handler: BaseHTTPRequestHandler) -> None:
        body = gzip.compress(b"<html><body>" + b"0" * (MAX_BYTES * 40) + b"</body></html>")
        send(handler, 200, body, {"Content-Encoding": "gzip"})

    def huge_page(self, handler: BaseHTTPRequestHandler) -> None:
        send(handler, 200, article("Huge " + "word " * MAX_BYTES).encode())

    def huge_page_unannounced(self, handler: BaseHTTPRequestHandler) -> None:
        send(handler, 200, article("Huge " + "word " * MAX_BYTES).encode(), content_length=False)
        handler.close_connection = True


@pytest.fixture(scope="module")
def faults() -> Faults:
    return Faults()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, faults: Faults) -> Iterator[dict[str, Any]]:
    pages: dict[str, tuple[str, str | bytes]] = {
        "/good/feed.xml": ("application/rss+xml", rss("/good/a.html", "/good/b.html")),
        "/good/a.html": (HTML, article("Good A")),
        "/good/b.html": (HTML, article("Good B")),
        "/mixed/feed.xml": (
            "application/rss+xml",
            rss(
                "/mixed/ok.html",
                "/mixed/hang.html",
                "/mixed/503.html",
                "/mixed/429.html",
                "/mixed/charset.html",
                "/mixed/truncated.html",
                "/mixed/bomb.html",
                "/mixed/huge.html",
                "/mixed/huge-unannounced.html",
                "/mixed/loop.html",
                "/mixed/to-private.html",
                "/mixed/to-file.html",
            ),
        ),
        "/mixed/ok.html": (HTML, article("Mixed OK")),
    }
    home = tmp_path_factory.mktemp("faults")
    with serve_pages(pages) as (base, server):
        server.faults.update(
            {
                "/mixed/hang.html": faults.hang,
                "/mixed/503.html": faults.unavailable,
                "/mixed/429.html": faults.rate_limited_once,
                "/mixed/charset.html": faults.wrong_charset,
                "/mixed/truncated.html": faults.truncated_gzip,
                "/mixed/bomb.html": faults.gzip_bomb,
                "/mixed/huge.html": faults.huge_page,
                "/mixed/huge-unannounced.html": faults.huge_page_unannounced,
                "/mixed/loop.html": redirect("{base}/mixed/loop-2.html"),
                "/mixed/loop-2.html": redirect("{base}/mixed/loop.html"),
                "/mixed/to-private.html": redirect(f"http://127.0.0.2:{server.server_address[1]}/secret"),
                "/mixed/to-file.html": redirect("file:///etc/passwd"),
                "/malformed/feed.xml": faults.malformed_feed,
                "/down/feed.xml": faults.unavailable,
                "/slow/feed.xml": faults.hang,
            }
        )
        sources = {
            "good": f"{base}/good/feed.xml",
            "mixed": f"{base}/mixed/feed.xml",
            "malformed": f"{base}/malformed/feed.xml",
            "down": f"{base}/down/feed.xml",
            "slow": f"{base}/slow/feed.xml",
            "private": f"http://127.0.0.2:{server.server_address[1]}/feed.xml",
        }
        config = home / "config.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "sources": [{"id": k, "name": k, "kind": "feed", "url": v} for k, v in sources.items()],
                    "settings": {
                        "CRAWL_OBEY_ROBOTS": False,
                        "CRAWL_ALLOWED_HOSTS": base,
                        "CRAWL_TIMEOUT": 2,
                        "CRAWL_RETRIES": 1,
                        "CRAWL_RETRY_BACKOFF": 0,
                        "CRAWL_MAX_BYTES": MAX_BYTES,
                        "CRAWL_CONTACT": "ops@example.org",
                    },
                }
            )
        )
        try:
            summary = Cli(home=home, config=config).json("crawl")
            yield {
                "summary": summary,
                "stats": {s["source_id"]: s for s in summary["per_source"]},
                "home": home,
                "config": config,
                "server": server,
            }
        finally:
            faults.release.set()


def failures(run: dict[str, Any], source_id: str) -> list[dict[str, Any]]:
    """A source's failures as `regwatch crawl --json` gives them: {error_class, url, reason, status}."""
    return list(run["stats"][source_id]["failures"])


def failure_for(run: dict[str, Any], source_id: str, fragment: str) -> dict[str, Any]:
    found = [f for f in failures(run, source_id) if fragment in f["url"]]
    assert found, f"no error for {fragment}: {failures(run, source_id)}"
    return found[0]


def test_the_good_source_lands_whatever_the_others_do(run: dict[str, Any]) -> None:
    good = run["stats"]["good"]
    assert (good["new"], good["errors"]) == (2, 0)


def test_good_articles_of_a_faulty_source_still_land(run: dict[str, Any]) -> None:
    mixed = run["stats"]["mixed"]
    # ok, the 429 retried after its Retry-After, and the page with the wrong charset
    assert mixed["new"] == 3, failures(run, "mixed")


@pytest.mark.parametrize(
    ("path", "error_class", "reason"),
    [
        ("/mixed/hang.html", "timeout", ""),
        ("/mixed/503.html", "http", "HTTP 503"),
        ("/mixed/bomb.html", "too_large", "CRAWL_MAX_BYTES"),
        ("/mixed/huge.html", "too_large", "CRAWL_MAX_BYTES"),
        ("/mixed/huge-unannounced.html", "too_large", "CRAWL_MAX_BYTES"),
        ("/mixed/loop.html", "http", "redirect"),
        ("/mixed/to-private.html", "blocked", "SSRF guard"),
        ("/mixed/to-file.html", "http", "redirect to file:///etc/passwd not followed"),
    ],
)
def test_each_bad_page_is_recorded_with_its_class_and_reason(
    run: dict[str, Any], path: str, error_class: str, reason: str
) -> None:
    failure = failure_for(run, "mixed", path)
    assert failure["error_class"] == error_class, failure
    assert reason in failure["reason"]


def test_responses_dropped_by_the_size_limit_are_counted(run: dict[str, Any]) -> None:
    assert run["stats"]["mixed"]["too_large"] == 3


def test_a_retry_after_is_honoured_before_the_retry(faults: Faults, run: dict[str, Any]) -> None:
    first, second = faults.times["/mixed/429.html"]
    assert second - first >= 1.0  # the server asked for one second


def test_the_ssrf_guard_never_connects_to_a_refused_address(run: dict[str, Any]) -> None:
    assert "/secret" not in run["server"].requested
    failure = failure_for(run, "private", "127.0.0.2")
    assert failure["error_class"] == "blocked" and "CRAWL_ALLOWED_HOSTS" in failure["reason"], failure


@pytest.mark.parametrize(
    ("source_id", "error_class"),
    [
        ("malformed", ("parse", "empty")),
        ("down", ("http",)),
        ("slow", ("timeout",)),
        ("private", ("blocked",)),
    ],
)
def test_a_failing_index_is_a_hard_failure_of_its_source(
    run: dict[str, Any], source_id: str, error_class: tuple[str, ...]
) -> None:
    stats = run["stats"][source_id]
    assert stats["index_failure"]["error_class"] in error_class, stats
    rows = {row["id"]: row for row in Cli(home=run["home"], config=run["config"]).json("sources")}
    assert rows[source_id]["status"] == "failing"
    assert rows[source_id]["last_error_class"] in error_class


def test_requests_carry_the_user_agent_with_its_contact(run: dict[str, Any]) -> None:
    agents = {headers.get("User-Agent", "") for _, headers in run["server"].request_headers}
    assert agents and all("regwatch/" in a and "contact: ops@example.org" in a for a in agents)


def test_a_page_served_with_the_wrong_charset_still_reads_right(run: dict[str, Any]) -> None:
    result = Cli(home=run["home"], config=run["config"]).json("search", "Coimisiún")
    titles = [hit["title"] for hit in result["hits"]]
    assert any("Coimisiún na Meán" in t for t in titles), titles


def test_the_truncated_gzip_page_is_fetched_once_and_recorded_as_a_parse_error(run: dict[str, Any]) -> None:
    # Scrapy inflates what the cut stream holds: too little to be an article, so extraction refuses it.
    assert run["server"].requested.count("/mixed/truncated.html") == 1
    failure = failure_for(run, "mixed", "/mixed/truncated.html")
    assert failure["error_class"] == "parse" and "body too short" in failure["reason"], failure
    titles = [
        hit["title"]
        for hit in Cli(home=run["home"], config=run["config"]).json("search", "Truncated")["hits"]
    ]
    assert "Truncated gzip" not in titles  # and the run went on: see the other sources' tests
