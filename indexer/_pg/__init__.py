"""The PostgreSQL store engine: every component of :class:`indexer.Store` but embedded search.

The classes below build them on one :class:`PgDatabase` (a pooled SQLAlchemy
engine, psycopg 3); ``indexer.Store.open_postgresql`` and ``Store.from_settings``
(``STORE_URL``) make a ``Store`` of them. Modules: ``_database`` (engine,
transactions, value conversions), ``_schema`` (versioned schema and migrations),
``_articles``, ``_stories``, ``_tag_errors``, ``_source_states``, ``_ledgers``
(fetch, digest, alert), ``_cluster_ledger``, ``_work_queue`` (leases on
work shared by workers, and the workers' registry), ``_desk`` (the web desk's users, saved
searches and subscriptions), ``_search`` (no embedded search).
"""

from ._articles import PgArticles
from ._cluster_ledger import PgClusterLedger
from ._database import PgDatabase, is_postgresql_url
from ._desk import PgSavedSearches, PgSubscriptions, PgUsers
from ._ledgers import PgAlertLedger, PgDigestLedger, PgFetchLedger
from ._schema import SCHEMA_VERSION
from ._search import NO_EMBEDDED_SEARCH, ClusterOnlySearch
from ._source_states import PgSourceStates
from ._stories import PgStories
from ._tag_errors import PgTagErrors
from ._work_queue import PgWorkQueue

__all__ = [
    "NO_EMBEDDED_SEARCH",
    "SCHEMA_VERSION",
    "ClusterOnlySearch",
    "PgAlertLedger",
    "PgArticles",
    "PgClusterLedger",
    "PgDatabase",
    "PgDigestLedger",
    "PgFetchLedger",
    "PgSavedSearches",
    "PgSourceStates",
    "PgStories",
    "PgSubscriptions",
    "PgTagErrors",
    "PgUsers",
    "PgWorkQueue",
    "is_postgresql_url",
]
