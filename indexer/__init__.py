"""The embedded store: articles (the source of truth), FTS5 search, and the ledgers.

``Store`` keeps everything in one SQLite file: articles keyed by canonical URL,
their entities, an FTS5 index brought up to date by ``Store.index_pending``,
the crawl ledger (source health) and the digest ledger (exactly-once delivery).
"""

from ._store import Store
from ._types import DigestRecord, SearchHit, SearchQuery, SearchResult, SourceHealth

__all__ = ["DigestRecord", "SearchHit", "SearchQuery", "SearchResult", "SourceHealth", "Store"]
