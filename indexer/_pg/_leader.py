"""Leader election on PostgreSQL: a session advisory lock held on a connection of its own.

Several hosts run the same role (``regwatch schedule``); one of them must act. Each
candidate opens one dedicated connection (never a pooled one: a session lock lives
exactly as long as its session) and asks ``pg_try_advisory_lock(key)``: one gets
it and leads while its connection lives; the others retry. When the leader's
process dies, its connection goes and PostgreSQL releases the lock, so a
candidate's next try wins. A leader checks now and then that the lock is still its
own (:meth:`PgLeaderLock.holding`): when the connection was lost (the server
restarted, an admin ended the session, the network failed), the lock may already be
someone else's, and it must stop acting at once.

Each candidate's connection carries its name as ``application_name``, so a
standby can say who leads (:meth:`PgLeaderLock.holder`, from ``pg_locks`` and
``pg_stat_activity``; unknown when the server hides other users' sessions).
TCP keepalives and ``tcp_user_timeout`` bound how long a check can hang on a
dead network.
"""

from __future__ import annotations

import contextlib
import logging

import sqlalchemy
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from regwatch.errors import IndexBackendError

from ._database import _reason, engine_url, shown_url

log = logging.getLogger(__name__)

_HOLDER = """
SELECT a.application_name AS name, host(a.client_addr) AS addr, l.pid AS pid
FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :high AND l.objid = :low AND l.objsubid = 1
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


class PgLeaderLock:
    """One candidate for one role's leadership (see the module docstring).

    ``name`` says who this candidate is (``scheduler host-a pid 4242``): it is the
    connection's ``application_name``, which other candidates report as the leader.
    Not thread-safe: one thread elects, leads and checks.
    """

    def __init__(self, engine: Engine, key: int, name: str, shown: str) -> None:
        self.engine: Engine | None = engine
        self.key = key
        self.name = name
        self.shown = shown  # the store's URL, password masked: for messages
        self._conn: Connection | None = None
        self._leading = False

    @classmethod
    def open(
        cls,
        url: str,
        key: int,
        name: str,
        *,
        password: str = "",
        connect_timeout: float = 10.0,
        dead_after: float = 30.0,
    ) -> PgLeaderLock:
        """A candidate on the PostgreSQL database at ``url``; nothing is connected until :meth:`try_acquire`.

        ``dead_after`` (seconds) bounds how long a lost network goes unnoticed on the
        lock's connection (TCP keepalives and ``tcp_user_timeout``).
        """
        parsed = engine_url(url, password)
        idle = max(1, round(dead_after / 3))
        engine = sqlalchemy.create_engine(
            parsed,
            poolclass=NullPool,  # one connection, closed for good when given back: the lock's session
            connect_args={
                "connect_timeout": max(1, round(connect_timeout)),
                "options": "-c timezone=UTC",
                "application_name": f"regwatch {name}"[:63],
                "keepalives": 1,
                "keepalives_idle": idle,
                "keepalives_interval": idle,
                "keepalives_count": 2,
                "tcp_user_timeout": max(1000, round(dead_after * 1000)),
            },
        )
        return cls(engine, key, name, shown_url(parsed))

    @property
    def _parts(self) -> dict[str, int]:
        """The key as ``pg_locks`` shows a bigint advisory key: its high and low 32 bits."""
        return {"high": (self.key >> 32) & 0xFFFF_FFFF, "low": self.key & 0xFFFF_FFFF}

    def _connection(self) -> Connection:
        if self._conn is None:
            if self.engine is None:
                raise IndexBackendError(f"{self.shown}: the leader lock is closed")
            try:
                self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            except sa_exc.DBAPIError as exc:
                raise IndexBackendError(
                    f"cannot connect to the PostgreSQL store {self.shown}: {_reason(exc)}"
                ) from None
        return self._conn

    def try_acquire(self) -> bool:
        """Take the lock if no one holds it; True when this candidate leads (it may already have).

        IndexBackendError when the store cannot be reached (the next try connects again).
        """
        if self._leading and self.holding():
            return True
        conn = self._connection()
        try:
            won = bool(
                conn.execute(sqlalchemy.text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar()
            )
        except sa_exc.DBAPIError as exc:
            self._drop()
            raise IndexBackendError(f"{self.shown}: {_reason(exc)}") from None
        self._leading = won
        return won

    def holding(self) -> bool:
        """Whether this candidate still holds the lock, asked on the lock's own connection.

        False (and the connection dropped) when that connection is lost: PostgreSQL has
        released the lock, or will as soon as it notices, and another may lead already.
        """
        if not self._leading or self._conn is None:
            return False
        try:
            held = self._conn.execute(
                sqlalchemy.text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND pid = pg_backend_pid() AND classid = :high AND objid = :low AND objsubid = 1"
                ),
                self._parts,
            ).scalar()
        except sa_exc.DBAPIError as exc:
            log.warning(
                "%s: the leader lock's connection to %s is lost: %s", self.name, self.shown, _reason(exc)
            )
            self._drop()
            return False
        if not held:
            self._leading = False
        return bool(held)

    def holder(self) -> str | None:
        """Who holds the lock, as it says (``regwatch scheduler host-a pid 4242 (pid 77 from 10.0.0.5)``).

        None when no one does, or when it cannot be told (the server hides the session, or is unreachable).
        """
        try:
            found = self._connection().execute(sqlalchemy.text(_HOLDER), self._parts).mappings().first()
        except (sa_exc.DBAPIError, IndexBackendError):
            self._drop()
            return None
        if found is None:
            return None
        where = f"server pid {found['pid']}" + (f" from {found['addr']}" if found["addr"] else "")
        return f"{found['name'] or 'a session'} ({where})"

    def release(self) -> None:
        """Give the leadership up (end the lock's session: the lock goes with it)."""
        if self._leading and self._conn is not None:
            with contextlib.suppress(sa_exc.DBAPIError):  # a session gone took the lock with it
                self._conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        self._drop()

    def close(self) -> None:
        self.release()
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None

    def _drop(self) -> None:
        self._leading = False
        if self._conn is not None:
            with contextlib.suppress(sa_exc.DBAPIError):
                self._conn.close()
            self._conn = None
