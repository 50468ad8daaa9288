"""Who is asking, what they may do, and the sign-in pages: ``current_user``, roles, CSRF, ``/login``.

:func:`current_user` is the one dependency every route has (``create_app`` sets
it app-wide). It finds the user (see ``_access``: the one local user; an API
token; a trusted proxy's header; the signed session), sends anyone else to
``/login`` (an API call gets a 401), and checks the CSRF token of every request
that may change something (POST, PUT, PATCH, DELETE: a form's ``csrf_token``
field or the ``X-CSRF-Token`` header htmx and scripts send; a request made with
an API token carries no cookie and needs none). No GET changes anything.
:func:`require_role` guards the analyst's and the ops console's routes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from regwatch.models import Account

from ._access import Access
from ._passwords import password_fingerprint, token_digest, verify_password
from ._services import User
from ._sessions import CSRF_FIELD, CSRF_HEADER, csrf_ok, csrf_token, new_session

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_PATHS = frozenset({"/login", "/logout"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MAX_NAME_CHARS = 100
CSRF_REFUSED = "This form came from an old page or from another site: reload the page and try again."


class NotSignedIn(Exception):
    """No user for a page that needs one: a sign-in page for a browser, a 401 for the API."""

    def __init__(self, message: str = "Sign in to use the desk.") -> None:
        super().__init__(message)
        self.message = message


def _account(desk: Any, account_id: str) -> Account | None:
    """The account (on the store thread: the store is opened and used there only)."""
    return desk.store.users.get(account_id)  # type: ignore[no-any-return]


def _user_of(account: Account, auth: str) -> User:
    return User(id=account.id, name=account.name, roles=tuple(account.roles), auth=auth)


async def _identify(request: Request, access: Access) -> User | None:
    """The user of a request to a desk with accounts, or None (see the module docstring)."""
    desk = request.app.state.desk
    worker = request.app.state.worker
    authorization = request.headers.get("authorization", "")
    if authorization[:7].lower() == "bearer " and request.url.path.startswith("/api/"):
        digest = token_digest(authorization[7:].strip())
        account = await worker.run(lambda: desk.store.users.by_token(digest))
        if account is None:
            raise NotSignedIn("The API token is not valid: make a new one with `regwatch users token NAME`.")
        return _user_of(account, "token")
    peer = request.client.host if request.client else None
    named = request.headers.get(access.proxy_header, "").strip() if access.trusted_proxies else ""
    if named:
        if not access.trusts(peer):
            log.warning("Desk: %s header from %s ignored: not a trusted proxy", access.proxy_header, peer)
        elif len(named) <= MAX_NAME_CHARS and named.isprintable():
            account = await worker.run(_account, desk, named)
            # Someone the proxy signed in without an account here is an analyst.
            return _user_of(account, "proxy") if account else User(id=named, name=named, auth="proxy")
    session = request.state.session
    uid = session.get("uid")
    if not uid:
        return None
    account = await worker.run(_account, desk, uid)
    if account is None or password_fingerprint(account.password_hash) != session.get("pw"):
        return None  # removed, or the password changed since this session began
    return _user_of(account, "session")


async def current_user(request: Request) -> User | None:
    """The user of this request (None only on the sign-in pages); see the module docstring.

    ``async`` so FastAPI calls it on the event loop, not through a thread pool per request.
    """
    access: Access = request.app.state.access
    session = request.state.session
    user = await _identify(request, access) if access.accounts else request.app.state.local_user
    request.state.user = user
    request.state.csrf = csrf_token(access.secret, session)
    if user is None and request.url.path not in PUBLIC_PATHS:
        raise NotSignedIn()
    if request.method not in SAFE_METHODS and not (user is not None and user.auth == "token"):
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent and request.headers.get("content-type", "").startswith(FORM_TYPES):
            sent = str((await request.form()).get(CSRF_FIELD) or "")
        if not csrf_ok(access.secret, session, sent):
            log.warning("Desk: %s %s refused: no valid CSRF token", request.method, request.url.path)
            raise HTTPException(403, CSRF_REFUSED)
    return user


def require_role(role: str) -> Callable[[Request], Awaitable[User]]:
    """A dependency: the request's user, if they have ``role`` (else a 403 naming it)."""

    async def check(request: Request) -> User:
        user: User | None = getattr(request.state, "user", None)
        if user is None:
            raise NotSignedIn()
        if role not in user.roles:
            raise HTTPException(
                403, f"This page needs the {role} role, which your account does not have: ask ops for it."
            )
        return user

    check.__name__ = f"require_{role}"
    return check


def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
    """The answer to a request without a user: 401 for the API and htmx, else the sign-in page."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    login = "/login?next=" + quote(target, safe="")
    if request.url.path.startswith("/api/") or request.url.path.startswith("/export.json"):
        return JSONResponse({"error": exc.message}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
    if request.headers.get("HX-Request") == "true":
        return Response(exc.message, status_code=401, headers={"HX-Redirect": login})
    return RedirectResponse(login, status_code=303)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this desk, never another site."""
    text = (target or "").strip()
    parts = urlsplit(text)
    if not text.startswith("/") or text.startswith("//") or "\\" in text or parts.scheme or parts.netloc:
        return "/"
    return text


class LoginThrottle:
    """Failed sign-ins per account name and per address within a window; past the limit, refused.

    In memory: a restart forgets them, and argon2's cost still slows every guess.
    """

    def __init__(self, attempts: int, window: float) -> None:
        self.attempts = attempts
        self.window = window
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def blocked(self, name: str, address: str) -> float:
        """Seconds until another try is allowed (0: now)."""
        now = time.monotonic()
        waits = []
        for key, limit in (
            (f"name:{name.casefold()}", self.attempts),
            (f"addr:{address}", self.attempts * 3),
        ):
            times = self._recent(key, now)
            if len(times) >= limit:
                waits.append(self.window - (now - times[0]))
        return max(waits, default=0.0)

    def failed(self, name: str, address: str) -> None:
        now = time.monotonic()
        for key in (f"name:{name.casefold()}", f"addr:{address}"):
            self._recent(key, now).append(now)

    def succeeded(self, name: str) -> None:
        self._failures.pop(f"name:{name.casefold()}", None)


def _login_page(
    request: Request, next_url: str, error: str = "", name: str = "", status: int = 200
) -> Response:
    from ._app import render

    access: Access = request.app.state.access
    return render(
        request,
        "login.html.j2",
        {"next": next_url, "error": error, "name": name, "proxy": bool(access.trusted_proxies)},
        status,
    )


@router.get("/login")
async def login_form(request: Request) -> Response:
    next_url = safe_next(request.query_params.get("next"))
    access: Access = request.app.state.access
    if not access.accounts or request.state.user is not None:
        return RedirectResponse(next_url, status_code=303)
    return _login_page(request, next_url)


@router.post("/login")
async def login(request: Request) -> Response:
    access: Access = request.app.state.access
    form = await request.form()
    name = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    next_url = safe_next(str(form.get("next") or ""))
    if not access.accounts:
        return RedirectResponse(next_url, status_code=303)
    throttle: LoginThrottle = request.app.state.login_throttle
    address = request.client.host if request.client else "?"
    wait = throttle.blocked(name, address)
    if wait > 0:
        log.warning("Desk: sign-in as %r from %s refused: too many failures", name[:MAX_NAME_CHARS], address)
        minutes = max(1, round(wait / 60))
        message = f"Too many failed sign-ins: try again in {minutes} minute{'s' if minutes != 1 else ''}."
        return _login_page(request, next_url, message, name, 429)
    desk = request.app.state.desk
    account = await request.app.state.worker.run(_account, desk, name) if name else None
    # argon2 takes tens of milliseconds: off the event loop and off the store thread.
    ok = await asyncio.to_thread(verify_password, account.password_hash if account else "", password)
    if account is None or not ok:
        throttle.failed(name, address)
        log.info("Desk: failed sign-in as %r from %s", name[:MAX_NAME_CHARS], address)
        return _login_page(request, next_url, "Wrong account name or password.", name, 401)
    throttle.succeeded(name)
    await request.app.state.worker.run(lambda: desk.store.users.record_login(account.id))
    log.info("Desk: %s signed in from %s", account.id, address)
    # A new session id on sign-in: a session id planted before it (fixation) is worth nothing after.
    request.state.session = new_session(uid=account.id, pw=password_fingerprint(account.password_hash))
    request.state.session_changed = True
    return RedirectResponse(next_url, status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    user: User | None = request.state.user
    if user is not None and user.auth == "session":
        log.info("Desk: %s signed out", user.id)
    request.state.session = new_session()
    request.state.session_changed = True
    access: Access = request.app.state.access
    return RedirectResponse("/login" if access.accounts else "/", status_code=303)


def install(app: Any, access: Access) -> None:
    """Sign-in routes, the throttle and the not-signed-in handler on ``app``."""
    app.state.access = access
    app.state.login_throttle = LoginThrottle(access.login_attempts, access.login_window)
    app.include_router(router)
    app.add_exception_handler(NotSignedIn, not_signed_in)
