"""The store facade: one object per thing the store owns, composed, options given when it is opened.

``Store.open`` builds the SQLite engine: one :class:`Database` (connection,
transactions, schema) shared by the components, so they see one another's
writes and the crawl subprocess can write while the parent reads (WAL). Each
component is typed by its Protocol in ``_interfaces``; a second engine builds a
``Store`` from its own implementations of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

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
)
from ._saved_searches import SqliteSavedSearches
from ._search import SqliteSearch
from ._source_states import SqliteSourceStates
from ._story import SqliteStories
from ._subscriptions import SqliteSubscriptions
from ._tag_errors import SqliteTagErrors

log = logging.getLogger(__name__)


class Store:
    """The regwatch store: articles (the source of truth), their search index, and the ledgers.

    ``articles``, ``tag_errors``, ``stories``, ``search``, ``fetch_ledger``,
    ``source_states``, ``digest_ledger``, ``alert_ledger``, ``cluster_ledger`` and the
    web desk's ``users``, ``saved_searches`` and ``subscriptions`` are its components (see the package docstring). Open it with :meth:`open`
    or :meth:`from_settings`; close it (or use it as a context manager) when done.
    """

    def __init__(
        self,
        *,
        path: Path,
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
    ) -> None:
        self.path = path
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
        ``stories``: "inline" (cluster each upsert), "deferred" (leave it to
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
    def from_settings(
        cls, settings: Mapping[str, Any], home: Path, sources: Mapping[str, Source] | None = None
    ) -> Store:
        """Open the store in the regwatch home dir as the ``INDEX_*`` settings say.

        An alert ledger an older regwatch left in the home dir (``alerts.db``) is imported on the way, once.
        """
        return cls.open(
            Path(home) / settings["INDEX_DB_NAME"],
            busy_timeout=float(settings["INDEX_BUSY_TIMEOUT"]),
            index_batch_size=int(settings["INDEX_BATCH_SIZE"]),
            sources=sources,
            legacy_alert_ledger=Path(home) / LEGACY_ALERT_LEDGER_FILE,
        )

    def close(self) -> None:
        self._close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
