"""What several regwatch hosts on one PostgreSQL store share besides the data: who leads, and the jobs.

Built from the settings, as :meth:`Store.from_settings` is, for the wiring
(``regwatch.app``), which names no engine class:

- :func:`scheduler_election`: this host's candidacy for the scheduler's leadership
  (a PostgreSQL session advisory lock, ``_pg._leader``);
- :func:`scheduler_job_store`: the SQLAlchemy engine and table of the scheduler's
  jobs in the store (APScheduler's ``SQLAlchemyJobStore`` takes both), so that a new
  leader carries on with the jobs and next run times its predecessor left;
- :func:`domain_pacer`: the crawl processes' shared per-domain slots, pace and
  backoff (a :class:`~regwatch.models.DomainPacer`, ``_pg._politeness``).

All need a PostgreSQL store (ConfigError otherwise): with SQLite, one scheduler per
home dir keeps its jobs in the home dir, and each crawl keeps its own pace.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from regwatch.errors import ConfigError
from regwatch.models import DomainPacer

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from ._pg._leader import PgLeaderLock

# The PostgreSQL pieces (SQLAlchemy, psycopg) are imported by the functions that need them: this
# module is imported with the package, by every command and crawl, most of them on SQLite.


def _store_url(settings: Mapping[str, Any]) -> str:
    from ._pg._database import is_postgresql_url

    url = str(settings.get("STORE_URL", "") or "").strip()
    if not is_postgresql_url(url):
        raise ConfigError(
            "the scheduler's leader election and shared jobs need a PostgreSQL store: "
            "set STORE_URL=postgresql://… (with the SQLite store, one scheduler runs per home dir)"
        )
    return url


def scheduler_election(settings: Mapping[str, Any], name: str) -> PgLeaderLock:
    """This host's candidacy for leading the scheduler; ``name`` says who it is (host and pid).

    A lost connection is noticed within about ``SCHEDULER_LEADER_RETRY_SECONDS`` (and the
    TCP timeouts it sets), since that is also how often a leader checks its lock.
    """
    from ._pg._leader import PgLeaderLock
    from ._pg._schema import SCHEDULER_LOCK

    retry = float(settings.get("SCHEDULER_LEADER_RETRY_SECONDS", 10))
    return PgLeaderLock.open(
        _store_url(settings),
        SCHEDULER_LOCK,
        name,
        password=str(settings.get("STORE_PASSWORD", "") or ""),
        connect_timeout=float(settings.get("STORE_CONNECT_TIMEOUT", 10.0)),
        dead_after=max(3.0, 3 * retry),
    )


def scheduler_job_store(settings: Mapping[str, Any]) -> tuple[Engine, str]:
    """A small pooled engine on the store and the name of the scheduler's job table in it.

    The table is the schema's (version 2), so APScheduler finds it and creates nothing.
    Dispose of the engine when the scheduler stops.
    """
    import sqlalchemy

    from ._pg._database import engine_url
    from ._pg._schema import SCHEDULER_JOBS_TABLE

    parsed = engine_url(_store_url(settings), str(settings.get("STORE_PASSWORD", "") or ""))
    engine = sqlalchemy.create_engine(
        parsed,
        pool_size=2,
        max_overflow=2,
        pool_pre_ping=True,
        connect_args={
            "connect_timeout": max(1, round(float(settings.get("STORE_CONNECT_TIMEOUT", 10.0)))),
            "options": "-c timezone=UTC",
            "application_name": "regwatch scheduler jobs",
        },
    )
    return engine, SCHEDULER_JOBS_TABLE


def domain_pacer(url: str, *, password: str = "", pool_size: int = 5) -> DomainPacer:
    """The fleet's per-domain politeness on the PostgreSQL store at ``url`` (closing it closes its pool).

    IndexBackendError when the store cannot be reached; ConfigError when ``url`` is not PostgreSQL's.
    """
    from ._pg._database import PgDatabase
    from ._pg._politeness import PgDomainPacer

    return PgDomainPacer(PgDatabase.open(url, password=password, pool_size=pool_size), owns_db=True)
