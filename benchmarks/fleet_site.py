"""A local news site of many domains and sources, which counts what a fleet of workers does to it.

Used by the scale-out fault test and ``make bench-scale``. Each domain is a server of
its own on a loopback address of its own (``127.0.0.2``, ``127.0.0.3``…: Linux answers
the whole of 127.0.0.0/8), because Scrapy, and regwatch's fleet politeness, key a
domain by host name, not by port. Each source is one RSS feed listing its articles;
article pages come from :func:`benchmarks.bench_crawl.article_page`, so every one tells its
own story and extracts as an article.

Per domain the site records each request (path, start and end times) and the most
requests it ever had in flight at once, so a test can check that no domain saw more
concurrent requests than its limit and that no feed was crawled by two workers at once.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from benchmarks.bench_crawl import article_page


@dataclass(frozen=True)
class Hit:
    """One request the site answered: its path and when it started and ended (``time.monotonic``)."""

    path: str
    started: float
    ended: float


@dataclass
class DomainCounter:
    """What one domain saw: every request, and the most requests in flight at once."""

    in_flight: int = 0
    max_in_flight: int = 0
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def enter(self) -> float:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        return time.monotonic()

    def leave(self, path: str, started: float) -> None:
        with self.lock:
            self.in_flight -= 1
            self.hits.append(Hit(path, started, time.monotonic()))


class _Handler(BaseHTTPRequestHandler):
    server: _DomainServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:
        counter = self.server.counter
        started = counter.enter()
        try:
            if self.server.delay:
                time.sleep(self.server.delay)  # a real site's latency: requests overlap if allowed to
            found = self.server.pages.get(self.path.split("?", 1)[0])
            if found is None:
                self.send_error(404)
                return
            content_type, body = found
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        finally:
            counter.leave(self.path, started)


class _DomainServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, host: str, delay: float) -> None:
        super().__init__((host, 0), _Handler)
        self.delay = delay
        self.counter = DomainCounter()
        self.pages: dict[str, tuple[str, bytes]] = {}

    @property
    def base(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class FleetSite:
    """``domains`` servers, ``sources`` feeds spread over them, ``articles`` articles per feed.

    Use as a context manager: the servers run in daemon threads until it exits.
    """

    def __init__(self, domains: int, sources: int, articles: int, delay: float = 0.02) -> None:
        if not 1 <= domains <= 250:
            raise ValueError("domains must be 1 to 250 (one loopback address each, from 127.0.0.2)")
        self.servers = [_DomainServer(f"127.0.0.{2 + d}", delay) for d in range(domains)]
        self.feeds: dict[str, str] = {}  # source id -> feed URL
        published = format_datetime(datetime.now(UTC) - timedelta(hours=6))
        article_number = 0
        for s in range(sources):
            server = self.servers[s % domains]
            source_id = f"fleet-{s:04d}"
            items = []
            for _ in range(articles):
                path = f"/{source_id}/{article_number}.html"
                server.pages[path] = ("text/html; charset=utf-8", article_page(article_number))
                items.append(
                    f"<item><title>Story {article_number}</title><link>{server.base}{path}</link>"
                    f"<pubDate>{published}</pubDate></item>"
                )
                article_number += 1
            feed = (
                f'<?xml version="1.0"?><rss version="2.0"><channel><title>{source_id}</title>'
                f"{''.join(items)}</channel></rss>"
            )
            server.pages[f"/{source_id}/feed.xml"] = ("application/rss+xml", feed.encode())
            self.feeds[source_id] = f"{server.base}/{source_id}/feed.xml"
        self.article_count = article_number
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> FleetSite:
        for server in self.servers:
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()

    # -- what a config needs ---------------------------------------------------

    def sources(self) -> list[dict[str, Any]]:
        """The site's sources as config records (feed sources, the English news type)."""
        return [
            {"id": source_id, "name": source_id, "kind": "feed", "url": url, "type": "news"}
            for source_id, url in self.feeds.items()
        ]

    def allowed_hosts(self) -> str:
        """``CRAWL_ALLOWED_HOSTS`` for the site: each domain's host:port (loopback is private)."""
        return ", ".join(server.base.removeprefix("http://") for server in self.servers)

    # -- what it saw -----------------------------------------------------------

    def max_in_flight(self) -> dict[str, int]:
        """The most requests each domain had in flight at once, by host."""
        return {str(server.server_address[0]): server.counter.max_in_flight for server in self.servers}

    def reset_counts(self) -> None:
        """Forget what the domains saw so far (a benchmark's next run counts afresh)."""
        for server in self.servers:
            with server.counter.lock:
                server.counter.max_in_flight = server.counter.in_flight
                server.counter.hits.clear()

    def hits(self) -> list[Hit]:
        return [hit for server in self.servers for hit in server.counter.hits]

    def feed_fetches(self) -> dict[str, list[Hit]]:
        """Each source's feed requests, by source id, in the order they started."""
        fetched: dict[str, list[Hit]] = {source_id: [] for source_id in self.feeds}
        for hit in sorted(self.hits(), key=lambda h: h.started):
            if hit.path.endswith("/feed.xml"):
                fetched[hit.path.strip("/").split("/")[0]].append(hit)
        return fetched
