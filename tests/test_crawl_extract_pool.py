"""Extraction in worker processes beside the crawl: same articles, same errors, no orphans."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.bench_crawl import article_page
from crawlers._extract import extract_article
from crawlers._extract_pool import MAX_AUTO_WORKERS, Extractor, worker_count
from regwatch.errors import ExtractionError

URL = "https://news.example.org/2026/01/story.html"


def test_a_worker_extracts_the_article_the_crawl_process_would() -> None:
    extractor = Extractor(1)
    try:
        pooled = asyncio.run(extractor.extract(article_page(3), URL, "src", local_timezone="Europe/London"))
    finally:
        extractor.close()
    inline = extract_article(article_page(3), URL, "src", local_timezone="Europe/London")
    assert {**pooled.to_dict(), "fetched_at": None} == {**inline.to_dict(), "fetched_at": None}


def test_an_extraction_error_in_a_worker_reaches_the_crawl_as_itself() -> None:
    extractor = Extractor(1)
    try:
        with pytest.raises(ExtractionError, match="body too short"):
            asyncio.run(extractor.extract(article_page(3), URL, "src", min_body_chars=10**6))
    finally:
        extractor.close()


def test_workers_default_to_the_spare_cores_at_most_four() -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    assert worker_count(-1) == max(0, min(MAX_AUTO_WORKERS, cores - 1))
    assert (worker_count(0), worker_count(3)) == (0, 3)


KILLED_CRAWL = """
import asyncio, os, signal, sys
sys.path.insert(0, os.getcwd())  # run as a script from the repo root: benchmarks/ is not installed
from benchmarks.bench_crawl import article_page
from crawlers._extract_pool import Extractor

async def main():
    extractor = Extractor(2)
    await asyncio.gather(*(extractor.extract(article_page(n), f"https://x.example/{n}", "s") for n in range(4)))
    print(" ".join(str(p) for p in extractor._pool._processes), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # no cleanup of any kind

if __name__ == "__main__":
    asyncio.run(main())
"""


def test_workers_exit_when_the_crawl_process_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "killed_crawl.py"
    script.write_text(KILLED_CRAWL)
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=root, timeout=60, check=False
    )
    workers = [int(pid) for pid in done.stdout.split()]
    assert len(workers) == 2 and done.returncode == -9

    def alive(pid: int) -> bool:
        try:
            return Path(f"/proc/{pid}/status").read_text().find("State:\tZ") < 0
        except OSError:
            return False

    deadline = time.monotonic() + 30  # they notice within half a second; generous on a loaded machine
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers)
