"""Per-domain politeness inside one crawl process, for a crawl with no shared store (SQLite).

Scrapy limits ``CONCURRENT_REQUESTS_PER_DOMAIN`` per crawler, that is per source, and
in Scrapy 2.19 under the asyncio reactor not even that: its downloader schedules
every queued request of a slot as a task before the first one counts as transferring,
so a feed's links all start at once (a site saw 7 requests in flight with a limit of
1). :class:`LocalDomainPacer` is the :class:`~regwatch.models.DomainPacer` that the
politeness middleware asks when the store is not shared: the same rules as the
store's (slots, delay, Retry-After), kept in memory for every source crawled by this
process, on its monotonic clock. A slot's lease still applies, so a request whose
release is lost (a middleware raising) frees its slot after the lease.
"""

from __future__ import annotations

import threading
import time

from regwatch.models import DomainTurn

POLL = 0.05  # seconds: how soon a claimer asks again while every slot is taken


class LocalDomainPacer:
    """Domain slots, pace and backoff for the crawlers of one process (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[str, dict[int, tuple[str, float]]] = {}  # domain -> slot -> (holder, until)
        self._next_allowed: dict[str, float] = {}
        self._backoff_until: dict[str, float] = {}

    def claim(self, domain: str, holder: str, *, concurrency: int, delay: float, lease: float) -> DomainTurn:
        now = time.monotonic()
        with self._lock:
            backoff = self._backoff_until.get(domain, 0.0)
            if backoff > now:
                return DomainTurn(None, backoff - now, "backoff")
            due = self._next_allowed.get(domain, 0.0)
            if due > now:
                return DomainTurn(None, due - now, "delay")
            held = self._slots.setdefault(domain, {})
            for slot in range(max(1, int(concurrency))):
                taken = held.get(slot)
                if taken is None or taken[1] <= now:
                    held[slot] = (holder, now + float(lease))
                    if delay > 0:
                        self._next_allowed[domain] = now + float(delay)
                    return DomainTurn(slot)
            return DomainTurn(None, POLL, "busy")

    def release(self, domain: str, slot: int, holder: str) -> None:
        with self._lock:
            held = self._slots.get(domain, {})
            if held.get(slot, ("", 0.0))[0] == holder:
                del held[slot]

    def back_off(self, domain: str, seconds: float, reason: str) -> None:
        until = time.monotonic() + max(0.0, float(seconds))
        with self._lock:
            self._backoff_until[domain] = max(self._backoff_until.get(domain, 0.0), until)

    def close(self) -> None:
        """Nothing to close: the state lives and dies with the process."""
