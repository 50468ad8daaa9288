"""Downloader middlewares that keep a crawl polite and safe.

- :class:`SsrfGuardMiddleware` refuses requests (redirects included: each
  redirect is a new request through this chain) to non-HTTP(S) URLs and to
  hosts that are, or resolve to, private, loopback, link-local or otherwise
  non-public addresses, unless the host is listed in CRAWL_ALLOWED_HOSTS.
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
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.response import response_status_message
from twisted.internet import task

logger = logging.getLogger(__name__)

SSRF_REFUSAL = "refused by the SSRF guard"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def allowed_hosts(value: str | Iterable[str]) -> frozenset[str]:
    """CRAWL_ALLOWED_HOSTS (comma-separated, or a list) as a set of lower-case hosts."""
    items = value.split(",") if isinstance(value, str) else value
    return frozenset(item.strip().lower().strip("[]") for item in items if item and item.strip())


def _not_public(address: IPAddress) -> str:
    """What kind of non-public address ``address`` is ("" when it is a public one)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for kind in ("loopback", "private", "link_local", "multicast", "reserved", "unspecified"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return "" if address.is_global else "non-public"


def _resolve(host: str) -> Any:
    from twisted.internet import reactor

    return reactor.resolve(host)  # type: ignore[attr-defined]  # Scrapy's caching resolver


class SsrfGuardMiddleware:
    """Refuse requests to non-public addresses and non-HTTP(S) URLs (see the module docstring)."""

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self.allowed = allowed_hosts(allowed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SsrfGuardMiddleware:
        return cls(allowed_hosts(crawler.settings.get("REGWATCH_ALLOWED_HOSTS", "") or ""))

    async def process_request(self, request: Request, spider: Any = None) -> None:
        reason = await self.refusal(request.url)
        if reason:
            raise IgnoreRequest(f"{SSRF_REFUSAL}: {reason}")

    async def refusal(self, url: str) -> str:
        """Why ``url`` must not be fetched ("" when it may be)."""
        split = urlsplit(url)
        if split.scheme not in ("http", "https"):
            return f"scheme {split.scheme or 'none'!r} is not http(s)"
        host = (split.hostname or "").lower()
        if not host:
            return "no host"
        if host in self.allowed:
            return ""
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                resolved = await maybe_deferred_to_future(_resolve(host))
            except Exception:  # noqa: BLE001 - unresolvable: the download reports it as a DNS error
                return ""
            addresses = [ipaddress.ip_address(resolved)]
        for address in addresses:
            if str(address) in self.allowed:
                continue
            kind = _not_public(address)
            if kind:
                return f"{host} is a {kind} address ({address}); list the host in CRAWL_ALLOWED_HOSTS to allow it"
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
        self.backoff = max(0.0, settings.getfloat("REGWATCH_RETRY_BACKOFF", 1.0))
        self.max_wait = max(0.0, settings.getfloat("REGWATCH_RETRY_MAX_WAIT", 60.0))

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
