"""`make bench-index`: ingest and search speed of both backends over a synthetic corpus.

    python -m benchmarks.bench_index [--docs N] [--url http://127.0.0.1:9200] [--repeat R]

Builds N synthetic articles (Zipf-distributed words, a term in half of them,
watched entities, 20 sources over two years) in a temporary store and reports:

- ingest docs/s into the embedded store (articles, then the FTS index), and into
  the cluster through ``ClusterIndex.sync`` beside a plain ``helpers.bulk`` of
  the same documents into an index with the same mappings, in the same run;
- search p50/p95 for a mix of narrow and broad queries, each with an entity
  filter, facets and a day histogram, on each backend; for the store, the time
  to build its in-memory search columns and their size (see indexer/_columns.py),
  and with ``--sql`` the same queries answered in SQL alone (the columns' baseline);
- SQLite's query plan of a relevance page.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from indexer._cluster import ClusterIndex
from indexer._cluster_mapping import index_body, to_document
from indexer._search import SqliteSearch
from indexer._store import Store
from indexer._types import SearchQuery
from regwatch.models import Article, Source, TaggedEntity
from regwatch.settings import Settings

START = datetime(2024, 1, 1, tzinfo=UTC)
ENTITIES = [
    TaggedEntity(name, kind, [name], name.lower().replace(" ", "-"), 2, 10, False, 0.5)
    for name, kind in [
        ("Ofcom", "regulator"),
        ("Competition and Markets Authority", "regulator"),
        ("Information Commissioner's Office", "regulator"),
        ("X", "platform"),
        ("Grok", "product"),
        ("Meta", "company"),
        ("TikTok", "platform"),
        ("Liz Kendall", "person"),
        ("Online Safety Act", "law"),
        ("European Commission", "regulator"),
    ]
]
SOURCES = {
    f"source-{n}": Source(
        f"source-{n}",
        f"Source {n}",
        "feed",
        f"https://source-{n}.example",
        ("news", "regulator", "government")[n % 3],
        ("UK", "EU", "US")[n % 3],
    )
    for n in range(20)
}
# (label, query): narrow and broad words, a phrase, a prefix, each with or without an entity filter.
QUERIES = [
    ("narrow word", SearchQuery("w1234")),
    ("narrow + entity", SearchQuery("w321", entity="Ofcom")),
    ("broad word (half the corpus)", SearchQuery("regulator")),
    ("broad + entity", SearchQuery("regulator", entity="Grok")),
    ("broad AND common", SearchQuery("regulator w3")),
    ("phrase", SearchQuery('"online safety"')),
    ("prefix", SearchQuery("w12*")),
    ("no text, entity + type", SearchQuery(entity="Meta", source_types=("regulator",))),
]


def corpus(count: int, seed: int = 7) -> list[tuple[Article, list[TaggedEntity]]]:
    rng = random.Random(seed)
    words = [f"w{n}" for n in range(5000)]
    weights = [1 / (rank + 1) for rank in range(len(words))]
    items = []
    for n in range(count):
        body = rng.choices(words, weights, k=120)
        if n % 2 == 0:
            body.insert(rng.randrange(len(body)), "regulator")
        if n % 7 == 0:
            body[rng.randrange(len(body)) :] = ["online", "safety"]
        entities = rng.sample(ENTITIES, rng.randrange(4))
        article = Article(
            url=f"https://bench.example/{n}",
            source_id=f"source-{n % 20}",
            title=" ".join(rng.choices(words, weights, k=8)),
            summary=" ".join(rng.choices(words, weights, k=20)),
            body=" ".join(body),
            published=START + timedelta(minutes=rng.randrange(2 * 365 * 24 * 60)),
            language="en",
            entities=entities,
        )
        items.append((article, entities))
    return items


def timed(func: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = func()
    return time.perf_counter() - started, result


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def search_all(backend: Any, query: SearchQuery) -> int:
    """What a search page shows: the hits, facets and a day histogram, each run cold."""
    if isinstance(backend, SqliteSearch):
        # Cold: the match itself (FTS5, filters, ranking), not the store's reuse of the last one.
        # The search columns stay built: they depend on the data, not on the query.
        backend._hits_key = None
    total = backend.search(query).total
    backend.facets(query)
    backend.histogram(query, "day")
    return int(total)


def bench_search(name: str, backend: Any, repeat: int) -> None:
    print(f"\nsearch on {name} (hits + facets + day histogram, each run cold), {repeat} runs each:")
    everything: list[float] = []
    for label, query in QUERIES:
        search_all(backend, query)  # warm up
        samples = []
        total = 0
        for _ in range(repeat):
            seconds, total = timed(lambda query=query: search_all(backend, query))  # type: ignore[misc]
            samples.append(seconds)
        everything += samples
        p50, p95 = percentiles(samples)
        print(f"  {label:<30} {total:>7} hits   p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
    p50, p95 = percentiles(everything)
    print(f"  {'all queries':<30} {'':>7}        p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Ingest and search speed of the embedded store and a cluster."
    )
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument(
        "--sql", action="store_true", help="also time the store's SQL-only search (the columns' baseline)"
    )
    parser.add_argument(
        "--url",
        default=os.environ.get("REGWATCH_TEST_INDEX_URL", ""),
        help="an OpenSearch node to bench beside the store (default: the one `make bench-index` starts)",
    )
    args = parser.parse_args(argv)

    items = corpus(args.docs)
    print(f"synthetic corpus: {args.docs} articles, 20 sources, {len(ENTITIES)} watched entities")
    with (
        tempfile.TemporaryDirectory() as tmp,
        Store.open(Path(tmp) / "bench.db", index_batch_size=5000, sources=SOURCES) as store,
    ):

        def store_articles() -> None:
            for article, entities in items:
                store.articles.upsert(article)
                store.articles.set_entities(article.id, entities, "bench")

        seconds, _ = timed(store_articles)
        print(f"\ningest, embedded: store {args.docs / seconds:8.0f} docs/s", end="")
        seconds, indexed = timed(store.search.index_pending)
        print(f"   FTS index {indexed / seconds:8.0f} docs/s")

        seconds, _ = timed(lambda: store.search.search(SearchQuery("regulator")))
        search = store.search
        assert isinstance(search, SqliteSearch)  # Store.open's search: the columns and SQL are its own
        columns = search._columns
        print(
            f"search columns: first search {seconds * 1000:.0f} ms with the build,"
            f" {columns.nbytes / 1e6:.1f} MB for {store.articles.count()} articles"
        )
        with search._db.transaction(write=False) as conn:
            plan = conn.execute(
                "EXPLAIN QUERY PLAN SELECT rowid, rank FROM article_fts WHERE article_fts MATCH 'regulator' "
                "ORDER BY rank + 0.0 LIMIT 20"
            ).fetchall()
        print("query plan of a relevance page (matches counted, filtered and faceted in the columns):")
        for row in plan:
            print(f"  {row['detail']}")

        bench_search("the embedded store", store.search, args.repeat)
        if args.sql:
            search.use_columns = False
            bench_search("the embedded store, SQL alone (no columns)", search, args.repeat)
            search.use_columns = True
        if args.url:
            bench_cluster(store, args, items)
    return 0


def bench_cluster(
    store: Store, args: argparse.Namespace, items: list[tuple[Article, list[TaggedEntity]]]
) -> None:
    import opensearchpy
    from opensearchpy import helpers

    alias = f"bench-{uuid.uuid4().hex[:8]}"
    settings = Settings(env={}, overrides={"INDEX_URL": args.url, "INDEX_NAME": alias, "INDEX_TIMEOUT": 120})
    cluster = ClusterIndex.from_settings(settings, store, SOURCES)
    client = opensearchpy.OpenSearch([args.url], timeout=120)
    plain = f"{alias}-plain"
    try:
        # The same documents, read from the store beforehand, through a plain helpers.bulk first
        # (it also warms the node up), then ClusterIndex.sync, which reads the store as it goes.
        docs = [
            to_document(item, SOURCES) for item in store.cluster_ledger.pending("plain", limit=len(items))
        ]
        client.indices.create(index=plain, body=index_body())
        actions = ({"_index": plain, "_id": doc["id"], "_source": doc} for doc in docs)
        plain_seconds, _ = timed(lambda: helpers.bulk(client, actions, chunk_size=500, refresh=False))
        client.indices.refresh(index=plain)
        baseline = len(docs) / plain_seconds
        cluster.ensure_index()
        seconds, outcome = timed(cluster.sync)
        ours = outcome.sent / seconds
        print(
            f"\ningest, OpenSearch: ClusterIndex.sync {ours:8.0f} docs/s   plain helpers.bulk {baseline:8.0f} docs/s"
            f"   ratio {ours / baseline:.2f}x (goal >= 0.9x; sync also reads the store and writes the ledger)"
        )
        bench_search(f"OpenSearch {cluster.server_version}", cluster, args.repeat)
    finally:
        client.indices.delete(index=f"{alias}-*", ignore_unavailable=True)
        client.indices.delete_index_template(name=f"{alias}-template", ignore=[404])
        client.close()
        cluster.close()


if __name__ == "__main__":
    sys.exit(main())
