"""The desk's session: a signed cookie, and the CSRF token tied to it.

The cookie (``regwatch_session``) holds a random session id, and once signed in
the account's id and a fingerprint of its password hash (a password change ends
every session made before it). It is signed and timed with itsdangerous (key:
``Access.secret``), ``HttpOnly``, ``SameSite=Lax`` and ``Secure`` when served
over https (or a trusted proxy says so). Nothing else is kept server-side: a
removed account's session finds no account and is anonymous again.

Every visitor gets a session id, signed in or not, so the login form has a CSRF
token too. The token is an HMAC of the session id: a page from another site can
neither read it nor make one, and a new session (sign in, sign out) makes a new one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import MutableMapping
from http.cookies import SimpleCookie
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from ._access import Access
from ._security import ASGIApp, Message, Receive, Scope, Send

COOKIE = "regwatch_session"
CSRF_FIELD = "csrf_token"  # the form field
CSRF_HEADER = "x-csrf-token"  # the header htmx and API clients send


def new_session(**values: str) -> dict[str, str]:
    return {"sid": secrets.token_urlsafe(18), **values}


def csrf_token(secret: bytes, session: MutableMapping[str, Any]) -> str:
    return hmac.new(secret, b"csrf:" + str(session.get("sid", "")).encode(), hashlib.sha256).hexdigest()


def csrf_ok(secret: bytes, session: MutableMapping[str, Any], sent: str) -> bool:
    return bool(sent) and hmac.compare_digest(csrf_token(secret, session), sent)


class SessionCookies:
    """ASGI middleware: the request's session in ``request.state.session``, the cookie set when it changes.

    A route or dependency that changes the session sets ``request.state.session`` to the new one
    and ``request.state.session_changed = True``.
    """

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app = app
        self.access = access
        self.serializer = URLSafeTimedSerializer(access.secret, salt="regwatch-desk-session")

    def load(self, value: str) -> dict[str, str] | None:
        try:
            data = self.serializer.loads(value, max_age=self.access.session_seconds)
        except (BadSignature, ValueError, TypeError):
            return None
        return data if isinstance(data, dict) and isinstance(data.get("sid"), str) else None

    def dump(self, session: MutableMapping[str, Any]) -> str:
        return self.serializer.dumps(dict(session))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session = self.load(_cookie(scope, COOKIE) or "")
        state = scope.setdefault("state", {})
        state["session"] = session or new_session()
        state["session_changed"] = session is None

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and state.get("session_changed"):
                headers = list(message.get("headers", []))
                headers.append(
                    (b"set-cookie", self._cookie_header(scope, state["session"]).encode("latin-1"))
                )
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie_header(self, scope: Scope, session: MutableMapping[str, Any]) -> str:
        parts = [
            f"{COOKIE}={self.dump(session)}",
            "Path=/",
            f"Max-Age={self.access.session_seconds}",
            "HttpOnly",
            "SameSite=Lax",
        ]
        if self.secure(scope):
            parts.append("Secure")
        return "; ".join(parts)

    def secure(self, scope: Scope) -> bool:
        """Whether the cookie gets ``Secure``: WEB_SECURE_COOKIE, and for auto, https or a trusted proxy's word."""
        mode = self.access.secure_cookie
        if mode != "auto":
            return mode == "always"
        if scope.get("scheme") == "https":
            return True
        peer = (scope.get("client") or (None,))[0]
        forwarded = _header(scope, b"x-forwarded-proto").split(",")[0].strip().lower()
        return forwarded == "https" and self.access.trusts(peer)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001 - a malformed Cookie header is no session, not an error page
                continue
            if name in jar:
                return jar[name].value
    return None
