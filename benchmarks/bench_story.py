"""Story assignment cost on upsert: ``store.articles.upsert`` with stories inline and off, same run.

Run with ``make bench-story`` (or ``.venv/bin/python benchmarks/bench_story.py --help``).

Stores N synthetic articles (≈300 words of Zipf-distributed vocabulary each; one
in ten is a lightly edited copy of an earlier one, at another URL) into two fresh
stores: one assigning stories (the default), one with it switched off (the
baseline). Printed: ms/article of each, the story cost per article (goal:
under 1 ms, small beside extraction and tagging, which take tens of ms per
article), the ratio of the rates, the copies found (recall of the planted
copies) and any false merges, and the upsert time of the last tenth against the
first beside the same figure without stories (the store's own growth):
candidates come from the bucket index, not a scan.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from indexer import Store  # noqa: E402
from regwatch.models import Article  # noqa: E402

START = datetime(2025, 1, 1, tzinfo=UTC)
VOCABULARY = [f"w{i}" for i in range(20000)]
WEIGHTS = [1 / (rank + 1) for rank in range(len(VOCABULARY))]


def corpus(count: int, seed: int = 11) -> tuple[list[Article], dict[int, int]]:
    """The articles, and for each planted copy (by position) the position of its original."""
    rng = random.Random(seed)
    articles: list[Article] = []
    copies: dict[int, int] = {}
    for n in range(count):
        if n >= 10 and n % 10 == 0:
            original = rng.randrange(n)
            while original in copies:
                original = rng.randrange(n)
            words = articles[original].body.split()
            for _ in range(4):  # a few edited words, a new standfirst and sign-off
                words[rng.randrange(len(words))] = rng.choice(VOCABULARY)
            body = " ".join(["Syndicated", "standfirst", *words, "Reporting", "by", "the", "wire"])
            copies[n] = original
        else:
            body = " ".join(rng.choices(VOCABULARY, WEIGHTS, k=300))
        articles.append(
            Article(
                url=f"https://site{n % 20}.example/{n}",
                source_id=f"source-{n % 20}",
                title=f"Article {n}",
                body=body,
                published=START + timedelta(minutes=n),
                fetched_at=START + timedelta(minutes=n),
            )
        )
    return articles, copies


def store_all(path: Path, articles: list[Article], stories: bool) -> tuple[float, list[float]]:
    with Store.open(path, stories="inline" if stories else "off") as store:
        tenths: list[float] = []
        tenth = max(1, len(articles) // 10)
        started = time.perf_counter()
        mark = started
        for n, article in enumerate(articles, 1):
            store.articles.upsert(article)
            if n % tenth == 0:
                now = time.perf_counter()
                tenths.append(now - mark)
                mark = now
        return time.perf_counter() - started, tenths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10000)
    args = parser.parse_args(argv)
    articles, copies = corpus(args.docs)
    with tempfile.TemporaryDirectory() as tmp:
        base, base_tenths = store_all(Path(tmp) / "baseline.db", articles, stories=False)
        took, tenths = store_all(Path(tmp) / "stories.db", articles, stories=True)
        with Store.open(Path(tmp) / "stories.db") as store:
            stories = {a.id: store.articles.get(a.id).story_id for a in articles}  # type: ignore[union-attr]
    ids = [a.id for a in articles]
    found = sum(1 for n, original in copies.items() if stories[ids[n]] == stories[ids[original]])
    merged = sum(1 for n, a in enumerate(articles) if n not in copies and stories[a.id] != a.id)
    n = len(articles)
    print(f"articles: {n} ({len(copies)} planted copies)")
    print(f"upsert without stories:    {base / n * 1000:.3f} ms/article")
    print(f"upsert with stories:       {took / n * 1000:.3f} ms/article")
    print(f"story cost:                {(took - base) / n * 1000:.3f} ms/article (goal < 1 ms)")
    print(f"rate ratio (stories/baseline): {base / took:.2f}")
    print(f"copies found: {found}/{len(copies)}; originals merged wrongly: {merged}")
    print(
        f"last tenth / first tenth upsert time: {tenths[-1] / tenths[0]:.2f} with stories, "
        f"{base_tenths[-1] / base_tenths[0]:.2f} without (a scan would grow with the archive)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
