"""The web desk's components on PostgreSQL: ``users``, ``saved_searches`` and ``subscriptions``.

The same rows and rules as the SQLite components (``indexer._accounts``,
``indexer._saved_searches``, ``indexer._subscriptions``): hashes only for
accounts, a name unique per owner for saved searches (``INSERT … ON CONFLICT``
and a savepoint around a rename, so a clash is False, never an error),
subscriptions upserted by id. Roles, a search's parameters and a subscriber's
fields are ``jsonb``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import asdict, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import exc as sa_exc

from regwatch.models import Account, SavedSearch, Subscriber, utcnow

from .._accounts import check_roles
from .._saved_searches import LISTS, PARAMS, search_params
from .._subscriptions import TUPLE_FIELDS
from ._database import PgDatabase, as_json, execute, from_pg, row, rows, to_pg


class PgUsers:
    """The desk's accounts (see ``indexer._accounts``)."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def add(self, account: Account) -> bool:
        """Create ``account``; False (and nothing written) when its id is taken."""
        check_roles(account)
        now = to_pg(utcnow())
        with self._db.transaction(write=True) as conn:
            added = execute(
                conn,
                """
                INSERT INTO users (id, name, password_hash, roles, token_hash, created_at, updated_at)
                VALUES (:id, :name, :password_hash, CAST(:roles AS jsonb), :token_hash, :now, :now)
                ON CONFLICT (id) DO NOTHING
                """,
                {**_account_params(account), "now": now},
            )
        return added == 1

    def update(self, account: Account) -> bool:
        """Replace the name, password hash, roles and token hash of an existing account; False if none."""
        check_roles(account)
        with self._db.transaction(write=True) as conn:
            changed = execute(
                conn,
                """
                UPDATE users SET name = :name, password_hash = :password_hash, roles = CAST(:roles AS jsonb),
                    token_hash = :token_hash, updated_at = :now
                WHERE id = :id
                """,
                {**_account_params(account), "now": to_pg(utcnow())},
            )
        return changed == 1

    def get(self, user_id: str) -> Account | None:
        with self._db.transaction(write=False) as conn:
            found = row(conn, "SELECT * FROM users WHERE id = :id", {"id": user_id})
        return _to_account(found) if found else None

    def by_token(self, token_hash: str) -> Account | None:
        """The account whose API token hashes to ``token_hash`` (None for "" or no such token)."""
        if not token_hash:
            return None
        with self._db.transaction(write=False) as conn:
            found = row(conn, "SELECT * FROM users WHERE token_hash = :t", {"t": token_hash})
        return _to_account(found) if found else None

    def all(self) -> list[Account]:
        with self._db.transaction(write=False) as conn:
            found = rows(conn, "SELECT * FROM users ORDER BY id")
        return [_to_account(entry) for entry in found]

    def count(self) -> int:
        with self._db.transaction(write=False) as conn:
            found = row(conn, "SELECT count(*) AS n FROM users")
        return int(found["n"]) if found else 0

    def remove(self, user_id: str) -> bool:
        with self._db.transaction(write=True) as conn:
            return execute(conn, "DELETE FROM users WHERE id = :id", {"id": user_id}) == 1

    def record_login(self, user_id: str, at: datetime | None = None) -> None:
        with self._db.transaction(write=True) as conn:
            execute(
                conn,
                "UPDATE users SET last_login = :at WHERE id = :id",
                {"at": to_pg(at or utcnow()), "id": user_id},
            )


def _account_params(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "name": account.name,
        "password_hash": account.password_hash,
        "roles": as_json(list(account.roles)),
        "token_hash": account.token_hash,
    }


def _to_account(entry: Mapping[str, Any]) -> Account:
    return Account(
        id=entry["id"],
        name=entry["name"],
        password_hash=entry["password_hash"],
        roles=tuple(entry["roles"]),
        token_hash=entry["token_hash"],
        created_at=from_pg(entry["created_at"]),
        last_login=from_pg(entry["last_login"]),
    )


# A saved search's names sort as SQLite's COLLATE NOCASE does: ASCII letters folded, byte order.
_BY_NAME = 'lower(name) COLLATE "C", id'


class PgSavedSearches:
    """Saved searches by owner (see ``indexer._saved_searches``)."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def add(self, search: SavedSearch) -> SavedSearch | None:
        """Store ``search`` under a new id (its own id is ignored); None when its owner has one so named."""
        stored = replace(search, id=secrets.token_hex(6), origin="store", created_at=utcnow())
        now = to_pg(stored.created_at)
        with self._db.transaction(write=True) as conn:
            added = execute(
                conn,
                """
                INSERT INTO saved_searches (id, owner, name, params, alert, created_at, updated_at)
                VALUES (:id, :owner, :name, CAST(:params AS jsonb), :alert, :now, :now)
                ON CONFLICT (owner, name) DO NOTHING
                """,
                {
                    "id": stored.id,
                    "owner": stored.owner,
                    "name": stored.name,
                    "params": search_params(stored),
                    "alert": bool(stored.alert),
                    "now": now,
                },
            )
        return stored if added == 1 else None

    def update(self, search: SavedSearch) -> bool:
        """Replace the name, parameters and alert choice of the saved search with this id and owner.

        False when there is none, or when the owner has another one with the new name.
        """
        with self._db.transaction(write=True) as conn:
            try:
                with conn.begin_nested():  # a clash of names undoes this statement alone
                    changed = execute(
                        conn,
                        """
                        UPDATE saved_searches SET name = :name, params = CAST(:params AS jsonb),
                            alert = :alert, updated_at = :now
                        WHERE id = :id AND owner = :owner
                        """,
                        {
                            "name": search.name,
                            "params": search_params(search),
                            "alert": bool(search.alert),
                            "now": to_pg(utcnow()),
                            "id": search.id,
                            "owner": search.owner,
                        },
                    )
            except sa_exc.IntegrityError:
                return False
        return changed == 1

    def get(self, search_id: str) -> SavedSearch | None:
        with self._db.transaction(write=False) as conn:
            found = row(conn, "SELECT * FROM saved_searches WHERE id = :id", {"id": search_id})
        return _to_search(found) if found else None

    def of(self, owner: str) -> list[SavedSearch]:
        """The owner's saved searches, by name."""
        with self._db.transaction(write=False) as conn:
            found = rows(
                conn,
                f"SELECT * FROM saved_searches WHERE owner = :owner ORDER BY {_BY_NAME}",
                {"owner": owner},
            )
        return [_to_search(entry) for entry in found]

    def all(self) -> list[SavedSearch]:
        """Every saved search, by owner and name."""
        with self._db.transaction(write=False) as conn:
            found = rows(conn, f"SELECT * FROM saved_searches ORDER BY owner, {_BY_NAME}")
        return [_to_search(entry) for entry in found]

    def remove(self, search_id: str, owner: str) -> bool:
        """Delete the saved search with this id if ``owner`` owns it."""
        with self._db.transaction(write=True) as conn:
            removed = execute(
                conn,
                "DELETE FROM saved_searches WHERE id = :id AND owner = :owner",
                {"id": search_id, "owner": owner},
            )
        return removed == 1

    def remove_all(self, owner: str) -> int:
        """Delete every saved search of ``owner`` (their account is removed); how many there were."""
        with self._db.transaction(write=True) as conn:
            return execute(conn, "DELETE FROM saved_searches WHERE owner = :owner", {"owner": owner})


def _to_search(entry: Mapping[str, Any]) -> SavedSearch:
    params: dict[str, Any] = dict(entry["params"])
    values = {name: params[name] for name in PARAMS if name in params}
    for name in LISTS:
        if name in values:
            values[name] = tuple(values[name])
    return SavedSearch(
        id=entry["id"],
        owner=entry["owner"],
        name=entry["name"],
        alert=bool(entry["alert"]),
        origin="store",
        created_at=from_pg(entry["created_at"]),
        **values,
    )


class PgSubscriptions:
    """Subscribers made on the desk, by id (see ``indexer._subscriptions``)."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def save(self, subscriber: Subscriber, owner: str) -> None:
        """Create or replace the subscription ``subscriber.id`` (its saved searches are not kept here)."""
        data = asdict(replace(subscriber, saved_searches=()))
        data.pop("saved_searches", None)
        now = to_pg(utcnow())
        with self._db.transaction(write=True) as conn:
            execute(
                conn,
                """
                INSERT INTO subscriptions (id, owner, data, created_at, updated_at)
                VALUES (:id, :owner, CAST(:data AS jsonb), :now, :now)
                ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, data = excluded.data,
                    updated_at = excluded.updated_at
                """,
                {"id": subscriber.id, "owner": owner, "data": as_json(data), "now": now},
            )

    def get(self, subscriber_id: str) -> Subscriber | None:
        with self._db.transaction(write=False) as conn:
            found = row(conn, "SELECT * FROM subscriptions WHERE id = :id", {"id": subscriber_id})
        return _to_subscriber(found) if found else None

    def all(self) -> list[Subscriber]:
        with self._db.transaction(write=False) as conn:
            found = rows(conn, "SELECT * FROM subscriptions ORDER BY id")
        return [_to_subscriber(entry) for entry in found]

    def remove(self, subscriber_id: str) -> bool:
        with self._db.transaction(write=True) as conn:
            return execute(conn, "DELETE FROM subscriptions WHERE id = :id", {"id": subscriber_id}) == 1


def _to_subscriber(entry: Mapping[str, Any]) -> Subscriber:
    data: dict[str, Any] = dict(entry["data"])
    known = {f.name for f in fields(Subscriber)} - {"saved_searches"}
    values: dict[str, Any] = {k: tuple(v) if k in TUPLE_FIELDS else v for k, v in data.items() if k in known}
    values["id"] = entry["id"]
    return Subscriber(**values)
