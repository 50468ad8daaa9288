"""The web desk's accounts: the store's ``users`` component.

One row per account: its login name (``id``), display name, roles, an argon2
password hash and the SHA-256 of its API token. The store keeps hashes only;
hashing and checking passwords is the desk's (``web``), so this component needs
no crypto library and a second engine stores the same strings.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from regwatch.models import ROLES, Account, utcnow

from ._database import Database
from ._schema import from_db, to_db


class SqliteUsers:
    """The desk's accounts (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, account: Account) -> bool:
        """Create ``account``; False (and nothing written) when its id is taken."""
        check_roles(account)
        now = to_db(utcnow())
        with self._db.transaction(write=True) as conn:
            cursor = conn.execute(
                """
                INSERT INTO users (id, name, password_hash, roles, token_hash, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING
                """,
                (
                    account.id,
                    account.name,
                    account.password_hash,
                    json.dumps(list(account.roles)),
                    account.token_hash,
                    now,
                    now,
                ),
            )
        return cursor.rowcount == 1

    def update(self, account: Account) -> bool:
        """Replace the name, password hash, roles and token hash of an existing account; False if none."""
        check_roles(account)
        with self._db.transaction(write=True) as conn:
            cursor = conn.execute(
                """
                UPDATE users SET name = ?, password_hash = ?, roles = ?, token_hash = ?, updated_at = ?
                WHERE id = ?
                """,
                (
                    account.name,
                    account.password_hash,
                    json.dumps(list(account.roles)),
                    account.token_hash,
                    to_db(utcnow()),
                    account.id,
                ),
            )
        return cursor.rowcount == 1

    def get(self, user_id: str) -> Account | None:
        with self._db.transaction(write=False) as conn:
            row = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        return _to_account(row) if row else None

    def by_token(self, token_hash: str) -> Account | None:
        """The account whose API token hashes to ``token_hash`` (None for "" or no such token)."""
        if not token_hash:
            return None
        with self._db.transaction(write=False) as conn:
            row = conn.execute("SELECT * FROM users WHERE token_hash = ?", (token_hash,)).fetchone()
        return _to_account(row) if row else None

    def all(self) -> list[Account]:
        with self._db.transaction(write=False) as conn:
            rows = conn.execute("SELECT * FROM users ORDER BY id").fetchall()
        return [_to_account(row) for row in rows]

    def count(self) -> int:
        with self._db.transaction(write=False) as conn:
            return int(conn.execute("SELECT count(*) FROM users").fetchone()[0])

    def remove(self, user_id: str) -> bool:
        with self._db.transaction(write=True) as conn:
            cursor = conn.execute("DELETE FROM users WHERE id = ?", (user_id,))
        return cursor.rowcount == 1

    def record_login(self, user_id: str, at: datetime | None = None) -> None:
        with self._db.transaction(write=True) as conn:
            conn.execute("UPDATE users SET last_login = ? WHERE id = ?", (to_db(at or utcnow()), user_id))


def check_roles(account: Account) -> None:
    """ValueError unless the account has roles, all known (both engines check before writing)."""
    unknown = [role for role in account.roles if role not in ROLES]
    if unknown or not account.roles:
        raise ValueError(f"roles must be among {', '.join(ROLES)}, got {', '.join(account.roles) or 'none'}")


def _to_account(row: sqlite3.Row) -> Account:
    return Account(
        id=row["id"],
        name=row["name"],
        password_hash=row["password_hash"],
        roles=tuple(json.loads(row["roles"])),
        token_hash=row["token_hash"],
        created_at=from_db(row["created_at"]),
        last_login=from_db(row["last_login"]),
    )
