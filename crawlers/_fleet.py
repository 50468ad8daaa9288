"""Per-domain politeness for every crawl that shares a domain: one limit for all, not one each.

Scrapy keeps CRAWL_CONCURRENCY_PER_DOMAIN and CRAWL_DELAY per downloader, that is
per source's crawler in one process (and in Scrapy 2.19, under the asyncio reactor,
its concurrency limit does not hold even there: see ``_local_pacer``). So
:class:`FleetPolitenessMiddleware` asks a :class:`~regwatch.models.DomainPacer`
before each request and gives its slot back after the response:

- a request waits (``deferLater``: the reactor goes on serving every other
  request) until the domain has a free slot, its delay since the last request to
  it has passed, and no server's Retry-After holds it;
- the slot is a lease (CRAWL_TIMEOUT plus the longest a request can then wait in
  Scrapy's own slot, plus a margin), so a process that dies holding it blocks the
  domain for that long at most;
- a 429 or 503 with ``Retry-After`` (capped at CRAWL_RETRY_MAX_WAIT, as the retry
  middleware caps its own wait) holds every request to that domain off until then.

It sits last before the download handler (:data:`ORDER`), so it claims after every
other middleware has let the request through and sees the response first. The
domain is Scrapy's download slot key (the host name), so its unit is the one Scrapy
limits locally.

Which pacer: when the crawl stores into PostgreSQL, the store's, shared by every
crawl process of the fleet on every host (the wiring passes the store's URL,
``REGWATCH_STORE_URL``, and the dotted path of a factory that makes a pacer of it,
``REGWATCH_DOMAIN_PACER``; its calls run in the reactor's thread pool, and when the
store cannot be reached a request goes on under the process's own limits, with an
error logged). Otherwise (SQLite, the everyday case) a :class:`LocalDomainPacer`
shared by every source this process crawls.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import load_object
from twisted.internet import task, threads

from regwatch.errors import RegwatchError
from regwatch.models import DomainPacer

from ._local_pacer import LocalDomainPacer
from ._middlewares import retry_after
from .settings import crawl_setting

logger = logging.getLogger(__name__)

ORDER = 950  # after every built-in downloader middleware: claims last, sees the response first
STORE_URL_SETTING = "REGWATCH_STORE_URL"
PACER_SETTING = "REGWATCH_DOMAIN_PACER"
SLOT_META = "regwatch_domain_slot"  # (domain, slot, holder) while a request holds a slot
LEASE_MARGIN = 30.0  # seconds on top of the longest a request may take once it holds a slot
BACKOFF_STATUSES = (429, 503)


_said: set[str] = set()
_local_pacer = LocalDomainPacer()  # one per process: every source it crawls shares each domain's limits


def _say_once(message: str) -> None:
    if message not in _said:
        _said.add(message)
        logger.info(message)


class _SharedPacer:
    """One pacer per crawl process, shared by its crawlers (one per source) and closed after the last."""

    _lock = threading.Lock()
    _open: dict[tuple[str, str], tuple[DomainPacer, int]] = {}  # noqa: RUF012 - process-wide on purpose

    @classmethod
    def acquire(cls, factory_path: str, store_url: str) -> DomainPacer:
        key = (factory_path, store_url)
        with cls._lock:
            pacer, users = cls._open.get(key) or (None, 0)
            if pacer is None:
                factory: Callable[[str], DomainPacer] = load_object(factory_path)
                pacer = factory(store_url)
            cls._open[key] = (pacer, users + 1)
            return pacer

    @classmethod
    def release(cls, factory_path: str, store_url: str) -> None:
        key = (factory_path, store_url)
        with cls._lock:
            pacer, users = cls._open.get(key) or (None, 0)
            if pacer is None:
                return
            if users <= 1:
                del cls._open[key]
                pacer.close()
            else:
                cls._open[key] = (pacer, users - 1)


class FleetPolitenessMiddleware:
    """Per-domain slots, delay and Retry-After shared by every crawl process (see the module docstring)."""

    def __init__(
        self,
        pacer: DomainPacer,
        *,
        concurrency: int,
        delay: float,
        lease: float,
        max_backoff: float,
        holder_prefix: str = "",
    ) -> None:
        self.pacer = pacer
        self._in_thread = not isinstance(pacer, LocalDomainPacer)  # the store's calls block on I/O
        self.concurrency = max(1, int(concurrency))
        self.delay = max(0.0, float(delay))
        self.lease = max(1.0, float(lease))
        self.max_backoff = max(0.0, float(max_backoff))
        self.holder_prefix = holder_prefix or f"{socket.gethostname()} pid {os.getpid()}"
        self._claims = itertools.count(1)
        self._store_down = False  # logged once per outage

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FleetPolitenessMiddleware:
        settings = crawler.settings
        store_url = str(settings.get(STORE_URL_SETTING) or "")
        factory_path = str(settings.get(PACER_SETTING) or "")
        if store_url and not factory_path:
            raise NotConfigured(f"{PACER_SETTING} names no pacer factory; each crawl keeps its own pace")
        shared = bool(store_url)
        pacer = _SharedPacer.acquire(factory_path, store_url) if shared else _local_pacer
        timeout = float(settings.getfloat("DOWNLOAD_TIMEOUT", 180))
        delay = float(settings.getfloat("DOWNLOAD_DELAY", 0))
        # Once it holds a slot a request may still wait in Scrapy's own slot: its randomised
        # delay, or AutoThrottle's (up to AUTOTHROTTLE_MAX_DELAY).
        local_wait = 1.5 * delay
        if settings.getbool("AUTOTHROTTLE_ENABLED"):
            local_wait = max(local_wait, settings.getfloat("AUTOTHROTTLE_MAX_DELAY", 60))
        middleware = cls(
            pacer,
            concurrency=settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 1),
            delay=delay,
            lease=timeout + local_wait + LEASE_MARGIN,
            max_backoff=crawl_setting(settings, "CRAWL_RETRY_MAX_WAIT"),
        )
        if shared:
            crawler.signals.connect(
                lambda **_: _SharedPacer.release(factory_path, store_url),
                signal=signals.engine_stopped,
                weak=False,
            )
        _say_once(
            f"politeness: {middleware.concurrency} request(s) at a time per domain and {middleware.delay:g} s "
            "between them, "
            + (
                f"for every crawl process on the store (slot lease {middleware.lease:.0f} s)"
                if shared
                else "for every source this crawl process fetches"
            )
        )
        return middleware

    @staticmethod
    def domain_of(request: Request) -> str:
        """Scrapy's download slot key: the ``download_slot`` meta, else the host name."""
        return str(request.meta.get("download_slot") or urlparse_cached(request).hostname or "")

    async def process_request(self, request: Request, spider: Any = None) -> None:
        if SLOT_META in request.meta:
            return  # it holds one already (a request sent again by a middleware before its response)
        domain = self.domain_of(request)
        holder = f"{self.holder_prefix} #{next(self._claims)}"
        waited = 0.0
        while True:
            try:
                turn = await self._run(
                    self.pacer.claim,
                    domain,
                    holder,
                    concurrency=self.concurrency,
                    delay=self.delay,
                    lease=self.lease,
                )
            except RegwatchError as exc:
                self._log_store_down(request, exc)
                return  # under the process's own limits only, until the store answers again
            self._store_up()
            if turn.slot is not None:
                break
            if turn.reason == "backoff":
                logger.info(
                    "url=%s domain %s backs off for %.1f s (Retry-After)", request.url, domain, turn.wait
                )
            waited += turn.wait
            await maybe_deferred_to_future(task.deferLater(_reactor(), turn.wait, lambda: None))
        if waited >= 1:
            logger.debug("url=%s waited %.1f s for a turn at %s", request.url, waited, domain)
        request.meta[SLOT_META] = (domain, turn.slot, holder)

    async def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        # The hold goes in before the slot is let go: released first, another process could take the
        # slot in between and send what the server just asked everyone to hold back.
        if response.status in BACKOFF_STATUSES:
            asked = retry_after(response)
            if asked is not None and asked > 0:
                seconds = min(asked, self.max_backoff)
                domain = self.domain_of(request)
                logger.warning(
                    "url=%s HTTP %d Retry-After %.0f s: every crawl holds off %s for %.0f s",
                    request.url,
                    response.status,
                    asked,
                    domain,
                    seconds,
                )
                await self._call(
                    self.pacer.back_off, domain, seconds, f"HTTP {response.status} {request.url}"
                )
        await self._release(request)
        return response

    async def process_exception(self, request: Request, exception: BaseException, spider: Any = None) -> None:
        await self._release(request)

    async def _release(self, request: Request) -> None:
        held = request.meta.pop(SLOT_META, None)
        if held is not None:
            domain, slot, holder = held
            await self._call(self.pacer.release, domain, slot, holder)

    async def _call(self, method: Callable[..., None], *args: Any) -> None:
        """A pacer call that must not fail the response: a store that is down is logged (its lease expires)."""
        try:
            await self._run(method, *args)
        except RegwatchError as exc:
            logger.error("fleet politeness: the store did not answer (%s)", exc)

    async def _run(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call the pacer: the store's in the reactor's thread pool, the local one at once."""
        if self._in_thread:
            return await maybe_deferred_to_future(threads.deferToThread(method, *args, **kwargs))
        return method(*args, **kwargs)

    def _log_store_down(self, request: Request, exc: RegwatchError) -> None:
        if not self._store_down:
            logger.error(
                "url=%s fleet politeness: the store did not answer (%s); requests go on under this "
                "process's own per-domain limits until it does",
                request.url,
                exc,
            )
            self._store_down = True

    def _store_up(self) -> None:
        if self._store_down:
            logger.info("fleet politeness: the store answers again")
            self._store_down = False


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor
