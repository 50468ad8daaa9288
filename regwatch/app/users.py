"""`regwatch users`: the web desk's accounts (add, list, remove, passwd, roles, token).

Accounts live in the store (``store.users``); the desk hashes passwords with
argon2 (``web.hash_password``). A password is read from a hidden prompt, or from
the first line of stdin with ``--password-stdin``; never from the command line,
where other users and the shell history would see it.
"""

from __future__ import annotations

import re
import sys
from dataclasses import replace

import click

from regwatch.app import App
from regwatch.app.cli import cli, emit_json, json_option, with_app
from regwatch.models import ROLES, Account

ACCOUNT_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")

role_option = click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice(ROLES),
    help="analyst (search, save, subscribe) or ops (the ops console); repeat for both. Default: analyst.",
)
password_stdin_option = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin (for scripts)."
)


def _read_password(password_stdin: bool) -> str:
    from web import hash_password

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        return hash_password(password)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _account(app: App, account_id: str) -> Account:
    account = app.store.users.get(account_id)
    if account is None:
        known = ", ".join(a.id for a in app.store.users.all()) or "none yet"
        raise click.ClickException(f"no account {account_id!r}; accounts: {known}")
    return account


@cli.group()
def users() -> None:
    """The web desk's accounts: who may sign in to `regwatch serve`, with which roles.

    \b
    Example:
      regwatch users add alice --name "Alice Analyst"
      regwatch users add olly --role ops --role analyst
      regwatch users list
    """


@users.command(name="add")
@click.argument("account_id", metavar="NAME")
@click.option("--name", "display_name", help="The name the desk shows (default: NAME).")
@role_option
@password_stdin_option
@click.option("--no-password", is_flag=True, help="No password: signs in only through a trusted proxy.")
@with_app
def users_add(
    app: App,
    account_id: str,
    display_name: str | None,
    roles: tuple[str, ...],
    password_stdin: bool,
    no_password: bool,
) -> None:
    """Add an account (NAME is what its owner types to sign in, and the id of their subscription).

    \b
    Example:
      regwatch users add alice --name "Alice Analyst"          # prompts for the password
      printf '%s\\n' "$PASSWORD" | regwatch users add bot --password-stdin
    """
    if not ACCOUNT_ID_RE.match(account_id):
        raise click.ClickException(
            f"{account_id!r} cannot be an account name: use letters, digits, '.', '_', '@' or '-' (at most 64)"
        )
    if app.store.users.get(account_id) is not None:
        raise click.ClickException(
            f"account {account_id!r} exists; `regwatch users passwd {account_id}` changes its password"
        )
    if no_password and password_stdin:
        raise click.UsageError("choose one of --no-password or --password-stdin")
    password_hash = "" if no_password else _read_password(password_stdin)
    account = Account(
        account_id, display_name or account_id, password_hash, tuple(dict.fromkeys(roles)) or ("analyst",)
    )
    if not app.store.users.add(account):
        raise click.ClickException(f"account {account_id!r} exists")
    click.echo(
        f"added {account_id} ({', '.join(account.roles)})" + (" without a password" if no_password else "")
    )


@users.command(name="list")
@json_option
@with_app
def users_list(app: App, as_json: bool) -> None:
    """List the accounts: name, roles, last sign-in (never a password).

    \b
    Example:
      regwatch users list --json
    """
    accounts = [account.to_dict() for account in app.store.users.all()]
    if as_json:
        emit_json(accounts)
        return
    if not accounts:
        click.echo("no accounts: `regwatch serve` runs as the one local user, on 127.0.0.1 only")
        return
    for row in accounts:
        extras = [] if row["password"] else ["no password (proxy only)"]
        extras += ["API token"] if row["api_token"] else []
        click.echo(
            f"{row['id']:<24} {','.join(row['roles']):<12} {(row['last_login'] or 'never signed in')[:19]:<20} "
            f"{row['name']}" + (f"  [{'; '.join(extras)}]" if extras else "")
        )


@users.command(name="remove")
@click.argument("account_id", metavar="NAME")
@with_app
def users_remove(app: App, account_id: str) -> None:
    """Remove an account, with its saved searches and the subscription made on the desk.

    Its sessions end at once. A subscriber of the same id in the YAML config stays.

    \b
    Example:
      regwatch users remove alice
    """
    _account(app, account_id)
    searches = app.store.saved_searches.remove_all(account_id)
    subscription = app.store.subscriptions.remove(account_id)
    app.store.users.remove(account_id)
    click.echo(
        f"removed {account_id}, {searches} saved search(es)"
        + (" and the subscription made on the desk" if subscription else "")
    )


@users.command(name="passwd")
@click.argument("account_id", metavar="NAME")
@password_stdin_option
@with_app
def users_passwd(app: App, account_id: str, password_stdin: bool) -> None:
    """Set an account's password (its sessions end: everyone signs in again).

    \b
    Example:
      regwatch users passwd alice
    """
    account = _account(app, account_id)
    app.store.users.update(_replace(account, password_hash=_read_password(password_stdin)))
    click.echo(f"password of {account_id} changed")


@users.command(name="roles")
@click.argument("account_id", metavar="NAME")
@click.argument("roles", nargs=-1, required=True, type=click.Choice(ROLES))
@with_app
def users_roles(app: App, account_id: str, roles: tuple[str, ...]) -> None:
    """Set an account's roles (analyst, ops, or both).

    \b
    Example:
      regwatch users roles olly ops analyst
    """
    account = _account(app, account_id)
    app.store.users.update(_replace(account, roles=tuple(dict.fromkeys(roles))))
    click.echo(f"{account_id}: {', '.join(dict.fromkeys(roles))}")


@users.command(name="token")
@click.argument("account_id", metavar="NAME")
@click.option("--revoke", is_flag=True, help="Remove the account's API token instead.")
@with_app
def users_token(app: App, account_id: str, revoke: bool) -> None:
    """Make a new API token for an account (printed once; the old one stops working).

    Scripts send it as `Authorization: Bearer TOKEN` to /api/ (no CSRF token needed).

    \b
    Example:
      regwatch users token alice
      curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8000/api/saved-searches
    """
    from web import new_api_token

    account = _account(app, account_id)
    if revoke:
        app.store.users.update(_replace(account, token_hash=""))
        click.echo(f"API token of {account_id} revoked", err=True)
        return
    token, digest = new_api_token()
    app.store.users.update(_replace(account, token_hash=digest))
    click.echo(token)


def _replace(account: Account, **changes: object) -> Account:
    return replace(account, **changes)  # type: ignore[arg-type]
