"""Who may use the desk, decided once when it starts: one local user, or accounts (and a trusted proxy).

- Bound to a loopback address with no account and no trusted proxy, the desk
  runs as one local user with both roles: whoever can reach 127.0.0.1 is already
  on this machine.
- With accounts (``regwatch users add``), everyone signs in (``/login``), whatever
  the address; an API client may send an account's token instead
  (``Authorization: Bearer …``).
- With ``WEB_TRUSTED_PROXIES``, a request *from one of those addresses* that names
  a user in ``WEB_PROXY_USER_HEADER`` (``X-Forwarded-User``) is that user (single
  sign-on at the proxy); the header from anywhere else is ignored.
- Bound to any other address with neither, the desk refuses to start.

The session cookie is signed with ``WEB_SECRET``, or a random key kept in the
home dir (``web-secret``, 0600) so sign-ins survive a restart.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from regwatch.errors import ConfigError
from regwatch.private import private_file

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
SECRET_FILE = "web-secret"
SECURE_COOKIE_MODES = ("auto", "always", "never")
LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address, ``[v6]`` or localhost) is a loopback address."""
    host = host.strip().strip("[]")
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_networks(text: str) -> tuple[Network, ...]:
    """``WEB_TRUSTED_PROXIES``: comma-separated addresses or networks (``10.0.0.5, 192.168.1.0/24``)."""
    networks = []
    for item in (part.strip() for part in str(text or "").split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
        except ValueError:
            raise ConfigError(
                f"setting WEB_TRUSTED_PROXIES: {item!r} is not an address or network (e.g. 10.0.0.5 or 10.0.0.0/24)"
            ) from None
    return tuple(networks)


def load_or_create_secret(home: Path) -> bytes:
    """The key in ``HOME/web-secret``, made (random, 0600) the first time."""
    path = Path(home) / SECRET_FILE
    private_file(path)
    text = path.read_text(encoding="ascii", errors="replace").strip()
    if len(text) < 32:
        text = secrets.token_hex(32)
        path.write_text(text + "\n", encoding="ascii")
    return text.encode()


@dataclass(frozen=True)
class Access:
    """How the desk tells who is using it (see the module docstring)."""

    secret: bytes
    accounts: bool = False  # False: everyone is the one local user
    trusted_proxies: tuple[Network, ...] = ()
    proxy_header: str = "x-forwarded-user"
    secure_cookie: str = "auto"
    session_seconds: int = 12 * 3600
    login_attempts: int = 10
    login_window: float = 900.0

    @classmethod
    def local(cls, secret: bytes | None = None) -> Access:
        """No accounts: everyone is the one local user (tests, benchmarks, a desk on loopback)."""
        return cls(secret=secret or secrets.token_bytes(32))

    @classmethod
    def for_server(cls, settings: Mapping[str, Any], *, host: str, accounts: int, secret: bytes) -> Access:
        """The access of a desk bound to ``host`` with ``accounts`` accounts in the store.

        ConfigError (one line, what to do) when it must not start: another address than
        loopback without accounts or a trusted proxy, or a bad ``WEB_*`` value.
        """
        proxies = parse_networks(settings["WEB_TRUSTED_PROXIES"])
        secure = str(settings["WEB_SECURE_COOKIE"]).strip().lower()
        if secure not in SECURE_COOKIE_MODES:
            raise ConfigError(
                f"setting WEB_SECURE_COOKIE must be one of {', '.join(SECURE_COOKIE_MODES)}, got {secure!r}"
            )
        header = str(settings["WEB_PROXY_USER_HEADER"]).strip().lower()
        if proxies and not header:
            raise ConfigError("setting WEB_PROXY_USER_HEADER is empty: name the header the proxy sets")
        if not accounts and not proxies:
            if not is_loopback(host):
                raise ConfigError(
                    f"the desk has no accounts and no trusted proxy, so it serves on a loopback address only "
                    f"(127.0.0.1 or ::1), not {host}: add one with `regwatch users add NAME`, or set "
                    f"WEB_TRUSTED_PROXIES"
                )
            return cls.local(secret)
        return cls(
            secret=secret,
            accounts=True,
            trusted_proxies=proxies,
            proxy_header=header,
            secure_cookie=secure,
            session_seconds=int(settings["WEB_SESSION_HOURS"]) * 3600,
            login_attempts=int(settings["WEB_LOGIN_ATTEMPTS"]),
            login_window=float(settings["WEB_LOGIN_WINDOW"]),
        )

    def trusts(self, address: str | None) -> bool:
        """Whether ``address`` (the connecting peer) is one of the trusted proxies."""
        if not address or not self.trusted_proxies:
            return False
        try:
            peer = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(peer in network for network in self.trusted_proxies)
