"""Extraction beside the crawl: worker processes that turn fetched pages into articles.

Why: Scrapy runs in one thread, and extraction (trafilatura plus regwatch's rules)
is most of a crawl's CPU time per page. With worker processes the crawl keeps
fetching, storing and scheduling on one core while pages are extracted on the
others, so a crawl on a machine with spare cores goes as fast as its downloads
allow. ``CRAWL_EXTRACT_WORKERS``: -1 (default) one worker per spare core, at
most ``MAX_AUTO_WORKERS``; 0 extracts in the crawl process itself (one core).

The extraction item pipeline (``_pipelines``) takes the pool when its spider
opens and gives it back when it closes; the last spider to close stops the
workers. Workers are spawned when the first page arrives (never a fork of the
running reactor); if the crawl process is killed, they notice within half a
second and exit. A page is sent as bytes and its Article (or
the ExtractionError) comes back: nothing is stored by a worker, so a worker that
dies loses only its page, reported as an extraction error.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from regwatch.errors import ExtractionError
from regwatch.models import Article

from ._extract import extract_article
from ._parent_watch import exit_when_orphaned

logger = logging.getLogger(__name__)

MAX_AUTO_WORKERS = 4


def worker_count(setting: int) -> int:
    """Workers for a ``CRAWL_EXTRACT_WORKERS`` value: -1 one per spare core (at most 4), else itself."""
    if setting >= 0:
        return setting
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(0, min(MAX_AUTO_WORKERS, cores - 1))


PARENT_POLL_SECONDS = 0.5


def _exit_with_parent(parent: int) -> None:
    """In a worker: exit as soon as the crawl process is gone (killed, it cannot stop us).

    A pool worker waits on a queue whose other end it holds too, so it would never see
    its parent die; a thread watching the parent's pid ends it instead.
    """
    exit_when_orphaned(parent, PARENT_POLL_SECONDS)


class Extractor:
    """Runs :func:`~crawlers._extract.extract_article` inline or in worker processes."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    async def extract(self, html: bytes, url: str, *args: Any, **kwargs: Any) -> Article:
        """The article of one page; ExtractionError as :func:`extract_article` raises it."""
        if self.workers <= 0:
            return extract_article(html, url, *args, **kwargs)
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),  # never a fork of the running reactor
                initializer=_exit_with_parent,
                initargs=(os.getpid(),),
            )
            logger.info("extraction in %d worker process(es)", self.workers)
        try:
            future = self._pool.submit(extract_article, html, url, *args, **kwargs)
            return await asyncio.wrap_future(future)
        except BrokenProcessPool as exc:
            # A worker died (killed, out of memory): this page is lost, the next gets a new pool.
            self._pool = None
            raise ExtractionError(f"{url}: extraction worker died ({exc})") from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


_shared: Extractor | None = None
_users = 0


def acquire_extractor(setting: int) -> Extractor:
    """The crawl process's one extractor, for one more open spider (its workers serve every source).

    Every source of a crawl has its own crawler, hence its own extraction pipeline,
    in one process: they share one pool rather than start one each.
    """
    global _shared, _users
    if _shared is None:
        _shared = Extractor(worker_count(setting))
    _users += 1
    return _shared


def release_extractor() -> None:
    """One spider fewer: the last one to close stops the workers."""
    global _users
    _users = max(0, _users - 1)
    if _users == 0:
        close_shared_extractor()


def close_shared_extractor() -> None:
    """Stop the shared extractor's workers (also the crawl process's safety net when the crawl ends)."""
    global _shared, _users
    if _shared is not None:
        _shared.close()
        _shared = None
    _users = 0
