"""Helpers for the desk's account tests: accounts in a desk home, a desk with accounts, signing in."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from indexer import Store
from regwatch.models import Account

PASSWORDS = {"alice": "correct horse battery", "olly": "ops staple battery"}
SECRET = b"0123456789abcdef0123456789abcdef"


def add_accounts(home: Path) -> None:
    """alice (analyst) and olly (ops and analyst), with the passwords above."""
    from web import hash_password

    with Store.open(home / "regwatch.db") as store:
        store.users.add(Account("alice", "Alice Analyst", hash_password(PASSWORDS["alice"]), ("analyst",)))
        store.users.add(Account("olly", "Olly Ops", hash_password(PASSWORDS["olly"]), ("ops", "analyst")))


def accounts_client(
    home: Path, *, proxies: str = "", client: tuple[str, int] = ("127.0.0.1", 50000), **kw: Any
) -> Any:
    """A TestClient over a desk with accounts (use it as a context manager)."""
    from fastapi.testclient import TestClient

    from regwatch.app import App
    from regwatch.app.desk import AppDesk
    from web import Access, create_app

    app = App.load(home, home / "desk.yaml", overrides={"WEB_TRUSTED_PROXIES": proxies} if proxies else None)
    access = Access.for_server(app.settings, host="127.0.0.1", accounts=2, secret=SECRET)
    return TestClient(create_app(AppDesk(app), access=access), client=client, **kw)


def csrf_of(html: str) -> str:
    found = re.search(r'<meta name="csrf-token" content="([0-9a-f]+)">', html)
    assert found, html[:400]
    return found.group(1)


def sign_in(client: Any, name: str, password: str | None = None, next_url: str = "/") -> Any:
    """Sign in through the form as a browser does; the response of the POST."""
    page = client.get("/login")
    form = {
        "username": name,
        "password": PASSWORDS.get(name, "") if password is None else password,
        "csrf_token": csrf_of(page.text),
        "next": next_url,
    }
    return client.post("/login", data=form, follow_redirects=False)


def csrf(client: Any, path: str = "/") -> str:
    """The CSRF token of the client's session, read from a page as htmx reads it."""
    return csrf_of(client.get(path).text)
