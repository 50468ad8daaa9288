"""Accounts on the desk: signing in and out, wrong passwords, CSRF, roles, the proxy header, the bind rule,
and `regwatch users`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Cli
from desk_accounts import PASSWORDS, SECRET, accounts_client, add_accounts, csrf, csrf_of, sign_in
from web_fixtures import desk_client

from regwatch.errors import ConfigError


@pytest.fixture
def home(desk_home: Path) -> Path:
    add_accounts(desk_home)
    return desk_home


@pytest.fixture
def desk(home: Path) -> Any:
    with accounts_client(home) as client:
        yield client


# -- signing in -------------------------------------------------------------------------


def test_without_signing_in_a_page_leads_to_the_sign_in_form_and_the_api_answers_401(desk: Any) -> None:
    page = desk.get("/?q=grok", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=%2F%3Fq%3Dgrok"
    form = desk.get(page.headers["location"])
    assert form.status_code == 200 and 'id="login-form"' in form.text and 'id="nav-ops"' not in form.text
    api = desk.get("/api/search?q=grok")
    assert api.status_code == 401 and api.json() == {"error": "Sign in to use the desk."}
    assert desk.get("/static/desk.css").status_code == 200
    fragment = desk.get("/?q=grok", headers={"HX-Request": "true"}, follow_redirects=False)
    assert fragment.status_code == 401 and fragment.headers["HX-Redirect"].startswith("/login?next=")


def test_signing_in_opens_the_desk_with_a_session_cookie_that_scripts_cannot_read(desk: Any) -> None:
    response = sign_in(desk, "alice", next_url="/?q=grok")
    assert response.status_code == 303 and response.headers["location"] == "/?q=grok"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("regwatch_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on loopback
    page = desk.get("/?q=grok")
    assert page.status_code == 200 and "Signed in as <strong>Alice Analyst</strong>" in page.text
    assert "4 results" in page.text and 'id="sign-out"' in page.text
    assert 'id="nav-saved"' in page.text and 'id="nav-ops"' not in page.text  # an analyst, not ops
    assert desk.get("/api/search?q=grok").json()["total"] == 4


def test_a_wrong_password_or_an_unknown_name_signs_nobody_in(desk: Any) -> None:
    for name, password in (("alice", "wrong password!"), ("mallory", "correct horse battery"), ("alice", "")):
        response = sign_in(desk, name, password)
        assert response.status_code == 401
        assert "Wrong account name or password." in response.text
        assert desk.get("/", follow_redirects=False).status_code == 303


def test_after_too_many_failures_even_the_right_password_waits(home: Path) -> None:
    with accounts_client(home) as desk:
        throttle = desk.app.state.login_throttle
        for _ in range(throttle.attempts):
            assert sign_in(desk, "alice", "not the password").status_code == 401
        refused = sign_in(desk, "alice")
        assert refused.status_code == 429 and "Too many failed sign-ins" in refused.text
        assert sign_in(desk, "olly").status_code == 303  # another account is not locked out


def test_the_next_page_after_signing_in_is_always_on_the_desk(desk: Any) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        desk.cookies.clear()
        response = sign_in(desk, "alice", next_url=target)
        assert response.headers["location"] == "/", target


def test_signing_out_ends_the_session(desk: Any) -> None:
    sign_in(desk, "alice")
    token = csrf(desk)
    response = desk.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert desk.get("/", follow_redirects=False).status_code == 303


def test_a_password_change_or_a_removed_account_ends_its_sessions(home: Path, desk: Any) -> None:
    sign_in(desk, "alice")
    assert desk.get("/", follow_redirects=False).status_code == 200
    Cli(home, home / "desk.yaml")(
        "users", "passwd", "alice", "--password-stdin", input="a brand new password\n"
    )
    assert desk.get("/", follow_redirects=False).status_code == 303
    assert sign_in(desk, "alice", "a brand new password").status_code == 303
    Cli(home, home / "desk.yaml")("users", "remove", "alice")
    assert desk.get("/", follow_redirects=False).status_code == 303


def test_a_forged_or_stale_session_cookie_is_no_session(desk: Any) -> None:
    sign_in(desk, "alice")
    value = desk.cookies.get("regwatch_session")
    desk.cookies.clear()
    desk.cookies.set("regwatch_session", value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))
    assert desk.get("/", follow_redirects=False).status_code == 303


# -- CSRF ---------------------------------------------------------------------------------


def test_a_post_without_the_sessions_csrf_token_is_refused(desk: Any, home: Path) -> None:
    form = {"username": "alice", "password": PASSWORDS["alice"], "next": "/"}
    assert desk.post("/login", data=form).status_code == 403  # no token
    assert desk.post("/login", data={**form, "csrf_token": "0" * 64}).status_code == 403
    with accounts_client(home) as other:  # a token of another session is no good here
        stolen = csrf_of(other.get("/login").text)
    refused = desk.post("/login", data={**form, "csrf_token": stolen}, follow_redirects=False)
    assert refused.status_code == 403 and "reload the page" in refused.text
    sign_in(desk, "alice")
    assert desk.post("/logout", data={}, follow_redirects=False).status_code == 403
    assert desk.get("/", follow_redirects=False).status_code == 200  # still signed in
    header = desk.post("/logout", headers={"X-CSRF-Token": csrf(desk)}, follow_redirects=False)
    assert header.status_code == 303  # htmx sends it as a header


def test_the_local_user_of_a_loopback_desk_needs_the_csrf_token_too(desk_home: Path) -> None:
    with desk_client(desk_home) as local:
        page = local.get("/")
        assert "one local user, no accounts" in page.text
        assert local.post("/logout", data={}).status_code == 403
        assert (
            local.post("/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False).status_code
            == 303
        )


def test_the_sign_in_token_changes_with_the_session(desk: Any) -> None:
    before = csrf_of(desk.get("/login").text)
    sign_in(desk, "alice")
    assert csrf(desk) != before  # a new session id on sign-in


# -- the proxy header -----------------------------------------------------------------------


def test_the_proxy_header_is_honoured_only_from_a_configured_address(home: Path) -> None:
    with accounts_client(home, proxies="10.0.0.5, 192.168.7.0/24", client=("10.0.0.5", 4000)) as proxy:
        page = proxy.get("/?q=grok", headers={"X-Forwarded-User": "olly"})
        assert page.status_code == 200 and "Signed in as <strong>Olly Ops</strong>" in page.text
        assert 'id="nav-ops"' in page.text  # the account's roles
        newcomer = proxy.get("/", headers={"X-Forwarded-User": "sam@example.org"})
        assert (
            "Signed in as <strong>sam@example.org</strong>" in newcomer.text
            and 'id="nav-ops"' not in newcomer.text
        )
        assert proxy.get("/", follow_redirects=False).status_code == 303  # no header: sign in
    with accounts_client(home, proxies="10.0.0.5", client=("192.0.2.9", 4000)) as elsewhere:
        forged = elsewhere.get("/?q=grok", headers={"X-Forwarded-User": "olly"}, follow_redirects=False)
        assert forged.status_code == 303 and forged.headers["location"].startswith("/login")
    with accounts_client(home, client=("10.0.0.5", 4000)) as no_proxy_configured:
        assert (
            no_proxy_configured.get(
                "/", headers={"X-Forwarded-User": "olly"}, follow_redirects=False
            ).status_code
            == 303
        )


def test_the_session_cookie_is_secure_over_https_or_behind_a_proxy_that_says_so(home: Path) -> None:
    with accounts_client(home, base_url="https://desk.example") as tls:
        assert "Secure" in tls.get("/login").headers["set-cookie"]
    with accounts_client(home, proxies="10.0.0.5", client=("10.0.0.5", 4000)) as proxied:
        assert "Secure" in proxied.get("/login", headers={"X-Forwarded-Proto": "https"}).headers["set-cookie"]
    with accounts_client(home, client=("192.0.2.9", 4000)) as untrusted:
        assert (
            "Secure"
            not in untrusted.get("/login", headers={"X-Forwarded-Proto": "https"}).headers["set-cookie"]
        )


# -- where the desk may listen ---------------------------------------------------------------


def test_without_accounts_or_a_proxy_only_loopback_is_allowed(home: Path) -> None:
    from regwatch.app import App
    from web import Access

    settings = App.load(home, home / "desk.yaml").settings
    assert not Access.for_server(settings, host="127.0.0.1", accounts=0, secret=SECRET).accounts
    assert not Access.for_server(settings, host="::1", accounts=0, secret=SECRET).accounts
    with pytest.raises(ConfigError, match="has no accounts and no trusted proxy"):
        Access.for_server(settings, host="0.0.0.0", accounts=0, secret=SECRET)
    assert Access.for_server(settings, host="0.0.0.0", accounts=1, secret=SECRET).accounts
    proxied = App.load(home, home / "desk.yaml", overrides={"WEB_TRUSTED_PROXIES": "10.0.0.0/8"}).settings
    assert Access.for_server(proxied, host="192.0.2.10", accounts=0, secret=SECRET).trusts("10.1.2.3")
    bad = App.load(home, home / "desk.yaml", overrides={"WEB_TRUSTED_PROXIES": "the proxy"}).settings
    with pytest.raises(ConfigError, match="WEB_TRUSTED_PROXIES: 'the proxy' is not an address"):
        Access.for_server(bad, host="127.0.0.1", accounts=1, secret=SECRET)


def test_serve_refuses_another_address_without_accounts_in_one_line(desk_home: Path) -> None:
    result = Cli(desk_home, desk_home / "desk.yaml")("serve", "--host", "0.0.0.0", expect=1)
    assert "no accounts and no trusted proxy" in result.output and "regwatch users add" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


# -- regwatch users --------------------------------------------------------------------------


def test_users_add_list_roles_token_and_remove(desk_home: Path) -> None:
    cli = Cli(desk_home, desk_home / "desk.yaml")
    assert "no accounts" in cli("users", "list").output
    added = cli(
        "users",
        "add",
        "bea",
        "--name",
        "Bea B.",
        "--role",
        "ops",
        "--password-stdin",
        input="long enough pw\n",
    )
    assert added.output.strip() == "added bea (ops)"
    cli("users", "add", "sso", "--no-password")
    rows = {row["id"]: row for row in cli.json("users", "list")}
    assert rows["bea"] == {
        **rows["bea"],
        "name": "Bea B.",
        "roles": ["ops"],
        "password": True,
        "api_token": False,
    }
    assert rows["sso"]["password"] is False and rows["sso"]["roles"] == ["analyst"]
    assert "password_hash" not in str(rows) and "argon2" not in cli("users", "list").output
    assert cli("users", "roles", "bea", "analyst", "ops").output.strip() == "bea: analyst, ops"
    token = cli("users", "token", "bea").output.strip()
    assert token.startswith("rw_") and cli.json("users", "list")[0]["api_token"] is True
    assert "exists" in cli("users", "add", "bea", "--no-password", expect=1).output
    assert "cannot be an account name" in cli("users", "add", "../x", "--no-password", expect=1).output
    assert (
        "at least 10 characters"
        in cli("users", "add", "cy", "--password-stdin", input="short\n", expect=1).output
    )
    assert "no account 'nobody'" in cli("users", "remove", "nobody", expect=1).output
    assert cli("users", "remove", "bea").output.startswith("removed bea, 0 saved search(es)")


def test_a_password_is_never_taken_from_the_command_line(desk_home: Path) -> None:
    cli = Cli(desk_home, desk_home / "desk.yaml")
    result = cli("users", "add", "bea", "--password", "hunter2hunter2", expect=2)
    assert "No such option '--password'" in result.output


def test_users_add_prompts_twice_for_the_password(desk_home: Path) -> None:
    cli = Cli(desk_home, desk_home / "desk.yaml")
    cli("users", "add", "dee", input="prompted password\nprompted password\n")
    with accounts_client(desk_home) as desk:
        assert sign_in(desk, "dee", "prompted password").status_code == 303
