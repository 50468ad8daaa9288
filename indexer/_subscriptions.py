"""Subscriptions made on the web desk: the store's ``subscriptions`` component.

One row per subscriber made on the desk: its id (the analyst's account id), its
owner and the subscriber's fields as JSON (entities, keywords, cadence, send
time, timezone, email...). Subscribers declared in the YAML config are not here;
the wiring merges both when it delivers (the config's win on a clash of ids).
A subscriber's saved searches are a component of their own (``saved_searches``).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, fields, replace
from typing import Any

from regwatch.models import Subscriber, utcnow

from ._database import Database
from ._schema import to_db

TUPLE_FIELDS = {f.name for f in fields(Subscriber) if f.name != "saved_searches" and "tuple" in str(f.type)}


class SqliteSubscriptions:
    """Subscribers made on the desk, by id (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def save(self, subscriber: Subscriber, owner: str) -> None:
        """Create or replace the subscription ``subscriber.id`` (its saved searches are not kept here)."""
        data = asdict(replace(subscriber, saved_searches=()))
        data.pop("saved_searches", None)
        now = to_db(utcnow())
        with self._db.transaction(write=True) as conn:
            conn.execute(
                """
                INSERT INTO subscriptions (id, owner, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, data = excluded.data,
                    updated_at = excluded.updated_at
                """,
                (subscriber.id, owner, json.dumps(data, ensure_ascii=False), now, now),
            )

    def get(self, subscriber_id: str) -> Subscriber | None:
        with self._db.transaction(write=False) as conn:
            row = conn.execute("SELECT * FROM subscriptions WHERE id = ?", (subscriber_id,)).fetchone()
        return _to_subscriber(row) if row else None

    def all(self) -> list[Subscriber]:
        with self._db.transaction(write=False) as conn:
            rows = conn.execute("SELECT * FROM subscriptions ORDER BY id").fetchall()
        return [_to_subscriber(row) for row in rows]

    def remove(self, subscriber_id: str) -> bool:
        with self._db.transaction(write=True) as conn:
            cursor = conn.execute("DELETE FROM subscriptions WHERE id = ?", (subscriber_id,))
        return cursor.rowcount == 1


def _to_subscriber(row: sqlite3.Row) -> Subscriber:
    data: dict[str, Any] = json.loads(row["data"])
    known = {f.name for f in fields(Subscriber)} - {"saved_searches"}
    values: dict[str, Any] = {k: tuple(v) if k in TUPLE_FIELDS else v for k, v in data.items() if k in known}
    values["id"] = row["id"]
    return Subscriber(**values)
