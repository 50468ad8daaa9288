"""The desk's store thread: every read of the store and the search index runs on one thread.

The store is one SQLite connection, usable only from the thread that opened it
and by one caller at a time, so the desk does not spread reads over a thread
pool. Request handlers are ``async`` and hand their work to this thread
(``await worker.run(fn, ...)``): the event loop stays free for static files and
other requests while a query runs, and queries run one after another. A search
takes milliseconds; a desk is used by a team, not by the public.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class StoreThread:
    """One worker thread that owns the store (created on first use, joined by :meth:`close`)."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="regwatch-desk-store")

    async def run(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``func`` on the store thread and wait for it without blocking the event loop."""
        return await asyncio.wrap_future(self._executor.submit(func, *args, **kwargs))

    def call(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``func`` on the store thread from outside the event loop (start-up, shutdown)."""
        return self._executor.submit(func, *args, **kwargs).result()

    def close(self) -> None:
        self._executor.shutdown(wait=True)
