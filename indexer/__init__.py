"""The store of truth and search: articles, their search index, stories and the ledgers.

:class:`Store` is a facade over one component per thing it owns, all sharing
one SQLite file (WAL, so a crawl subprocess writes while the parent reads):

``articles``        articles by canonical URL with entities, quotes, actions (``_articles``)
``tag_errors``      articles the tagger failed on, skipped until it changes (``_tag_errors``)
``stories``         story ids (MinHash LSH): ``assign_pending()`` is the pipeline's step (``_story``)
``search``          FTS5 search, filters and facets from in-memory columns (``_search``, ``_fts``)
``fetch_ledger``    HTTP validators per page, for conditional GETs (``_fetch_ledger``)
``source_states``   each source's runs and health state (``_source_states``)
``digest_ledger``   one row per subscriber and period (``_digest_ledger``)
``alert_ledger``    one row per subscriber and article (``_alert_ledger``)
``cluster_ledger``  what a search cluster acknowledged or refused (``_cluster_ledger``)
``users``           the web desk's accounts: roles, password and API-token hashes (``_accounts``)
``saved_searches``  searches saved on the desk, by owner (``_saved_searches``)
``subscriptions``   subscribers made on the desk; the config's are merged by the wiring (``_subscriptions``)
``work_queue``     PostgreSQL only (None on SQLite): leases on work shared by workers (``_pg._work_queue``)

Reading, for the CLI and a web desk: ``store.search.search(query)``,
``.facets(query)`` and ``.histogram(query, interval)`` (or the same three on
``ClusterIndex``: both are a ``SearchIndex``), and ``search_report``, the JSON
both the CLI and the desk's API answer with; ``store.articles.get(id)`` (and
``get_many``), whose ``entities`` carry each entity's mentions;
``store.stories.articles(story_id)`` and, without the texts, ``.members(ids)``;
the articles mentioning an entity are ``SearchQuery(entity=...)``, and the
entities most mentioned among a query's matches are ``facets(query)["entities"]``
(watched) and ``["other_entities"]`` (by ``normalise_name``; a spelling to show
from ``store.articles.entity_labels``). ``SearchQuery(highlight=True)`` gives each
hit its marked title and hit sentence (``highlight``, ``hit_sentence``: spans,
not markup, so a page escapes the text around them).

The seam for a second store engine (PostgreSQL): ``_interfaces`` declares one
Protocol per component (``Articles``, ``EmbeddedSearch``, ``DigestLedger``…).
The SQLite classes (``SqliteArticles``…, built on one ``_database.Database``)
are the first implementation and ``Store.open`` builds them; a second engine
implements the same Protocols on its own connection and builds a ``Store``
from them (``Store(articles=..., search=..., ...)``), and ``Store.from_settings``
picks it by a setting. Nothing outside ``indexer`` names a SQLite class.

"cluster" here always means the search cluster: :class:`ClusterIndex` moves
search to OpenSearch/Elasticsearch (``INDEX_URL``) with the same
:class:`SearchQuery` and :class:`SearchResult`; the store stays the source of
truth and keeps, per cluster, which article versions it acknowledged.

Several hosts on one PostgreSQL store (``_fleet``): :func:`scheduler_election` is a
host's candidacy for leading ``regwatch schedule`` (an advisory lock), and
:func:`scheduler_job_store` the table where the leader keeps the scheduler's jobs;
:func:`domain_pacer` the crawl processes' shared per-domain slots, pace and backoff.
"""

from ._cluster import ClusterIndex, SyncOutcome
from ._fleet import domain_pacer, scheduler_election, scheduler_job_store
from ._highlight import Highlight, highlight, hit_sentence
from ._interfaces import (
    AlertLedger,
    Articles,
    ClusterLedger,
    DigestLedger,
    EmbeddedSearch,
    FetchLedger,
    SavedSearches,
    SearchIndex,
    SourceStates,
    Stories,
    Subscriptions,
    TagErrors,
    Users,
    WorkQueue,
)
from ._query import normalise_name
from ._report import search_report
from ._retag import RetagQueue
from ._store import Store
from ._types import Lease, SearchHit, SearchQuery, SearchResult, SourceHealth, WorkerInfo

__all__ = [
    "AlertLedger",
    "Articles",
    "ClusterIndex",
    "ClusterLedger",
    "DigestLedger",
    "EmbeddedSearch",
    "FetchLedger",
    "Highlight",
    "Lease",
    "RetagQueue",
    "SavedSearches",
    "SearchHit",
    "SearchIndex",
    "SearchQuery",
    "SearchResult",
    "SourceHealth",
    "SourceStates",
    "Store",
    "Stories",
    "Subscriptions",
    "SyncOutcome",
    "TagErrors",
    "Users",
    "WorkQueue",
    "WorkerInfo",
    "domain_pacer",
    "highlight",
    "hit_sentence",
    "normalise_name",
    "scheduler_election",
    "scheduler_job_store",
    "search_report",
]
