"""Security headers on every response, and the only links a page may render.

The Content-Security-Policy allows scripts and styles from the desk itself only:
no inline script or style anywhere (htmx is configured not to add its
indicator styles nor to evaluate attributes), no framing, no plugins, forms
posting only here. Links to original articles carry ``rel="noopener
noreferrer"`` and the referrer policy sends nothing to other sites.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class SecurityHeaders:
    """ASGI middleware: the security headers on every HTTP response, streamed ones included.

    Also ``Server-Timing: app;dur=…`` (milliseconds until the response started), which the
    browser's tools and ``make bench-web`` read.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        import time

        started = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server-timing"]
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                elapsed = (time.perf_counter() - started) * 1000
                headers.append((b"server-timing", f"app;dur={elapsed:.2f}".encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def safe_href(url: str) -> str | None:
    """``url`` if it is an http(s) URL a page may link to, else None (javascript:, data:, relative…)."""
    text = (url or "").strip()
    scheme, sep, rest = text.partition(":")
    if sep and scheme.lower() in {"http", "https"} and rest.startswith("//") and len(rest) > 2:
        if any(ch.isspace() or ord(ch) < 32 for ch in text):
            return None
        return text
    return None
