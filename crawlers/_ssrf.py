"""The SSRF guard's parts: which hosts may be non-public, and a resolver that refuses the rest.

A crawl follows links written by other people, so it must never be steered to
the machine's own services (a search cluster on 127.0.0.1:9200, a cloud
metadata address) or the private network. Two checks make sure of it:

- :class:`~crawlers._middlewares.SsrfGuardMiddleware` decides per request and
  per source, before anything is sent: http(s) only, and a host that resolves
  to a private, loopback, link-local or otherwise non-public address is refused
  unless its ``host:port`` is allowed for that source (its ``allowed_hosts``
  field) or for every source (CRAWL_ALLOWED_HOSTS). A host that cannot be
  resolved is refused too, as a DNS error.
- :class:`PublicOnlyResolver` is the reactor's name resolver (Scrapy's
  ``TWISTED_DNS_RESOLVER``), so it answers the look-up the downloader connects
  with: it drops every non-public address unless the ``host:port`` is allowed
  for some source of the crawl. A DNS answer that changes between the two
  look-ups (a failure then a private address, or a rebinding attack) is caught
  here, so the address checked is the address connected to. (Through a proxy,
  the proxy connects; these checks then see only the proxy.)

Allowed entries are ``host:port`` (or an ``http(s)://host:port`` origin); a
bare ``host`` allows only ports 80 and 443, so allowing a local site never
opens the other services on the same address. A host name is matched as the
URL writes it: allowing ``127.0.0.1:8123`` does not allow a name that resolves
to 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from scrapy.resolver import CachingThreadedResolver
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IAddress, IHostnameResolver, IHostResolution, IResolutionReceiver
from zope.interface import implementer

from regwatch.models import DEFAULT_PORTS, parse_allowed_host

from .settings import crawl_setting

logger = logging.getLogger(__name__)

SSRF_REFUSAL = "refused by the SSRF guard"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# host -> why the resolver refused to connect to it (read when the download fails, to report it
# as the guard's refusal rather than as a DNS failure). One crawl process, one crawl: kept small.
_REFUSED: dict[str, str] = {}
_REFUSED_MAX = 1000


def not_public(address: IPAddress) -> str:
    """What kind of non-public address ``address`` is ("" when it is a public one)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for kind in ("loopback", "private", "link_local", "multicast", "reserved", "unspecified"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return "" if address.is_global else "non-public"


@dataclass(frozen=True)
class AllowedHosts:
    """A set of allowed ``(host, port)`` pairs; port None: the scheme's default port only."""

    entries: frozenset[tuple[str, int | None]] = frozenset()

    @classmethod
    def parse(cls, *values: str | Iterable[str] | None) -> AllowedHosts:
        """From comma-separated strings and/or lists of entries (checked when the config loads)."""
        entries: set[tuple[str, int | None]] = set()
        for value in values:
            items = value.split(",") if isinstance(value, str) else (value or [])
            entries.update(parse_allowed_host(item) for item in items if item and item.strip())
        return cls(frozenset(entries))

    def __or__(self, other: AllowedHosts) -> AllowedHosts:
        return AllowedHosts(self.entries | other.entries)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def allows(self, host: str, port: int, scheme: str = "") -> bool:
        """Whether ``host:port`` is allowed; without a scheme a bare host matches 80 and 443."""
        host = host.lower().strip("[]").rstrip(".")
        if (host, port) in self.entries:
            return True
        if (host, None) not in self.entries:
            return False
        return port == DEFAULT_PORTS.get(scheme) if scheme else port in DEFAULT_PORTS.values()


def connect_refusal(host: str) -> str:
    """Why the resolver refused to connect to ``host`` in this process ("" if it did not)."""
    return _REFUSED.get(host.lower().strip("[]").rstrip("."), "")


def _remember_refusal(host: str, reason: str) -> None:
    if len(_REFUSED) >= _REFUSED_MAX:
        _REFUSED.pop(next(iter(_REFUSED)))
    _REFUSED[host.lower().rstrip(".")] = reason


def refusal_advice(host: str, port: int) -> str:
    """What to write to allow ``host:port`` (the hint every refusal ends with)."""
    shown = f"[{host}]" if ":" in host else host
    return f"add {shown}:{port} to the source's allowed_hosts (or to CRAWL_ALLOWED_HOSTS) to allow it"


@implementer(IResolutionReceiver)
class _PublicOnlyReceiver:
    """Passes on the public addresses of a look-up, and the allowed ones; drops the rest."""

    def __init__(self, receiver: IResolutionReceiver, host: str, port: int, allowed: AllowedHosts) -> None:
        self.receiver = receiver
        self.host = host
        self.port = port
        self.allowed = allowed
        self.dropped: list[str] = []

    def resolutionBegan(self, resolution: IHostResolution) -> None:  # noqa: N802 - Twisted's interface
        # Twisted's zope interfaces declare methods without ``self``, which mypy (without the
        # mypy-zope plugin) reads as one argument too many on these three calls.
        self.receiver.resolutionBegan(resolution)  # type: ignore[call-arg, misc]

    def addressResolved(self, address: IAddress) -> None:  # noqa: N802 - Twisted's interface
        try:
            ip = ipaddress.ip_address(getattr(address, "host", ""))
        except ValueError:
            kind = "unreadable"
        else:
            kind = not_public(ip)
        if kind and not self.allowed.allows(self.host, self.port):
            self.dropped.append(f"{getattr(address, 'host', address)} ({kind})")
            return
        self.receiver.addressResolved(address)  # type: ignore[call-arg, misc]

    def resolutionComplete(self) -> None:  # noqa: N802 - Twisted's interface
        if self.dropped:
            reason = (
                f"{self.host}:{self.port} resolved to a non-public address {', '.join(self.dropped)} "
                f"when connecting; {refusal_advice(self.host, self.port)}"
            )
            _remember_refusal(self.host, reason)
            logger.info("SSRF guard: not connecting to %s", reason)
        self.receiver.resolutionComplete()  # type: ignore[misc]


@implementer(IResolutionReceiver)
class _Collector:
    """Collects a look-up's addresses into a Deferred list (empty: the name did not resolve)."""

    def __init__(self) -> None:
        self.addresses: list[str] = []
        self.done: Deferred[list[str]] = Deferred()

    def resolutionBegan(self, resolution: IHostResolution) -> None:  # noqa: N802 - Twisted's interface
        pass

    def addressResolved(self, address: IAddress) -> None:  # noqa: N802 - Twisted's interface
        host = getattr(address, "host", "")
        if host and host not in self.addresses:
            self.addresses.append(host)

    def resolutionComplete(self) -> None:  # noqa: N802 - Twisted's interface
        self.done.callback(self.addresses)


@implementer(IHostnameResolver)
class PublicOnlyResolver:
    """The reactor's name resolver during a crawl: Scrapy's caching resolver, minus non-public answers.

    Installed through Scrapy's ``TWISTED_DNS_RESOLVER`` setting, so every
    connection the downloader opens (and every ``reactor.resolve``) goes
    through :meth:`resolveHostName`. The allowed hosts are the union over the
    crawl's sources (``REGWATCH_CONNECT_ALLOWED_HOSTS``) and CRAWL_ALLOWED_HOSTS:
    the resolver cannot tell which source asks, so the middleware keeps each
    source to its own.
    """

    def __init__(self, reactor: Any, lookups: Any, allowed: AllowedHosts) -> None:
        self.reactor = reactor
        self.lookups = lookups  # Scrapy's caching IResolverSimple: what actually asks the system
        self.allowed = allowed
        self.unguarded: Any = None  # the name resolver around ``lookups``, set on install

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> PublicOnlyResolver:
        settings = crawler.settings
        allowed = AllowedHosts.parse(
            crawl_setting(settings, "CRAWL_ALLOWED_HOSTS"),
            settings.getlist("REGWATCH_CONNECT_ALLOWED_HOSTS"),
        )
        return cls(reactor, CachingThreadedResolver.from_crawler(crawler, reactor), allowed)

    def install_on_reactor(self) -> None:
        self.reactor.installResolver(self.lookups)
        self.unguarded = self.reactor.nameResolver
        self.reactor.installNameResolver(self)

    def resolveHostName(  # noqa: N802 - Twisted's interface
        self,
        resolutionReceiver: IResolutionReceiver,  # noqa: N803
        hostName: str,  # noqa: N803
        portNumber: int = 0,  # noqa: N803
        addressTypes: Sequence[type[IAddress]] | None = None,  # noqa: N803
        transportSemantics: str = "TCP",  # noqa: N803
    ) -> IHostResolution:
        receiver = _PublicOnlyReceiver(resolutionReceiver, hostName, portNumber, self.allowed)
        resolution: IHostResolution = self.unguarded.resolveHostName(
            receiver, hostName, portNumber, addressTypes, transportSemantics
        )
        return resolution


def lookup(host: str) -> Deferred[list[str]]:
    """Every address ``host`` resolves to now (empty: it does not resolve), unfiltered.

    Through the crawl's own caching resolver, so the middleware and the
    downloader normally see the same answer; the resolver re-checks it anyway.
    """
    from twisted.internet import reactor

    resolver = reactor.nameResolver
    if isinstance(resolver, PublicOnlyResolver) and resolver.unguarded is not None:
        resolver = resolver.unguarded
    collector = _Collector()
    resolver.resolveHostName(collector, host, 0)
    return collector.done
