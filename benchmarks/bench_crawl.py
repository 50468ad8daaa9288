"""`make bench-crawl`: crawl throughput and memory, regwatch's crawl against a bare one, same run.

A local site (127.0.0.1, served by a thread of this process) lists ``--pages``
distinct article pages in one RSS feed. Two crawls of it run as real crawl
subprocesses with the same Scrapy settings:

- bare: fetch and count every page, extract nothing, store nothing (the
  extraction pipeline switched off, no store pipeline);
- regwatch: the extraction pipeline (trafilatura + metadata) and the SQLite store pipeline.

The two crawls alternate for ``--rounds`` rounds (3 by default), and each side's fastest round
counts: a shared machine only ever slows a crawl down, so one slow round (another job on the
cores) no longer decides the ratio. Printed: pages/s and articles/s of each side's best round,
their ratio (goal >= 0.5), each round's own ratio, and the peak RSS of each crawl subprocess
with its extraction workers, summed (goal < 1 GB). AutoThrottle is off and the per-domain
concurrency is 16 in both runs, so the ratio measures regwatch's per-page work, not politeness
delays.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from crawlers._runner import _job, _read_report
from crawlers.settings import EXTRACT_PIPELINE
from regwatch.models import Source
from regwatch.settings import Settings

WORDS = [
    "regulator",
    "platform",
    "online",
    "safety",
    "investigation",
    "minister",
    "consultation",
    "guidance",
    "fine",
    "enforcement",
    "children",
    "content",
    "duty",
    "report",
    "evidence",
    "commission",
    "statement",
    "parliament",
    "committee",
    "market",
    "data",
]


# Page text: words drawn at random (Zipf-like) from a news-sized vocabulary, so each page tells
# its own story, as a real site's pages do; every 20th page is a lightly edited copy of the page
# before it (a wire copy), so story assignment does its usual work. (A cyclic text shared by every
# page made all of them one story: each upsert then checked 20 near-copies, a worst case.)
VOCABULARY = WORDS + [f"term{k}" for k in range(5000)]
_WEIGHTS = [1 / (rank + 1) for rank in range(len(VOCABULARY))]
COPY_EVERY = 20


def _paragraph_words(n: int, i: int) -> list[str]:
    story = n - 1 if n % COPY_EVERY == 0 and n > 0 and i < 7 else n  # a copy keeps 7 of 8 paragraphs
    return random.Random(story * 101 + i).choices(VOCABULARY, _WEIGHTS, k=60)


def article_page(n: int) -> bytes:
    """Article page ``n``: its own story in eight paragraphs, with title, time and author in its markup."""
    digest = hashlib.sha1(str(n).encode()).hexdigest()
    paragraphs = "".join(
        "<p>" + " ".join(_paragraph_words(n, i)) + f" ({digest[:8]}-{i}).</p>" for i in range(8)
    )
    title = f"Story {n}: {WORDS[n % len(WORDS)]} {WORDS[(n * 3) % len(WORDS)]}"
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title} | Bench News</title>'
        f'<meta property="og:title" content="{title}">'
        f'<meta property="article:published_time" content="2026-01-{1 + n % 28:02d}T09:00:00Z">'
        f'<meta name="author" content="Reporter {n % 40}"></head><body>'
        f"<header><nav><a href='/'>Home</a> <a href='/news'>News</a></nav></header>"
        f"<main><article><h1>{title}</h1>{paragraphs}</article></main>"
        f"<footer>Bench News Ltd. All rights reserved.</footer></body></html>"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    server: _Site

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:
        if self.path == "/feed.xml":
            body, content_type = self.server.feed, "application/rss+xml"
        elif self.path.startswith("/a/") and self.path.endswith(".html"):
            body, content_type = self.server.pages[int(self.path[3:-5])], "text/html; charset=utf-8"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Site(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, pages: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        base = f"http://127.0.0.1:{self.server_address[1]}"
        date = format_datetime(datetime.now(UTC) - timedelta(days=1))
        items = "".join(
            f"<item><title>Story {n}</title><link>{base}/a/{n}.html</link><pubDate>{date}</pubDate></item>"
            for n in range(pages)
        )
        self.base = base
        self.pages = [
            article_page(n) for n in range(pages)
        ]  # made up front: the server's CPU stays off the clock
        self.feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Bench</title>{items}</channel></rss>'.encode()


def _crawl(
    source: Source, settings: Settings, pipelines: dict[str, int | None], extra: dict[str, Any], work: Path
) -> tuple[float, dict[str, Any], int]:
    """(seconds, stats of the source, peak RSS in KiB) of one crawl subprocess."""
    job_path, report_path = work / "job.json", work / "report.json"
    job_path.write_text(json.dumps(_job([source], settings, pipelines, extra)))
    command = [sys.executable, "-m", "crawlers.process", str(job_path), str(report_path)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    tree = _TreeMemory(process.pid)
    tree.start()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    tree.stop()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"crawl subprocess failed with status {process.returncode}")
    stats = _read_report(report_path)[source.id].to_dict()
    # The crawl process's own peak, or its process tree's (extraction workers included), if larger.
    return elapsed, stats, max(int(usage.ru_maxrss), tree.peak_kib)


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (Linux /proc; just ``pid`` elsewhere)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                queue += [int(child) for child in children.read_text().split()]
            except OSError:
                continue
    return found


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class _TreeMemory(threading.Thread):
    """Samples the summed RSS of a process and its descendants every 0.1 s; keeps the peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kib = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.1):
            self.peak_kib = max(self.peak_kib, sum(_rss_kib(p) for p in _descendants(self.pid)))

    def stop(self) -> None:
        self._done.set()
        self.join()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument(
        "--rounds", type=int, default=3, help="crawls per side, alternating; each side's fastest counts"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    site = _Site(args.pages)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    settings = Settings(
        env={},
        overrides={
            "CRAWL_ALLOWED_HOSTS": site.base,
            "CRAWL_OBEY_ROBOTS": False,
            "CRAWL_AUTOTHROTTLE": False,
            "CRAWL_CONCURRENCY_PER_DOMAIN": 16,
            "CRAWL_MAX_PAGES": args.pages,
            "CRAWL_RETRIES": 0,
            "CRAWL_PROCESS_TIMEOUT": 3600,
            "LOG_LEVEL": "WARNING",
        },
    )
    source = Source(id="bench", name="Bench News", kind="feed", url=f"{site.base}/feed.xml")
    runs: dict[str, list[tuple[float, dict[str, Any], int]]] = {"bare": [], "regwatch": []}
    try:
        with tempfile.TemporaryDirectory(prefix="regwatch-bench-crawl-") as tmp:
            work = Path(tmp)
            for round_ in range(args.rounds):
                # Alternate which goes first, so a machine slowing down or speeding up mid-run weighs on both.
                for name in ("bare", "regwatch") if round_ % 2 == 0 else ("regwatch", "bare"):
                    # bare: the extraction pipeline switched off and no store; regwatch: a fresh store
                    # each round, so every page is a new article, as in the first
                    pipelines: dict[str, int | None] = {EXTRACT_PIPELINE: None}
                    extra: dict[str, Any] = {}
                    if name == "regwatch":
                        pipelines = {"regwatch.app.pipeline.StoreArticlePipeline": 800}
                        extra = {"REGWATCH_DB_PATH": str(work / f"bench-{round_}.db")}
                    runs[name].append(_crawl(source, settings, pipelines, extra, work))
    finally:
        site.shutdown()
    print(report(args.pages, runs))  # noqa: T201 - a benchmark's report is its output
    return 0


def _rate(run: tuple[float, dict[str, Any], int]) -> float:
    seconds, stats, _ = run
    return float(stats["pages_fetched"]) / seconds if seconds else 0.0


def report(pages: int, runs: dict[str, list[tuple[float, dict[str, Any], int]]]) -> str:
    """Each side's fastest round (a shared machine only ever slows a run down), the ratio of the two,
    and each round's own ratio beside it."""
    rounds = len(runs["bare"])
    lines = [
        f"bench-crawl: {pages} article pages from 127.0.0.1, concurrency 16, AutoThrottle off, "
        f"best of {rounds} round{'s' if rounds > 1 else ''} per side"
    ]
    best = {}
    for name, side in runs.items():
        fastest = max(side, key=_rate)
        seconds, stats, _ = fastest
        best[name] = _rate(fastest)
        stored = stats["new"] + stats["updated"] + stats["duplicate"]
        peak = max(rss for _, _, rss in side)
        lines.append(
            f"  {name:<9} {seconds:7.1f} s  {best[name]:7.1f} pages/s  {stored / seconds:7.1f} articles/s  "
            f"peak RSS {peak / 1024:6.0f} MiB  ({stats['pages_fetched']} pages, {stored} stored, "
            f"{stats['errors']} errors)"
        )
    each = [
        _rate(r) / _rate(b) if _rate(b) else 0.0 for r, b in zip(runs["regwatch"], runs["bare"], strict=True)
    ]
    if rounds > 1:
        lines.append("  each round's ratio: " + ", ".join(f"{value:.2f}" for value in each))
    ratio = best["regwatch"] / best["bare"] if best["bare"] else 0.0
    lines.append(f"  ratio regwatch/bare pages/s: {ratio:.2f} (goal >= 0.5)")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
