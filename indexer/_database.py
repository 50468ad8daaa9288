"""The SQLite database every component of the store shares: one connection, one transaction helper.

Each component (articles, ledgers, search, stories...) is built on the same
:class:`Database`, so they read and write one file in WAL mode (the crawl
subprocess can write articles while the parent reads) and see one another's
writes. The schema and its migrations are in ``_schema``.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from regwatch.errors import IndexBackendError

from ._schema import connect

log = logging.getLogger(__name__)


class Database:
    """One SQLite connection (autocommit; the store opens its own transactions)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn: sqlite3.Connection | None = conn
        self.path = path
        # Write transactions committed through this connection: search drops the matches it
        # keeps for the last query when this moves (another process's writes move data_version).
        self.writes = 0

    @classmethod
    def open(cls, path: str | Path, busy_timeout: float = 30.0) -> Database:
        """Open (or create, at the current schema) the database at ``path``; IndexBackendError if unusable."""
        path = Path(path)
        return cls(connect(path, busy_timeout), path)

    def close(self) -> None:
        if self.conn is None:
            return
        try:
            self.conn.execute("PRAGMA optimize")
        except sqlite3.Error as exc:  # closing must not fail because another process holds a lock
            log.debug("PRAGMA optimize skipped on %s: %s", self.path, exc)
        self.conn.close()
        self.conn = None

    @contextmanager
    def transaction(self, write: bool) -> Iterator[sqlite3.Connection]:
        """One transaction (``BEGIN IMMEDIATE`` to write); sqlite errors become IndexBackendError naming the file.

        Reads run in a transaction too, so a count and its page come from one snapshot.
        """
        conn = self.conn
        if conn is None:
            raise IndexBackendError(f"{self.path}: the store is closed")
        try:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.Error as exc:
            raise IndexBackendError(f"{self.path}: cannot start a transaction ({exc})") from exc
        try:
            yield conn
        except BaseException as exc:
            conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise IndexBackendError(f"{self.path}: {exc}") from exc
            raise
        else:
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise IndexBackendError(f"{self.path}: cannot commit ({exc})") from exc
            if write:
                self.writes += 1
