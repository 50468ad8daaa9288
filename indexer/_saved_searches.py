"""Searches saved on the web desk: the store's ``saved_searches`` component.

One row per saved search: its id, its owner (an account id), a name unique per
owner, whether a new match alerts at once, and the search's parameters as JSON
(query, entity, source, source types, jurisdictions, languages, since, until).
Saved searches declared in the YAML config are not here: the wiring attaches
both kinds to their subscriber (``regwatch.models.Subscriber.saved_searches``).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import replace

from regwatch.models import SavedSearch, utcnow

from ._database import Database
from ._schema import from_db, to_db

PARAMS = ("query", "entity", "source", "source_types", "jurisdictions", "languages", "since", "until")
LISTS = ("source_types", "jurisdictions", "languages")


class SqliteSavedSearches:
    """Saved searches by owner (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, search: SavedSearch) -> SavedSearch | None:
        """Store ``search`` under a new id (its own id is ignored); None when its owner has one so named."""
        stored = replace(search, id=secrets.token_hex(6), origin="store", created_at=utcnow())
        now = to_db(stored.created_at)
        with self._db.transaction(write=True) as conn:
            cursor = conn.execute(
                """
                INSERT INTO saved_searches (id, owner, name, params, alert, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (owner, name) DO NOTHING
                """,
                (stored.id, stored.owner, stored.name, search_params(stored), int(stored.alert), now, now),
            )
        return stored if cursor.rowcount == 1 else None

    def update(self, search: SavedSearch) -> bool:
        """Replace the name, parameters and alert choice of the saved search with this id and owner.

        False when there is none, or when the owner has another one with the new name.
        """
        with self._db.transaction(write=True) as conn:
            try:
                cursor = conn.execute(
                    """
                    UPDATE saved_searches SET name = ?, params = ?, alert = ?, updated_at = ?
                    WHERE id = ? AND owner = ?
                    """,
                    (
                        search.name,
                        search_params(search),
                        int(search.alert),
                        to_db(utcnow()),
                        search.id,
                        search.owner,
                    ),
                )
            except sqlite3.IntegrityError:
                return False
        return cursor.rowcount == 1

    def get(self, search_id: str) -> SavedSearch | None:
        with self._db.transaction(write=False) as conn:
            row = conn.execute("SELECT * FROM saved_searches WHERE id = ?", (search_id,)).fetchone()
        return _to_search(row) if row else None

    def of(self, owner: str) -> list[SavedSearch]:
        """The owner's saved searches, by name."""
        with self._db.transaction(write=False) as conn:
            rows = conn.execute(
                "SELECT * FROM saved_searches WHERE owner = ? ORDER BY name COLLATE NOCASE, id", (owner,)
            ).fetchall()
        return [_to_search(row) for row in rows]

    def all(self) -> list[SavedSearch]:
        """Every saved search, by owner and name."""
        with self._db.transaction(write=False) as conn:
            rows = conn.execute(
                "SELECT * FROM saved_searches ORDER BY owner, name COLLATE NOCASE, id"
            ).fetchall()
        return [_to_search(row) for row in rows]

    def remove(self, search_id: str, owner: str) -> bool:
        """Delete the saved search with this id if ``owner`` owns it."""
        with self._db.transaction(write=True) as conn:
            cursor = conn.execute("DELETE FROM saved_searches WHERE id = ? AND owner = ?", (search_id, owner))
        return cursor.rowcount == 1

    def remove_all(self, owner: str) -> int:
        """Delete every saved search of ``owner`` (their account is removed); how many there were."""
        with self._db.transaction(write=True) as conn:
            cursor = conn.execute("DELETE FROM saved_searches WHERE owner = ?", (owner,))
        return cursor.rowcount


def search_params(search: SavedSearch) -> str:
    """The search's parameters as stored: JSON of those set (both engines write the same)."""
    data = {name: getattr(search, name) for name in PARAMS}
    return json.dumps({k: list(v) if k in LISTS else v for k, v in data.items() if v}, ensure_ascii=False)


def _to_search(row: sqlite3.Row) -> SavedSearch:
    params = json.loads(row["params"])
    values = {name: params[name] for name in PARAMS if name in params}
    for name in LISTS:
        if name in values:
            values[name] = tuple(values[name])
    return SavedSearch(
        id=row["id"],
        owner=row["owner"],
        name=row["name"],
        alert=bool(row["alert"]),
        origin="store",
        created_at=from_db(row["created_at"]),
        **values,
    )
