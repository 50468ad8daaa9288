"""The PostgreSQL database every component of the PostgreSQL store shares: a pool and transactions.

SQLAlchemy 2 Core with psycopg 3 and a connection pool: each transaction takes a
connection from the pool, so several threads and processes (crawl subprocess,
workers, web servers) write at once. Values go in and out as PostgreSQL types:
``timestamptz`` (the session runs in UTC, so times come back as UTC), ``jsonb``
for lists, ``boolean`` for flags. The schema and its migrations are in ``_schema``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, cast

import sqlalchemy
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, Engine, RowMapping, make_url

from regwatch.errors import ConfigError, IndexBackendError
from regwatch.models import parse_datetime
from regwatch.private import redact_url

log = logging.getLogger(__name__)

SCHEMES = ("postgresql", "postgresql+psycopg", "postgres")


def is_postgresql_url(url: str) -> bool:
    """Whether ``url`` names a PostgreSQL store (``postgresql://…``, ``postgresql+psycopg://…``)."""
    scheme = url.strip().split("://", 1)[0].lower() if "://" in url else ""
    return scheme in SCHEMES


def engine_url(url: str, password: str = "") -> URL:
    """The SQLAlchemy URL for ``url`` with the psycopg 3 driver; ``password`` when the URL has none.

    ConfigError (naming the URL, masked) when it is not a PostgreSQL URL or does not parse.
    """
    shown = redact_url(url)
    if not is_postgresql_url(url):
        raise ConfigError(
            f"STORE_URL {shown!r} is not a PostgreSQL URL: use postgresql://user@host:5432/dbname "
            "(or leave it empty for the SQLite file in the home dir)"
        )
    try:
        parsed = make_url(url.strip())
    except (sa_exc.ArgumentError, ValueError) as exc:
        raise ConfigError(f"STORE_URL {shown!r} cannot be read ({exc})") from None
    parsed = parsed.set(drivername="postgresql+psycopg")
    if password and not parsed.password:
        parsed = parsed.set(password=password)
    if not parsed.database:
        raise ConfigError(f"STORE_URL {shown!r} names no database: add /dbname at its end")
    return parsed


def shown_url(url: URL) -> str:
    """The URL as regwatch shows it: the password masked (``user:***@``), the user name kept for ops."""
    return url.set(drivername="postgresql").render_as_string(hide_password=True)


def to_pg(value: datetime | None) -> datetime | None:
    """A datetime as the store writes it: aware, in UTC (a naive one is taken as UTC)."""
    if value is None:
        return None
    aware = parse_datetime(value)
    assert aware is not None
    return aware.astimezone(UTC)


def from_pg(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def as_json(values: Any) -> str:
    """A value for a ``jsonb`` parameter (written ``CAST(:name AS jsonb)``)."""
    return json.dumps(values)


def period(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


class PgDatabase:
    """A SQLAlchemy engine (pooled psycopg 3 connections) on one PostgreSQL database."""

    def __init__(self, engine: Engine, url: URL) -> None:
        self.engine: Engine | None = engine
        self.url = url
        self.shown = shown_url(url)  # credentials masked: for messages and `store status`

    @classmethod
    def open(
        cls, url: str, *, password: str = "", pool_size: int = 5, connect_timeout: float = 10.0
    ) -> PgDatabase:
        """Connect (checking the server answers) and bring the schema to the current version.

        IndexBackendError naming the URL (masked) when the server cannot be reached
        or refuses; ConfigError when the URL is not a PostgreSQL one.
        """
        from ._schema import migrate

        parsed = engine_url(url, password)
        engine = sqlalchemy.create_engine(
            parsed,
            pool_size=max(1, int(pool_size)),
            max_overflow=max(1, int(pool_size)),
            pool_pre_ping=True,  # a connection the server closed (restart, idle timeout) is replaced
            connect_args={
                "connect_timeout": max(1, round(connect_timeout)),
                "options": "-c timezone=UTC",
                "application_name": "regwatch",
            },
        )
        db = cls(engine, parsed)
        try:
            with db.transaction(write=True) as conn:
                migrate(conn, db.shown)
        except BaseException:
            db.close()
            raise
        return db

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None

    @contextmanager
    def transaction(self, write: bool) -> Iterator[Connection]:
        """One transaction on a pooled connection; database errors become IndexBackendError naming the URL.

        Reads run in a REPEATABLE READ (snapshot) transaction, so a count and its page come from
        one snapshot, as on SQLite. Writes run at READ COMMITTED: the components take the row
        locks they need (``SELECT … FOR UPDATE``, ``INSERT … ON CONFLICT``) and advisory locks
        where SQLite's single writer made a step exclusive (stories, a merge).
        """
        engine = self.engine
        if engine is None:
            raise IndexBackendError(f"{self.shown}: the store is closed")
        try:
            conn = engine.connect()
        except sa_exc.DBAPIError as exc:
            raise IndexBackendError(
                f"cannot connect to the PostgreSQL store {self.shown}: {_reason(exc)}"
            ) from None
        try:
            level = "READ COMMITTED" if write else "REPEATABLE READ"
            conn = conn.execution_options(isolation_level=level)
            with conn.begin():
                yield conn
        except sa_exc.DBAPIError as exc:
            raise IndexBackendError(f"{self.shown}: {_reason(exc)}") from None
        finally:
            conn.close()


def _reason(exc: sa_exc.DBAPIError) -> str:
    """The server's or driver's message alone (SQLAlchemy's adds the statement and a link), masked."""
    text = str(exc.orig if exc.orig is not None else exc).strip()
    return redact_url(" ".join(text.split()))


def rows(conn: Connection, sql: str, params: Mapping[str, Any] | None = None) -> list[Mapping[str, Any]]:
    """The rows of a query as mappings (column name -> value)."""
    return [_by_name(found) for found in conn.execute(sqlalchemy.text(sql), dict(params or {})).mappings()]


def row(conn: Connection, sql: str, params: Mapping[str, Any] | None = None) -> Mapping[str, Any] | None:
    found = conn.execute(sqlalchemy.text(sql), dict(params or {})).mappings().first()
    return _by_name(found) if found is not None else None


def _by_name(found: RowMapping) -> Mapping[str, Any]:
    """A row as read by column name (SQLAlchemy types its keys more widely: columns too)."""
    return cast("Mapping[str, Any]", found)


def execute(
    conn: Connection, sql: str, params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None
) -> int:
    """Run a statement (a sequence of parameter sets: executemany); return the rows it touched."""
    if isinstance(params, Sequence):
        if not params:
            return 0
        return conn.execute(sqlalchemy.text(sql), [dict(p) for p in params]).rowcount
    return conn.execute(sqlalchemy.text(sql), dict(params or {})).rowcount
