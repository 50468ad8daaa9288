"""The embedded store: articles (the source of truth), FTS5 search, and the ledgers.

``Store`` keeps everything in one SQLite file: articles keyed by canonical URL,
their entities, an FTS5 index brought up to date by ``Store.index_pending``,
the crawl ledger (source health) and the digest ledger (exactly-once delivery).

``ClusterIndex`` moves search to an OpenSearch/Elasticsearch cluster (``INDEX_URL``)
with the same :class:`SearchQuery` and :class:`SearchResult`; the store stays the
source of truth and keeps, per cluster, which article versions it acknowledged.
"""

from ._cluster import ClusterIndex, SyncOutcome
from ._retag import RetagQueue
from ._store import Store
from ._types import DigestRecord, SearchHit, SearchQuery, SearchResult, SourceHealth

__all__ = [
    "ClusterIndex",
    "DigestRecord",
    "RetagQueue",
    "SearchHit",
    "SearchQuery",
    "SearchResult",
    "SourceHealth",
    "Store",
    "SyncOutcome",
]
