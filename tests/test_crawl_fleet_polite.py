"""Per-domain politeness: one limit and one Retry-After for every crawl on a PostgreSQL store, and for
every source of one crawl process without one.

The pacer's rules are pinned on the real server; then two real crawl processes
(``run_crawl``, one thread each) crawl one fixture site on 127.0.0.1 whose
handler counts the requests in flight and records when each started.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

import crawlers._fleet
from crawlers import run_crawl
from crawlers._fleet import FleetPolitenessMiddleware
from crawlers._local_pacer import LocalDomainPacer
from indexer import domain_pacer
from regwatch.app.pipeline import DOMAIN_PACER, DOMAIN_PACER_SETTING, STORE_URL_SETTING
from regwatch.models import DomainPacer, Source
from regwatch.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture
def pacer(pg_url: str) -> Iterator[DomainPacer]:
    opened = domain_pacer(pg_url)
    try:
        yield opened
    finally:
        opened.close()


# --- the pacer's rules -------------------------------------------------------------------------


def test_a_domain_grants_as_many_slots_as_its_concurrency_and_one_more_when_one_is_given_back(
    pacer: DomainPacer,
) -> None:
    claim = lambda holder: pacer.claim("example.org", holder, concurrency=2, delay=0, lease=60)  # noqa: E731
    first, second, third = claim("a #1"), claim("b #1"), claim("a #2")
    assert {first.slot, second.slot} == {0, 1}
    assert third.slot is None and third.reason == "busy" and 0 < third.wait <= 0.2
    assert pacer.claim("other.example", "a #3", concurrency=2, delay=0, lease=60).slot == 0  # domains apart
    pacer.release("example.org", 1, "a #1" if first.slot == 1 else "b #1")
    assert claim("a #2").slot == 1


def test_a_release_by_a_holder_whose_lease_ran_out_frees_nothing(pacer: DomainPacer) -> None:
    assert pacer.claim("example.org", "dead #1", concurrency=1, delay=0, lease=0.05).slot == 0
    deadline = time.monotonic() + 30
    while (turn := pacer.claim("example.org", "live #1", concurrency=1, delay=0, lease=60)).slot is None:
        assert time.monotonic() < deadline, "an expired lease never freed its slot"
        time.sleep(turn.wait)
    pacer.release("example.org", 0, "dead #1")  # too late: the slot is live's now
    assert pacer.claim("example.org", "third #1", concurrency=1, delay=0, lease=60).reason == "busy"


def test_the_delay_holds_between_any_two_requests_to_a_domain(pacer: DomainPacer) -> None:
    assert pacer.claim("example.org", "a #1", concurrency=5, delay=30, lease=60).slot == 0
    turn = pacer.claim("example.org", "b #1", concurrency=5, delay=30, lease=60)
    assert turn.slot is None and turn.reason == "delay" and 25 < turn.wait <= 30


def test_a_backoff_holds_every_claim_and_a_shorter_one_never_shortens_it(pacer: DomainPacer) -> None:
    pacer.back_off("example.org", 60, "HTTP 429 https://example.org/x")
    pacer.back_off("example.org", 1, "HTTP 503 https://example.org/y")
    turn = pacer.claim("example.org", "a #1", concurrency=1, delay=0, lease=60)
    assert turn.slot is None and turn.reason == "backoff" and 55 < turn.wait <= 60
    assert pacer.claim("other.example", "a #2", concurrency=1, delay=0, lease=60).slot == 0


def test_without_a_shared_store_every_source_of_a_process_shares_one_local_pacer_said_once(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(crawlers._fleet, "_said", set())
    sqlite_crawl = {"REGWATCH_DB_PATH": "/x/regwatch.db"}
    with caplog.at_level(logging.INFO, logger="crawlers._fleet"):
        made = [  # two sources' crawlers in one crawl process
            FleetPolitenessMiddleware.from_crawler(get_crawler(settings_dict=sqlite_crawl)) for _ in range(2)
        ]
    assert made[0].pacer is made[1].pacer and isinstance(made[0].pacer, LocalDomainPacer)
    said = [m for m in caplog.messages if m.startswith("politeness: ")]
    assert len(said) == 1 and said[0].endswith("for every source this crawl process fetches")
    with pytest.raises(NotConfigured, match=DOMAIN_PACER_SETTING):
        FleetPolitenessMiddleware.from_crawler(
            get_crawler(settings_dict={STORE_URL_SETTING: "postgresql://u@127.0.0.1:9/x"})
        )


def test_the_local_pacer_keeps_the_same_rules() -> None:
    local = LocalDomainPacer()
    assert local.claim("example.org", "a #1", concurrency=1, delay=0, lease=60).slot == 0
    busy = local.claim("example.org", "a #2", concurrency=1, delay=0, lease=60)
    assert busy.slot is None and busy.reason == "busy"
    local.release("example.org", 0, "someone else")  # not the holder: nothing freed
    assert local.claim("example.org", "a #2", concurrency=1, delay=0, lease=60).slot is None
    local.release("example.org", 0, "a #1")
    assert local.claim("example.org", "a #2", concurrency=1, delay=30, lease=60).slot == 0
    local.release("example.org", 0, "a #2")
    delayed = local.claim("example.org", "a #3", concurrency=1, delay=30, lease=60)
    assert delayed.reason == "delay" and 25 < delayed.wait <= 30
    local.back_off("other.example", 60, "HTTP 429")
    local.back_off("other.example", 1, "HTTP 503")
    held = local.claim("other.example", "a #4", concurrency=1, delay=0, lease=60)
    assert held.reason == "backoff" and 55 < held.wait <= 60


# --- two crawl processes, one site -----------------------------------------------------------------

ARTICLE = (
    "<html lang='en'><head><title>{title}</title></head><body><article><h1>{title}</h1>"
    "<p>{title}: Ofcom said it would examine whether the platform had complied with its duties.</p>"
    "</article></body></html>"
)


DATE = "Mon, 12 Jan 2026 08:30:00 +0000"
A_PAGES, B_PAGES = 40, 6  # a is long enough to be still crawling when b, started after it, begins


def feed(base: str, prefix: str, count: int) -> str:
    items = "".join(
        f"<item><title>{prefix} {n}</title><link>{base}/{prefix}/{n}.html</link><pubDate>{DATE}</pubDate></item>"
        for n in range(count)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>{prefix}</title>{items}</channel></rss>'


@dataclass
class Visit:
    agent: str
    path: str
    started: float
    status: int = 200


@dataclass
class CountingSite:
    """What the handler saw: requests in flight per host (and the most at once), and each visit."""

    pause: float = 0.15
    # Until the second crawl (this agent) reaches the site, the first's pages are slower still, so the
    # first is still crawling when the second, whose process may start slowly on a busy machine, begins.
    second_agent: str = "fleet-b"
    pause_before_second: float = 0.5
    in_flight: dict[str, int] = field(default_factory=dict)
    most_in_flight: dict[str, int] = field(default_factory=dict)
    visits: list[Visit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    too_many_to: str = ""  # agent whose first article request is answered 429 (Retry-After: 2)
    too_many_sent: Visit | None = None
    second_seen: bool = False

    def pause_for(self) -> float:
        with self.lock:
            return self.pause if self.second_seen or not self.second_agent else self.pause_before_second

    def enter(self, host: str, visit: Visit) -> bool:
        """Count a request in; True when it is the one to answer 429."""
        with self.lock:
            self.in_flight[host] = self.in_flight.get(host, 0) + 1
            self.most_in_flight[host] = max(self.most_in_flight.get(host, 0), self.in_flight[host])
            self.visits.append(visit)
            self.second_seen = self.second_seen or visit.agent == self.second_agent
            answer_429 = (
                bool(self.too_many_to)
                and self.too_many_sent is None
                and visit.agent == self.too_many_to
                and visit.path.endswith(".html")
            )
            if answer_429:
                visit.status = 429
                self.too_many_sent = visit
            return answer_429

    def leave(self, host: str) -> None:
        with self.lock:
            self.in_flight[host] -= 1


def serve(site: CountingSite, pages: dict[str, str]) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            pass

        def do_GET(self) -> None:
            host = self.headers.get("Host", "").split(":")[0]
            agent = self.headers.get("User-Agent", "").split(" ")[0]
            too_many = site.enter(host, Visit(agent, self.path, time.time()))
            try:
                time.sleep(site.pause_for())  # a slow site: requests that overlap would be seen overlapping
                body = pages.get(self.path)
                status = 429 if too_many else (200 if body is not None else 404)
                raw = (body or "<html><body>no</body></html>").encode()
                self.send_response(status)
                if too_many:
                    self.send_header("Retry-After", "2")
                self.send_header(
                    "Content-Type", "application/rss+xml" if self.path.endswith(".xml") else "text/html"
                )
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            finally:
                site.leave(host)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def site() -> Iterator[tuple[CountingSite, str, dict[str, str]]]:
    counting = CountingSite()
    pages: dict[str, str] = {}
    server, base = serve(counting, pages)
    for prefix, count in (("a", A_PAGES), ("b", B_PAGES)):
        pages[f"/{prefix}/feed.xml"] = feed(base, prefix, count)
        for n in range(count):
            pages[f"/{prefix}/{n}.html"] = ARTICLE.format(title=f"{prefix.upper()} story {n}")
    try:
        yield counting, base, pages
    finally:
        server.shutdown()
        server.server_close()


def crawl_settings(base: str, prefix: str) -> Settings:
    """A crawl that fetches one domain one request at a time, with no delay (the site is slow instead)."""
    host = base.removeprefix("http://")
    return Settings(
        env={},
        overrides={
            "CRAWL_USER_AGENT": f"fleet-{prefix}",
            "CRAWL_CONCURRENCY_PER_DOMAIN": 1,
            "CRAWL_DELAY": 0,
            "CRAWL_AUTOTHROTTLE": False,
            "CRAWL_RETRIES": 1,
            "CRAWL_RETRY_BACKOFF": 0,
            "CRAWL_RETRY_MAX_WAIT": 10,
            "CRAWL_ALLOWED_HOSTS": host,
            "CRAWL_LOOKBACK_DAYS": 0,
            "CRAWL_TIMEOUT": 30,
            "CRAWL_PROCESS_TIMEOUT": 300,
        },
    )


def feed_source(base: str, prefix: str) -> Source:
    return Source(id=f"fleet-{prefix}", name=prefix, kind="feed", url=f"{base}/{prefix}/feed.xml")


def crawl_in_thread(pg_url: str, base: str, prefix: str, results: dict[str, Any]) -> threading.Thread:
    """One crawl process (its own User-Agent, ``fleet-PREFIX``) over the site's feed ``/PREFIX/feed.xml``."""
    settings, source = crawl_settings(base, prefix), feed_source(base, prefix)

    def run() -> None:
        results[prefix] = run_crawl(
            [source],
            settings,
            item_pipelines={"crawlers.ExtractPipeline": None},  # fetching is what is counted here
            extra_scrapy_settings={STORE_URL_SETTING: pg_url, DOMAIN_PACER_SETTING: DOMAIN_PACER},
        )

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def crawl_both(pg_url: str, site: CountingSite, base: str) -> dict[str, Any]:
    """``a`` (A_PAGES slow articles) first, and ``b`` once the site has seen ``a``, so the two overlap."""
    results: dict[str, Any] = {}
    first = crawl_in_thread(pg_url, base, "a", results)
    deadline = time.monotonic() + 120
    while not any(v.agent == "fleet-a" for v in site.visits):
        assert time.monotonic() < deadline and first.is_alive(), "the first crawl never reached the site"
        time.sleep(0.05)
    second = crawl_in_thread(pg_url, base, "b", results)
    first.join(timeout=300)
    second.join(timeout=300)
    return results


def test_two_crawl_processes_never_have_more_requests_in_flight_to_a_domain_than_its_limit(
    pg_url: str, site: tuple[CountingSite, str, dict[str, str]]
) -> None:
    counting, base, _ = site
    results = crawl_both(pg_url, counting, base)
    [a], [b] = results["a"], results["b"]
    assert (a.pages_fetched, a.errors, b.pages_fetched, b.errors) == (A_PAGES, 0, B_PAGES, 0)
    agents = [v.agent for v in sorted(counting.visits, key=lambda v: v.started)]
    b_first = agents.index("fleet-b")
    assert "fleet-a" in agents[b_first:]  # they took turns: both crawled at once
    assert counting.most_in_flight == {"127.0.0.1": 1}


def test_a_retry_after_seen_by_one_process_holds_the_other_off_the_domain(
    pg_url: str, site: tuple[CountingSite, str, dict[str, str]]
) -> None:
    counting, base, _ = site
    # b's first article is answered 429 while a, with far more pages, is still crawling (the slot goes
    # to whichever process asks first, so a may wait on b but always has pages left after b's 429).
    counting.too_many_to = "fleet-b"
    results = crawl_both(pg_url, counting, base)
    refused = counting.too_many_sent
    assert refused is not None and refused.agent == "fleet-b"
    [a], [b] = results["a"], results["b"]
    assert (a.pages_fetched, b.pages_fetched) == (A_PAGES, B_PAGES)  # b's refused page fetched on its retry
    after = [v for v in counting.visits if v.started > refused.started]
    a_after = [v for v in after if v.agent == "fleet-a"]
    assert a_after, "the first process had nothing left to fetch after the 429"
    # Retry-After: 2 from the refused response's start; a little slack for the two clocks' reading.
    assert min(v.started for v in a_after) >= refused.started + 2 - 0.05
    assert min(v.started for v in after) >= refused.started + 2 - 0.05  # the refused process's too
    assert counting.most_in_flight == {"127.0.0.1": 1}


def test_one_crawl_process_of_two_sources_on_one_domain_holds_its_limit_without_a_shared_store(
    site: tuple[CountingSite, str, dict[str, str]],
) -> None:
    """Scrapy 2.19 alone let a feed's links all start at once (7 in flight with a limit of 1)."""
    counting, base, _ = site
    counting.second_agent = ""  # one process, one User-Agent: no second crawl to wait for
    stats = run_crawl(
        [feed_source(base, "a"), feed_source(base, "b")],
        crawl_settings(base, "local"),
        item_pipelines={"crawlers.ExtractPipeline": None},
    )
    assert sorted((s.source_id, s.pages_fetched, s.errors) for s in stats) == [
        ("fleet-a", A_PAGES, 0),
        ("fleet-b", B_PAGES, 0),
    ]
    assert counting.most_in_flight == {"127.0.0.1": 1}
