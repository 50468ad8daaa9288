"""Downloader middlewares that keep a crawl polite and safe.

- :class:`SsrfGuardMiddleware` refuses requests (redirects included: each
  redirect is a new request through this chain) to non-HTTP(S) URLs and to
  hosts that are, or resolve to, private, loopback, link-local or otherwise
  non-public addresses, unless the ``host:port`` is allowed for the request's
  source (its ``allowed_hosts``) or for all (CRAWL_ALLOWED_HOSTS); a host that
  does not resolve is refused as a DNS error. The resolver in ``_ssrf`` checks
  the address actually connected to again.
- :class:`BackoffRetryMiddleware` is Scrapy's retry middleware with a wait
  before each retry of a 429/5xx: the server's ``Retry-After`` when it sends
  one (up to CRAWL_RETRY_MAX_WAIT; a longer one is not retried), else an
  exponential backoff from CRAWL_RETRY_BACKOFF.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import CannotResolveHostError, IgnoreRequest
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.response import response_status_message
from twisted.internet import task

from regwatch.models import DEFAULT_PORTS

from ._ssrf import SSRF_REFUSAL, AllowedHosts, lookup, not_public, refusal_advice
from .settings import crawl_setting

logger = logging.getLogger(__name__)


class SsrfGuardMiddleware:
    """Refuse requests to non-public addresses and non-HTTP(S) URLs (see the module docstring)."""

    def __init__(
        self, allowed: AllowedHosts | str | Iterable[str] = (), crawler: Crawler | None = None
    ) -> None:
        self.allowed = allowed if isinstance(allowed, AllowedHosts) else AllowedHosts.parse(allowed)
        self.crawler = crawler
        self._source_allowed: AllowedHosts | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SsrfGuardMiddleware:
        return cls(AllowedHosts.parse(crawl_setting(crawler.settings, "CRAWL_ALLOWED_HOSTS")), crawler)

    def allowed_now(self) -> AllowedHosts:
        """CRAWL_ALLOWED_HOSTS plus the ``allowed_hosts`` of this crawler's source."""
        if self._source_allowed is None:
            spider = getattr(self.crawler, "spider", None)
            if spider is None:
                return self.allowed  # not open yet: nothing of the source's applies
            source = getattr(spider, "source", None)
            self._source_allowed = self.allowed | AllowedHosts.parse(getattr(source, "allowed_hosts", None))
        return self._source_allowed

    async def process_request(self, request: Request, spider: Any = None) -> None:
        reason = await self.refusal(request.url, self.allowed_now())
        if reason:
            raise IgnoreRequest(f"{SSRF_REFUSAL}: {reason}")

    async def refusal(self, url: str, allowed: AllowedHosts | None = None) -> str:
        """Why ``url`` must not be fetched ("" when it may be).

        Raises CannotResolveHostError when its host does not resolve: the
        downloader would look it up again and might get another answer.
        """
        allowed = self.allowed if allowed is None else allowed
        split = urlsplit(url)
        if split.scheme not in ("http", "https"):
            return f"scheme {split.scheme or 'none'!r} is not http(s)"
        host = (split.hostname or "").lower()
        if not host:
            return "no host"
        try:
            port = split.port or DEFAULT_PORTS[split.scheme]
        except ValueError:
            return f"{split.netloc!r} has no valid port"
        if allowed.allows(host, port, split.scheme):
            return ""
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            found = await maybe_deferred_to_future(lookup(host))
            if not found:
                raise CannotResolveHostError(f"DNS lookup failed: no address for {host}") from None
            addresses = [ipaddress.ip_address(address) for address in found]
        for address in addresses:
            kind = not_public(address)
            if kind:
                return f"{host}:{port} is a {kind} address ({address}); {refusal_advice(host, port)}"
        return ""


def retry_after(response: Response, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or an HTTP date), or None."""
    raw = (response.headers.get(b"Retry-After") or b"").decode("latin-1").strip()
    if not raw:
        return None
    if raw.isdigit():
        return float(raw)
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    """Retry 429/5xx after ``Retry-After`` or an exponential backoff (see the module docstring)."""

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.backoff = max(0.0, crawl_setting(settings, "CRAWL_RETRY_BACKOFF"))
        self.max_wait = max(0.0, crawl_setting(settings, "CRAWL_RETRY_MAX_WAIT"))

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response, spider: Any = None
    ) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retries = int(request.meta.get("retry_times", 0))
        if retries < int(request.meta.get("max_retry_times", self.max_retry_times)):
            asked = retry_after(response)
            wait = asked if asked is not None else self.backoff * (2**retries)
            if asked is not None and asked > self.max_wait:
                logger.warning(
                    "url=%s HTTP %d asks to retry after %.0f s, more than CRAWL_RETRY_MAX_WAIT=%g: not retried",
                    request.url,
                    response.status,
                    asked,
                    self.max_wait,
                )
                return response
            wait = min(wait, self.max_wait)
            if wait > 0:
                logger.info("url=%s HTTP %d: retrying in %.1f s", request.url, response.status, wait)
                await maybe_deferred_to_future(task.deferLater(_reactor(), wait, lambda: None))
        return self._retry(request, response_status_message(response.status)) or response


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor
