"""The store facade: one object per thing the store owns, composed, options given when it is opened.

``Store.open`` builds the SQLite engine: one :class:`Database` (connection,
transactions, schema) shared by the components, so they see one another's
writes and the crawl subprocess can write while the parent reads (WAL).
``Store.open_postgresql`` builds the PostgreSQL engine (``indexer._pg``): the same
components on a pooled connection to one database, without an embedded search
index (search is the cluster's). ``Store.from_settings`` picks one by ``STORE_URL``.
Each component is typed by its Protocol in ``_interfaces``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from regwatch.errors import ConfigError
from regwatch.models import Source

from ._accounts import SqliteUsers
from ._alert_ledger import LEGACY_ALERT_LEDGER_FILE, SqliteAlertLedger
from ._articles import SqliteArticles
from ._cluster_ledger import SqliteClusterLedger
from ._database import Database
from ._digest_ledger import SqliteDigestLedger
from ._fetch_ledger import SqliteFetchLedger
from ._interfaces import (
    AlertLedger,
    Articles,
    ClusterLedger,
    DigestLedger,
    EmbeddedSearch,
    FetchLedger,
    SavedSearches,
    SourceStates,
    Stories,
    Subscriptions,
    TagErrors,
    Users,
    WorkQueue,
)
from ._saved_searches import SqliteSavedSearches
from ._schema import SCHEMA_VERSION as SQLITE_SCHEMA_VERSION
from ._search import SqliteSearch
from ._source_states import SqliteSourceStates
from ._story import SqliteStories
from ._subscriptions import SqliteSubscriptions
from ._tag_errors import SqliteTagErrors

if TYPE_CHECKING:
    from ._copy import TableReport

# The PostgreSQL engine (indexer._pg, SQLAlchemy, psycopg) is imported where a PostgreSQL store is
# opened: a SQLite home's commands and crawls start about 0.2 s sooner without it.

log = logging.getLogger(__name__)


class Store:
    """The regwatch store: articles (the source of truth), their search index, and the ledgers.

    ``articles``, ``tag_errors``, ``stories``, ``search``, ``fetch_ledger``,
    ``source_states``, ``digest_ledger``, ``alert_ledger``, ``cluster_ledger`` and the
    web desk's ``users``, ``saved_searches`` and ``subscriptions`` are its components
    (see the package docstring); ``work_queue`` (leases on work shared by `regwatch worker`
    processes) exists on PostgreSQL only, and is None on SQLite. Open it with :meth:`open`, :meth:`open_postgresql`
    or :meth:`from_settings`; close it (or use it as a context manager) when done.
    ``engine`` is "sqlite" or "postgresql"; ``location`` says where it is as it may
    be shown (the file, or the URL with its password masked); ``path`` is the SQLite
    file (None on PostgreSQL).
    """

    def __init__(
        self,
        *,
        path: Path | None,
        articles: Articles,
        tag_errors: TagErrors,
        stories: Stories,
        search: EmbeddedSearch,
        fetch_ledger: FetchLedger,
        source_states: SourceStates,
        digest_ledger: DigestLedger,
        alert_ledger: AlertLedger,
        cluster_ledger: ClusterLedger,
        users: Users,
        saved_searches: SavedSearches,
        subscriptions: Subscriptions,
        close: Callable[[], None],
        work_queue: WorkQueue | None = None,
        engine: str = "sqlite",
        location: str = "",
        schema_version: int = SQLITE_SCHEMA_VERSION,
    ) -> None:
        self.path = path
        self.engine = engine
        self.location = location or str(path)
        self.schema_version = schema_version
        self.articles = articles
        self.tag_errors = tag_errors
        self.stories = stories
        self.search = search
        self.fetch_ledger = fetch_ledger
        self.source_states = source_states
        self.digest_ledger = digest_ledger
        self.alert_ledger = alert_ledger
        self.cluster_ledger = cluster_ledger
        self.users = users
        self.saved_searches = saved_searches
        self.subscriptions = subscriptions
        self.work_queue = work_queue
        self._close = close

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        busy_timeout: float = 30.0,
        index_batch_size: int = 500,
        sources: Mapping[str, Source] | None = None,
        stories: str = "inline",
        search_columns: bool = True,
        legacy_alert_ledger: Path | None = None,
    ) -> Store:
        """Open (or create) the SQLite store at ``path``; IndexBackendError if it is unusable.

        ``sources``: the configured sources (search's type and jurisdiction filters).
        ``stories``: "inline" (a story for each upsert, in it), "deferred" (leave it to
        ``stories.assign_pending()``: a crawl's item pipeline) or "off" (a benchmark's
        baseline). ``search_columns``: search filters and facets from in-memory
        columns (False: in SQL alone). ``legacy_alert_ledger``: an older regwatch's
        ``alerts.db`` to import once (see ``_alert_ledger``).
        """
        db = Database.open(Path(path), busy_timeout)
        try:
            store = cls(
                path=db.path,
                articles=SqliteArticles(db, stories=stories),
                tag_errors=SqliteTagErrors(db),
                stories=SqliteStories(db, batch_size=index_batch_size),
                search=SqliteSearch(
                    db, sources=sources, use_columns=search_columns, batch_size=index_batch_size
                ),
                fetch_ledger=SqliteFetchLedger(db),
                source_states=SqliteSourceStates(db),
                digest_ledger=SqliteDigestLedger(db),
                alert_ledger=SqliteAlertLedger(db),
                cluster_ledger=SqliteClusterLedger(db),
                users=SqliteUsers(db),
                saved_searches=SqliteSavedSearches(db),
                subscriptions=SqliteSubscriptions(db),
                close=db.close,
            )
            if legacy_alert_ledger is not None:
                store.alert_ledger.import_file(legacy_alert_ledger)
        except BaseException:
            db.close()
            raise
        log.debug("Opened the store at %s", db.path)
        return store

    @classmethod
    def open_postgresql(
        cls,
        url: str,
        *,
        password: str = "",
        pool_size: int = 5,
        connect_timeout: float = 10.0,
        index_batch_size: int = 500,
        sources: Mapping[str, Source] | None = None,
        stories: str = "inline",
    ) -> Store:
        """Open the PostgreSQL store at ``url`` (``postgresql://user@host:5432/db``), creating or migrating its schema.

        ``password`` is used when the URL has none. IndexBackendError (the URL
        masked) when the server cannot be reached or the schema is newer than this
        code; ConfigError when ``url`` is not a PostgreSQL URL. Its ``search`` is
        no embedded index: search it through the cluster (``ClusterIndex``).
        """
        from . import _pg

        db = _pg.PgDatabase.open(url, password=password, pool_size=pool_size, connect_timeout=connect_timeout)
        try:
            store = cls(
                path=None,
                articles=_pg.PgArticles(db, stories=stories),
                tag_errors=_pg.PgTagErrors(db),
                stories=_pg.PgStories(db, batch_size=index_batch_size),
                search=_pg.ClusterOnlySearch(sources),
                fetch_ledger=_pg.PgFetchLedger(db),
                source_states=_pg.PgSourceStates(db),
                digest_ledger=_pg.PgDigestLedger(db),
                alert_ledger=_pg.PgAlertLedger(db),
                cluster_ledger=_pg.PgClusterLedger(db),
                users=_pg.PgUsers(db),
                saved_searches=_pg.PgSavedSearches(db),
                subscriptions=_pg.PgSubscriptions(db),
                work_queue=_pg.PgWorkQueue(db),
                close=db.close,
                engine="postgresql",
                location=db.shown,
                schema_version=_pg.SCHEMA_VERSION,
            )
        except BaseException:
            db.close()
            raise
        log.debug("Opened the PostgreSQL store %s", db.shown)
        return store

    @classmethod
    def from_settings(
        cls,
        settings: Mapping[str, Any],
        home: Path,
        sources: Mapping[str, Source] | None = None,
        *,
        stories: str = "inline",
    ) -> Store:
        """Open the store the settings name: ``STORE_URL`` (PostgreSQL), or the SQLite file in the home dir.

        With SQLite, an alert ledger an older regwatch left in the home dir
        (``alerts.db``) is imported on the way, once. With PostgreSQL, ``INDEX_URL``
        must name the search cluster (ConfigError otherwise: there is no embedded search).
        """
        url = str(settings.get("STORE_URL", "") or "").strip()
        if url:
            if not str(settings.get("INDEX_URL", "") or "").strip():
                from . import _pg

                raise ConfigError(_pg.NO_EMBEDDED_SEARCH)
            return cls.open_postgresql(
                url,
                password=str(settings.get("STORE_PASSWORD", "") or ""),
                pool_size=int(settings.get("STORE_POOL_SIZE", 5)),
                connect_timeout=float(settings.get("STORE_CONNECT_TIMEOUT", 10.0)),
                index_batch_size=int(settings["INDEX_BATCH_SIZE"]),
                sources=sources,
                stories=stories,
            )
        return cls.open(
            Path(home) / settings["INDEX_DB_NAME"],
            busy_timeout=float(settings["INDEX_BUSY_TIMEOUT"]),
            index_batch_size=int(settings["INDEX_BATCH_SIZE"]),
            sources=sources,
            stories=stories,
            legacy_alert_ledger=Path(home) / LEGACY_ALERT_LEDGER_FILE,
        )

    def copy_to_postgresql(
        self,
        url: str,
        *,
        password: str = "",
        restart: bool = False,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> list[TableReport]:
        """Copy this SQLite store into the PostgreSQL store at ``url``, resumably, and verify it per table.

        See ``indexer._copy``. The target's schema is created or migrated first.
        """
        if self.path is None:
            raise ConfigError("store copy reads a SQLite store; this one is already PostgreSQL")
        from . import _pg
        from ._copy import copy_sqlite_to_postgresql

        target = _pg.PgDatabase.open(url, password=password)
        try:
            return copy_sqlite_to_postgresql(self.path, target, restart=restart, progress=progress)
        finally:
            target.close()

    def describe(self) -> dict[str, Any]:
        """Which engine, where (credentials masked), the schema version and what it holds: `regwatch store status`."""
        return {
            "engine": self.engine,
            "location": self.location,
            "schema_version": self.schema_version,
            **self.articles.counts(),
            "tag_errors": self.tag_errors.count(),
            "fetch_ledger": self.fetch_ledger.count(),
            "sources_with_state": len(self.source_states.all()),
            "pending_digests": len(self.digest_ledger.pending()),
        }

    def close(self) -> None:
        self._close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
