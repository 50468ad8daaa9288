"""`make bench-web`: server time of the web desk's pages over a synthetic archive, on both backends.

    python -m benchmarks.bench_web [--docs N] [--repeat R] [--url http://127.0.0.1:9200]

Builds N articles with ``bench_index``'s corpus generator (Zipf words, a term in
half of them, watched entities, 20 sources over two years), adds a few
unwatched entities to each (the "other entities" facet), stores them in a
temporary home and serves the desk in-process (the ASGI app through httpx, no
socket: what is timed is the app). Reported, as p50/p95 of the server time
(the ``Server-Timing`` header: from the request reaching the app to its
response starting, the page rendered):

- ``/`` with facets and the timeline, for the benchmark's narrow and broad
  queries (goal p95 < 100 ms at 100,000 articles);
- article and entity pages (goal p95 < 50 ms);
- ``/api/search`` against the CLI's search function (``indexer.search_report``
  called directly, as ``regwatch search --json`` does) for the same queries,
  and their ratio (goal within 10%);
- the same against the OpenSearch node of ``--url`` (``REGWATCH_TEST_INDEX_URL``)
  when one is given;
- the JavaScript the desk ships (goal < 100 KB).

Figures, never assertions: a benchmark prints, the tests do not time anything.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from benchmarks.bench_index import SOURCES, corpus
from indexer import SearchQuery, Store, search_report
from regwatch.models import TaggedEntity

PACKAGE = Path(__file__).resolve().parents[1] / "web"
OTHER_NAMES = [f"Person {n}" for n in range(1500)] + [f"Company {n} Ltd" for n in range(500)]
PAGE_QUERIES: list[tuple[str, dict[str, str]]] = [
    ("landing page (no query)", {}),
    ("narrow word", {"q": "w1234"}),
    ("narrow + entity", {"q": "w321", "entity": "Ofcom"}),
    ("broad word (half the corpus)", {"q": "regulator"}),
    ("broad + entity", {"q": "regulator", "entity": "Grok"}),
    ("broad AND common", {"q": "regulator w3"}),
    ("phrase", {"q": '"online safety"'}),
    ("prefix", {"q": "w12*"}),
    ("no text, entity + type", {"entity": "Meta", "type": "regulator"}),
    ("broad, newest, page 5", {"q": "regulator", "sort": "newest", "page": "5"}),
]
API_QUERIES: list[tuple[str, dict[str, str], SearchQuery]] = [
    ("narrow word", {"q": "w1234"}, SearchQuery("w1234")),
    ("broad word", {"q": "regulator"}, SearchQuery("regulator")),
    ("broad + entity", {"q": "regulator", "entity": "Grok"}, SearchQuery("regulator", entity="Grok")),
    ("phrase", {"q": '"online safety"'}, SearchQuery('"online safety"')),
    ("no text, type", {"type": "regulator"}, SearchQuery(source_types=("regulator",))),
]
ENTITY_PAGES = ["ofcom", "grok", "x", "meta", "tiktok", "person%207", "company%203%20ltd"]


def config_text() -> str:
    lines = ["sources:"]
    for source in SOURCES.values():
        lines.append(
            f"  - {{id: {source.id}, name: {source.name}, kind: feed, url: '{source.url}/feed', "
            f"type: {source.type}, jurisdiction: {source.jurisdiction}}}"
        )
    return "\n".join(lines) + "\ninclude_default_sources: false\n"


def build_home(home: Path, docs: int) -> list[str]:
    """The archive in ``home``; the ids of the articles."""
    rng = random.Random(3)
    weights = [1 / (rank + 1) for rank in range(len(OTHER_NAMES))]
    items = corpus(docs)
    started = time.perf_counter()
    with Store.open(home / "regwatch.db", index_batch_size=5000, sources=SOURCES) as store:
        for number, (article, entities) in enumerate(items):
            names = rng.choices(OTHER_NAMES, weights, k=rng.randrange(6))
            if number == 0:  # every entity page timed exists, however small the archive (--docs 2000)
                names += [name for name in OTHER_NAMES if quote(name.lower()) in ENTITY_PAGES]
            others = [
                TaggedEntity(
                    name, "PERSON" if name.startswith("Person") else "ORG", [name], None, 1, 50, False, 0.1
                )
                for name in dict.fromkeys(names)
            ]
            store.articles.upsert(article)
            store.articles.set_entities(article.id, [*entities, *others], "bench")
        store.search.index_pending()
    print(f"archive: {docs:,} articles stored and indexed in {time.perf_counter() - started:.0f} s")
    (home / "bench.yaml").write_text(config_text(), encoding="utf-8")
    return [article.id for article, _ in items]


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


class Desk:
    """The desk app of a home, called in-process through httpx's ASGI transport."""

    def __init__(self, home: Path, overrides: dict[str, Any]) -> None:
        import httpx

        from regwatch.app import App
        from regwatch.app.desk import AppDesk
        from web import create_app

        self.app = App.load(home, home / "bench.yaml", overrides={"LOG_LEVEL": "WARNING", **overrides})
        self.desk = AppDesk(self.app)
        self.asgi = create_app(self.desk)
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.asgi), base_url="http://desk")

    def get(self, url: str) -> tuple[float, float, int]:
        """(server ms from Server-Timing, wall ms, status) of one GET."""
        started = time.perf_counter()
        response = self.loop.run_until_complete(self.client.get(url))
        wall = (time.perf_counter() - started) * 1000
        server = float(response.headers["server-timing"].split("dur=")[1])
        return server, wall, response.status_code

    def on_store_thread(self, func: Callable[[], Any]) -> Any:
        return self.asgi.state.worker.call(func)

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.on_store_thread(self.desk.close)
        self.asgi.state.worker.close()
        self.loop.close()


def timed_pages(desk: Desk, label: str, urls: list[tuple[str, str]], repeat: int) -> list[float]:
    print(f"\n{label} ({repeat} runs each, round robin; server time from Server-Timing):")
    for _, url in urls:  # warm up: the first broad search builds the store's search columns
        desk.get(url)
    samples: dict[str, list[float]] = {name: [] for name, _ in urls}
    walls: list[float] = []
    for _ in range(repeat):
        for name, url in urls:
            server, wall, status = desk.get(url)
            if status != 200:
                raise SystemExit(f"{url} answered {status}")
            samples[name].append(server)
            walls.append(wall)
    everything = [s for values in samples.values() for s in values]
    for name, values in samples.items():
        p50, p95 = percentiles(values)
        print(f"  {name:<32} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
    p50, p95 = percentiles(everything)
    wall50, wall95 = percentiles(walls)
    print(
        f"  {'all':<32} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   (wall, client included: p95 {wall95:.1f} ms)"
    )
    return everything


def bench_backend(name: str, desk: Desk, ids: list[str], repeat: int, goals: bool) -> None:
    print(f"\n=== {name} ===")
    pages = [(label, "/?" + urlencode(params)) for label, params in PAGE_QUERIES]
    search = timed_pages(desk, "search page / with facets and the timeline", pages, repeat)
    rng = random.Random(5)
    articles = [
        (f"article {n}", f"/article/{article_id}") for n, article_id in enumerate(rng.sample(ids, 10))
    ]
    article = timed_pages(desk, "article pages", articles, max(1, repeat // 2))
    entities = [(f"entity {key}", f"/entity/{key}") for key in ENTITY_PAGES]
    entity = timed_pages(desk, "entity pages", entities, repeat)
    if goals:
        print(
            f"\ngoals: / p95 {percentiles(search)[1]:.1f} ms (< 100), article p95 {percentiles(article)[1]:.1f} ms"
            f" (< 50), entity p95 {percentiles(entity)[1]:.1f} ms (< 50)"
        )
    bench_api(desk, repeat)


def bench_api(desk: Desk, repeat: int) -> None:
    """/api/search beside the CLI's search function for the same queries, alternating, same process."""
    print(f"\n/api/search against the CLI's search (indexer.search_report), {repeat} runs each:")
    index = desk.on_store_thread(lambda: desk.desk.search_index)
    for _, params, _ in API_QUERIES:  # warm up
        desk.get("/api/search?" + urlencode(params))
    api_all: list[float] = []
    cli_all: list[float] = []

    def cold() -> None:
        # The embedded search keeps the last query's matches: each call below starts without them,
        # as a CLI process does (the cluster keeps nothing).
        if hasattr(index, "_hits_key"):
            index._hits_key = None

    for label, params, query in API_QUERIES:
        api: list[float] = []
        cli: list[float] = []
        for _ in range(repeat):
            desk.on_store_thread(cold)
            server, _, _ = desk.get("/api/search?" + urlencode(params))
            api.append(server)

            def direct(query: SearchQuery = query) -> float:
                cold()
                started = time.perf_counter()
                search_report(index, query)
                return (time.perf_counter() - started) * 1000

            cli.append(desk.on_store_thread(direct))
        api_all += api
        cli_all += cli
        print(
            f"  {label:<20} api p50 {percentiles(api)[0]:6.1f} ms   cli p50 {percentiles(cli)[0]:6.1f} ms"
            f"   ratio {percentiles(api)[0] / max(percentiles(cli)[0], 1e-6):.2f}x"
        )
    (a50, a95), (c50, c95) = percentiles(api_all), percentiles(cli_all)
    print(
        f"  {'all':<20} api p50 {a50:6.1f} / p95 {a95:6.1f} ms   cli p50 {c50:6.1f} / p95 {c95:6.1f} ms"
        f"   ratio p50 {a50 / max(c50, 1e-6):.2f}x, p95 {a95 / max(c95, 1e-6):.2f}x (goal <= 1.10x)"
    )


def javascript_shipped() -> None:
    files = sorted((PACKAGE / "static").glob("*.js"))
    total = sum(path.stat().st_size for path in files)
    listed = ", ".join(f"{path.name} {path.stat().st_size / 1000:.1f} KB" for path in files)
    print(f"\nJavaScript shipped: {total / 1000:.1f} KB in all ({listed}); goal < 100 KB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Server time of the web desk's pages over a synthetic archive."
    )
    parser.add_argument("--docs", type=int, default=int(os.environ.get("BENCH_DOCS", "20000")))
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument(
        "--url",
        default=os.environ.get("REGWATCH_TEST_INDEX_URL", ""),
        help="an OpenSearch node to bench beside the store (default: REGWATCH_TEST_INDEX_URL)",
    )
    args = parser.parse_args(argv)
    import logging

    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        ids = build_home(home, args.docs)
        desk = Desk(home, {})
        try:
            bench_backend(f"embedded store, {args.docs:,} articles", desk, ids, args.repeat, goals=True)
        finally:
            desk.close()
        if args.url:
            bench_cluster(home, ids, args)
    javascript_shipped()
    return 0


def bench_cluster(home: Path, ids: list[str], args: argparse.Namespace) -> None:
    alias = f"bench-web-{uuid.uuid4().hex[:8]}"
    desk = Desk(home, {"INDEX_URL": args.url, "INDEX_NAME": alias, "INDEX_TIMEOUT": 120})
    try:
        started = time.perf_counter()
        outcome = desk.on_store_thread(lambda: desk.app.cluster.sync())
        print(
            f"\ncluster: {outcome.sent:,} documents synced to {alias} in {time.perf_counter() - started:.0f} s"
        )
        version = desk.on_store_thread(lambda: desk.app.cluster.server_version)
        bench_backend(f"OpenSearch {version}, {args.docs:,} articles", desk, ids, args.repeat, goals=False)
    finally:
        import opensearchpy

        desk.close()
        client = opensearchpy.OpenSearch([args.url])
        client.indices.delete(index=f"{alias}-*", ignore_unavailable=True)
        client.indices.delete_index_template(name=f"{alias}-template", ignore=[404])
        client.close()


if __name__ == "__main__":
    sys.exit(main())
